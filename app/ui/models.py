"""Qt item models over plain Python rows: the catalogue, lessons, profiles, problems, flags.

The rows are built from core objects by plain functions, so what a view shows can be
tested without a window, and the models only adapt them. Their words go through Qt's
translation functions (context "Models").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractListModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QFont

from app.core.model import ContentLibrary, ContentProblem, Lesson, RedFlag, Scenario
from app.core.records import Profile, TraineeProgress
from app.ui.i18n import QT_TRANSLATE_NOOP

translate = QCoreApplication.translate

ModelIndex = QModelIndex | QPersistentModelIndex
# The invalid index Qt uses for "the root"; shared as a default argument.
ROOT = QModelIndex()

ID_ROLE = Qt.ItemDataRole.UserRole + 1
ROW_ROLE = Qt.ItemDataRole.UserRole + 2

OTHER_DOMAIN = "other"
# The domain tags every scenario carries one of, in the order the catalogue shows them
# (source strings: ``domain_name`` translates them).
DOMAINS: dict[str, str] = {
    "shell-files": QT_TRANSLATE_NOOP("Models", "Shell and files"),
    "source-control": QT_TRANSLATE_NOOP("Models", "Source control"),
    "cloud-iam": QT_TRANSLATE_NOOP("Models", "Cloud and IAM"),
    "ci-cd-supply-chain": QT_TRANSLATE_NOOP("Models", "CI/CD and supply chain"),
    "databases": QT_TRANSLATE_NOOP("Models", "Databases"),
    "web-security": QT_TRANSLATE_NOOP("Models", "Web security"),
    "agents-tools": QT_TRANSLATE_NOOP("Models", "Agents and tools"),
    "data-platforms": QT_TRANSLATE_NOOP("Models", "Data platforms"),
    "production-ops": QT_TRANSLATE_NOOP("Models", "Production operations"),
    OTHER_DOMAIN: QT_TRANSLATE_NOOP("Models", "Other"),
}

# Source strings: ``difficulty_name`` translates them.
DIFFICULTY_NAMES = {
    1: QT_TRANSLATE_NOOP("Models", "New hire"),
    2: QT_TRANSLATE_NOOP("Models", "Working engineer"),
    3: QT_TRANSLATE_NOOP("Models", "Expert"),
}

COLUMN_TITLES = (
    QT_TRANSLATE_NOOP("Models", "Scenario"),
    QT_TRANSLATE_NOOP("Models", "Difficulty"),
    QT_TRANSLATE_NOOP("Models", "Progress"),
)

DONE_MARK = "✓"


def domain_of(scenario: Scenario) -> str:
    """The scenario's domain tag, or ``"other"`` when it carries none of the known ones."""
    for tag in scenario.tags:
        if tag in DOMAINS and tag != OTHER_DOMAIN:
            return tag
    return OTHER_DOMAIN


def domain_name(tag: str) -> str:
    """The translated name of a domain tag (its tag when it is not a known one)."""
    name = DOMAINS.get(tag)
    return translate("Models", name) if name is not None else tag


def difficulty_name(difficulty: int) -> str:
    """``"Working engineer"`` for 2, translated; the number for an unknown level."""
    name = DIFFICULTY_NAMES.get(difficulty)
    return translate("Models", name) if name is not None else str(difficulty)


def format_score(score: float | None) -> str:
    """A score as a whole percentage, e.g. ``"75 %"``; empty when there is none."""
    return "" if score is None else f"{round(score * 100)} %"


def difficulty_text(difficulty: int) -> str:
    """``"2 · Working engineer"`` for a difficulty level."""
    if difficulty not in DIFFICULTY_NAMES:
        return str(difficulty)
    return f"{difficulty} · {difficulty_name(difficulty)}"


def catalogue_order(library: ContentLibrary) -> list[str]:
    """Scenario ids in the order the catalogue lists them: by domain, then as loaded."""
    rank = {domain: position for position, domain in enumerate(DOMAINS)}
    scenarios = list(library.scenarios.values())
    return [s.id for s in sorted(scenarios, key=lambda s: rank[domain_of(s)])]


@dataclass(frozen=True, slots=True)
class ScenarioRow:
    """One line of the scenario catalogue."""

    scenario_id: str
    title: str
    summary: str
    difficulty: int
    domain: str
    lessons: tuple[str, ...]
    flags: tuple[str, ...]
    done: bool
    best_score: float | None

    @property
    def status_text(self) -> str:
        """``"✓ done · 100 %"`` once played, ``"not started"`` before."""
        if not self.done:
            return translate("Models", "not started")
        score = format_score(self.best_score)
        done = translate("Models", "done")
        return f"{DONE_MARK} {done} · {score}" if score else f"{DONE_MARK} {done}"


def catalogue_rows(library: ContentLibrary, progress: TraineeProgress | None) -> list[ScenarioRow]:
    """One row per scenario of ``library``, marked with ``progress``."""
    rows = []
    for scenario in library.scenarios.values():
        state = progress.scenarios.get(scenario.id) if progress is not None else None
        flags: list[str] = []
        for step in scenario.steps:
            flags.extend(f for f in step.flags if f not in flags)
        rows.append(
            ScenarioRow(
                scenario_id=scenario.id,
                title=scenario.title,
                summary=scenario.summary,
                difficulty=scenario.difficulty,
                domain=domain_of(scenario),
                lessons=scenario.lessons,
                flags=tuple(flags),
                done=state is not None and state.done,
                best_score=state.best_score if state is not None else None,
            )
        )
    return rows


class CatalogueModel(QAbstractItemModel):
    """The scenario catalogue as a two-level tree: domains, then their scenarios.

    Group rows carry no id; scenario rows give their id under ``ID_ROLE`` and the whole
    ``ScenarioRow`` under ``ROW_ROLE``.
    """

    COLUMNS = COLUMN_TITLES
    TITLE, DIFFICULTY, PROGRESS = range(3)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._groups: list[tuple[str, list[ScenarioRow]]] = []

    def set_rows(self, rows: Iterable[ScenarioRow]) -> None:
        """Replace every row, grouped by domain in the fixed domain order."""
        grouped: dict[str, list[ScenarioRow]] = {}
        for row in rows:
            grouped.setdefault(row.domain, []).append(row)
        self.beginResetModel()
        self._groups = [(domain, grouped[domain]) for domain in DOMAINS if domain in grouped]
        self.endResetModel()

    def scenario_rows(self) -> list[ScenarioRow]:
        """Every scenario row, in display order."""
        return [row for _, rows in self._groups for row in rows]

    def index_of(self, scenario_id: str) -> QModelIndex:
        """The index of a scenario's first column, invalid when it is not listed."""
        for group_number, (_, rows) in enumerate(self._groups):
            for row_number, row in enumerate(rows):
                if row.scenario_id == scenario_id:
                    return self.createIndex(row_number, 0, group_number + 1)
        return QModelIndex()

    # Internal ids: 0 marks a group row; a scenario row stores its group's number + 1.
    def index(self, row: int, column: int, parent: ModelIndex = ROOT) -> QModelIndex:
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, 0)
        return self.createIndex(row, column, parent.row() + 1)

    def parent(self, child: ModelIndex = ROOT) -> QModelIndex:  # type: ignore[override]
        if not child.isValid():
            return QModelIndex()
        group = child.internalId()
        if group == 0 or group > len(self._groups):
            return QModelIndex()
        return self.createIndex(group - 1, 0, 0)

    def rowCount(self, parent: ModelIndex = ROOT) -> int:
        if not parent.isValid():
            return len(self._groups)
        if parent.internalId() == 0 and parent.column() == 0:
            return len(self._groups[parent.row()][1])
        return 0

    def columnCount(self, _parent: ModelIndex = ROOT) -> int:
        return len(self.COLUMNS)

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return translate("Models", self.COLUMNS[section])
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        group = index.internalId()
        if group == 0:
            return self._group_data(index, role)
        row = self._groups[group - 1][1][index.row()]
        if role == ROW_ROLE:
            return row
        if role == ID_ROLE:
            return row.scenario_id
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            column = index.column()
            if column == self.TITLE:
                return row.title
            if column == self.DIFFICULTY:
                return difficulty_text(row.difficulty)
            return row.status_text
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.summary
        return None

    def _group_data(self, index: ModelIndex, role: int) -> object:
        domain, rows = self._groups[index.row()]
        if role == Qt.ItemDataRole.FontRole:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.DisplayRole and index.column() == self.TITLE:
            return f"{domain_name(domain)} ({len(rows)})"
        if role == Qt.ItemDataRole.DisplayRole and index.column() == self.PROGRESS:
            done = sum(row.done for row in rows)
            return translate("Models", "{done} of {total} done").format(done=done, total=len(rows))
        if role == ID_ROLE:
            return None
        return None


class CatalogueFilter(QSortFilterProxyModel):
    """Filters the catalogue by difficulty, red flag and lesson; groups follow their rows."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._difficulty: int | None = None
        self._flag: str | None = None
        self._lesson: str | None = None
        # A group row is shown exactly when one of its scenarios passes.
        self.setRecursiveFilteringEnabled(True)

    @property
    def difficulty(self) -> int | None:
        """The difficulty shown, or ``None`` for all."""
        return self._difficulty

    def set_difficulty(self, difficulty: int | None) -> None:
        """Show only scenarios of this difficulty (``None``: all)."""
        self.beginFilterChange()
        self._difficulty = difficulty
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_flag(self, flag_id: str | None) -> None:
        """Show only scenarios where this red flag is present (``None``: all)."""
        self.beginFilterChange()
        self._flag = flag_id
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_lesson(self, lesson_id: str | None) -> None:
        """Show only scenarios that practise this lesson (``None``: all)."""
        self.beginFilterChange()
        self._lesson = lesson_id
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: ModelIndex) -> bool:
        if not source_parent.isValid():
            return False
        source = self.sourceModel()
        row = source.data(source.index(source_row, 0, source_parent), ROW_ROLE)
        if not isinstance(row, ScenarioRow):
            return False
        if self._difficulty is not None and row.difficulty != self._difficulty:
            return False
        if self._flag is not None and self._flag not in row.flags:
            return False
        return self._lesson is None or self._lesson in row.lessons


class SimpleListModel(QAbstractListModel):
    """A read-only list model over Python objects; subclasses say how each one shows."""

    def __init__(self, items: Sequence[object] = (), parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._items: list[object] = list(items)

    def set_items(self, items: Iterable[object]) -> None:
        """Replace every row."""
        self.beginResetModel()
        self._items = list(items)
        self.endResetModel()

    def item(self, row: int) -> object:
        """The object at ``row``."""
        return self._items[row]

    def items(self) -> list[object]:
        """All objects, in order."""
        return list(self._items)

    def rowCount(self, parent: ModelIndex = ROOT) -> int:
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        item = self._items[index.row()]
        if role == ROW_ROLE:
            return item
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return self.display(item)
        if role == Qt.ItemDataRole.DisplayRole:
            return self.display(item)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip(item)
        if role == ID_ROLE:
            return self.identifier(item)
        return None

    def display(self, item: object) -> str:
        """The text shown for ``item``."""
        return str(item)

    def tooltip(self, _item: object) -> str | None:
        """A tooltip for an item; none by default."""
        return None

    def identifier(self, _item: object) -> object:
        """A stable key for an item (``ID_ROLE``); none by default."""
        return None


@dataclass(frozen=True, slots=True)
class LessonRow:
    """One line of the lesson list."""

    lesson_id: str
    title: str
    summary: str
    minutes: int | None
    read: bool

    @property
    def text(self) -> str:
        """``"✓ Title · read"`` or ``"Title · 5 min"``."""
        if self.read:
            return f"{DONE_MARK} " + translate("Models", "{title} · read").format(title=self.title)
        if self.minutes:
            return translate("Models", "{title} · {minutes} min").format(
                title=self.title, minutes=self.minutes
            )
        return self.title


def lesson_rows(lessons: Iterable[Lesson], read: Iterable[str]) -> list[LessonRow]:
    """Rows for ``lessons`` in the given order, marked read where their id is in ``read``."""
    read_ids = set(read)
    return [
        LessonRow(lesson.id, lesson.title, lesson.summary, lesson.minutes, lesson.id in read_ids)
        for lesson in lessons
    ]


class LessonListModel(SimpleListModel):
    """Lessons with a read mark."""

    def display(self, item: object) -> str:
        assert isinstance(item, LessonRow)
        return item.text

    def tooltip(self, item: object) -> str | None:
        assert isinstance(item, LessonRow)
        return item.summary

    def identifier(self, item: object) -> object:
        assert isinstance(item, LessonRow)
        return item.lesson_id


def profile_text(profile: Profile) -> str:
    """``"Ada Example · Platform · ada@example.org"``, leaving out what is not given."""
    return " · ".join(p for p in (profile.display_name, profile.team, profile.email_or_id) if p)


class ProfileListModel(SimpleListModel):
    """Trainee profiles on this machine."""

    def display(self, item: object) -> str:
        assert isinstance(item, Profile)
        return profile_text(item)

    def identifier(self, item: object) -> object:
        assert isinstance(item, Profile)
        return item.id

    def row_of(self, profile_id: int) -> int | None:
        """The row of the profile with this id."""
        for row, item in enumerate(self._items):
            if isinstance(item, Profile) and item.id == profile_id:
                return row
        return None


class ProblemListModel(SimpleListModel):
    """Content problems as ``path:line: message``."""

    def display(self, item: object) -> str:
        assert isinstance(item, ContentProblem)
        return str(item)


@dataclass(frozen=True, slots=True)
class ReviewRow:
    """One due review item on the home page and the scenario chosen to practise it.

    ``flag_title`` is ``None`` for a good suggestion the trainee blocked.
    """

    key: str
    flag_title: str | None
    scenario_id: str
    scenario_title: str
    due: datetime


class ReviewListModel(SimpleListModel):
    """Due review items: what to practise, and in which scenario."""

    def display(self, item: object) -> str:
        assert isinstance(item, ReviewRow)
        what = item.flag_title or self.tr("Good advice you blocked")
        return self.tr("{what} · practise with: {scenario}").format(
            what=what, scenario=item.scenario_title
        )

    def tooltip(self, item: object) -> str | None:
        assert isinstance(item, ReviewRow)
        return self.tr("Due since {date}").format(date=item.due.strftime("%Y-%m-%d %H:%M UTC"))

    def identifier(self, item: object) -> object:
        assert isinstance(item, ReviewRow)
        return item.scenario_id


@dataclass(frozen=True, slots=True)
class FlagChoice:
    """A red flag offered in the player: a true flag of the step or a decoy."""

    flag_id: str
    title: str
    question: str

    @property
    def text(self) -> str:
        """Title and question on two lines."""
        return f"{self.title}\n{self.question}"


def flag_choices(flag_ids: Iterable[str], catalogue: Mapping[str, RedFlag]) -> list[FlagChoice]:
    """Choices for ``flag_ids`` in the given order, titled from the catalogue."""
    choices = []
    for flag_id in flag_ids:
        flag = catalogue.get(flag_id)
        if flag is None:
            choices.append(FlagChoice(flag_id, flag_id.replace("-", " ").capitalize(), ""))
        else:
            choices.append(FlagChoice(flag_id, flag.title, flag.question))
    return choices
