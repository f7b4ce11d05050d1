"""Item models and text for the manager views, the trainee's assignments and the PDF report.

Completion records, cohorts, audit events, answers and assignments come from the service
layer as plain values; these models only say how they show. Overdue rows carry a word and
an icon as well as a colour, so that nothing is told by colour alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractListModel,
    QAbstractTableModel,
    QCoreApplication,
    QObject,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QFont, QIcon
from PySide6.QtWidgets import QApplication, QStyle

from app.core.completion import CompletionStatus
from app.core.records import AnswerRecord, Profile
from app.services.completion import CompletionRecord
from app.services.history import EventKind, ManagerEvent
from app.services.manager import Cohort, CohortTrack
from app.services.training import Assignment
from app.ui.models import ID_ROLE, ROOT, ROW_ROLE, ModelIndex, SimpleListModel, profile_text
from app.ui.style import LIGHT

# Sorting by the raw value (a number or a time), not by the text shown.
SORT_ROLE = Qt.ItemDataRole.UserRole + 10
# Filter value for rows whose due date has passed.
OVERDUE_FILTER = "overdue"
OVERDUE_MARK = "⚠"

STATUS_LABELS: dict[CompletionStatus, object] = {
    CompletionStatus.NOT_STARTED: QT_TRANSLATE_NOOP("CompletionStatus", "Not started"),
    CompletionStatus.IN_PROGRESS: QT_TRANSLATE_NOOP("CompletionStatus", "In progress"),
    CompletionStatus.COMPLETED: QT_TRANSLATE_NOOP("CompletionStatus", "Completed"),
    CompletionStatus.PASSED: QT_TRANSLATE_NOOP("CompletionStatus", "Passed"),
    CompletionStatus.FAILED: QT_TRANSLATE_NOOP("CompletionStatus", "Failed"),
    CompletionStatus.WAIVED: QT_TRANSLATE_NOOP("CompletionStatus", "Waived"),
}

EVENT_LABELS: dict[EventKind, object] = {
    EventKind.WAIVE: QT_TRANSLATE_NOOP("EventKind", "Waived"),
    EventKind.RESET: QT_TRANSLATE_NOOP("EventKind", "Reset"),
    EventKind.CORRECT: QT_TRANSLATE_NOOP("EventKind", "Answer voided"),
}


def status_label(status: CompletionStatus) -> str:
    """The status as a person reads it ("In progress")."""
    return QCoreApplication.translate("CompletionStatus", str(STATUS_LABELS[status]))


def event_label(kind: EventKind) -> str:
    """What a manager event did, in words."""
    return QCoreApplication.translate("EventKind", str(EVENT_LABELS[kind]))


def _utc(moment: datetime) -> datetime:
    if moment.utcoffset() is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def date_text(moment: datetime | None) -> str:
    """``2026-11-24`` (in UTC); empty when there is none."""
    return "" if moment is None else _utc(moment).strftime("%Y-%m-%d")


def time_text(moment: datetime | None) -> str:
    """``2026-11-24 09:15 UTC``; empty when there is none."""
    return "" if moment is None else _utc(moment).strftime("%Y-%m-%d %H:%M UTC")


def percent_text(value: float | None) -> str:
    """A rate or score as a whole percentage (``"75 %"``); empty when there is none."""
    return "" if value is None else f"{round(value * 100)} %"


def warning_icon() -> QIcon:
    """The standard warning icon, shown next to the word "Overdue"."""
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
    return QIcon()


def _bold(font: QFont | None = None) -> QFont:
    bold = QFont(font) if font is not None else QFont()
    bold.setBold(True)
    return bold


class CompletionTableModel(QAbstractTableModel):
    """One row per trainee and track: the completion records a manager filters and exports."""

    TRAINEE, TEAM, COHORT, TRACK, STATUS, SCORE = range(6)
    OVER_TRUST, UNDER_TRUST, COMPLETED, DUE, CERTIFICATE = range(6, 11)
    COLUMN_COUNT = 11

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._records: list[CompletionRecord] = []
        self._headers = (
            self.tr("Trainee"),
            self.tr("Team"),
            self.tr("Cohort"),
            self.tr("Track"),
            self.tr("Status"),
            self.tr("Score"),
            self.tr("Over-trust"),
            self.tr("Under-trust"),
            self.tr("Completed"),
            self.tr("Due"),
            self.tr("Certificate"),
        )

    def set_records(self, records: Iterable[CompletionRecord]) -> None:
        """Replace every row."""
        self.beginResetModel()
        self._records = list(records)
        self.endResetModel()

    def records(self) -> list[CompletionRecord]:
        """Every record, in the order given."""
        return list(self._records)

    def record(self, row: int) -> CompletionRecord:
        """The record at ``row``."""
        return self._records[row]

    def rowCount(self, parent: ModelIndex = ROOT) -> int:
        return 0 if parent.isValid() else len(self._records)

    def columnCount(self, parent: ModelIndex = ROOT) -> int:
        return 0 if parent.isValid() else self.COLUMN_COUNT

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._headers[section]
        return None

    def status_text(self, record: CompletionRecord) -> str:
        """The status, led by the word "Overdue" when the due date has passed."""
        label = status_label(record.status)
        if record.overdue:
            # The row also gets a warning icon and bold text; the word carries the meaning.
            return self.tr("Overdue · {status}").format(status=label)
        return label

    def _text(self, record: CompletionRecord, column: int) -> str:
        if column == self.TRAINEE:
            return record.trainee_name
        if column == self.TEAM:
            return record.trainee_team or ""
        if column == self.COHORT:
            return record.cohort or ""
        if column == self.TRACK:
            return record.track_title
        if column == self.STATUS:
            return self.status_text(record)
        if column == self.SCORE:
            return percent_text(record.score)
        if column == self.OVER_TRUST:
            return percent_text(record.over_trust_rate)
        if column == self.UNDER_TRUST:
            return percent_text(record.under_trust_rate)
        if column == self.COMPLETED:
            return date_text(record.completed_at)
        if column == self.DUE:
            if record.overdue:
                return self.tr("{date} (overdue)").format(date=date_text(record.due_at))
            return date_text(record.due_at)
        return record.certificate_id or ""

    def _sort_key(self, record: CompletionRecord, column: int) -> object:
        if column == self.SCORE:
            return -1.0 if record.score is None else record.score
        if column == self.OVER_TRUST:
            return -1.0 if record.over_trust_rate is None else record.over_trust_rate
        if column == self.UNDER_TRUST:
            return -1.0 if record.under_trust_rate is None else record.under_trust_rate
        if column == self.COMPLETED:
            return time_text(record.completed_at)
        if column == self.DUE:
            return time_text(record.due_at)
        if column == self.STATUS:
            return f"{0 if record.overdue else 1}{self._text(record, column)}"
        return self._text(record, column).casefold()

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._records):
            return None
        record = self._records[index.row()]
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._text(record, column)
        if role == SORT_ROLE:
            return self._sort_key(record, column)
        if role == ROW_ROLE:
            return record
        if role == ID_ROLE:
            return record.trainee_uid
        if role == Qt.ItemDataRole.ToolTipRole and column == self.STATUS and record.overdue:
            return self.tr("Overdue since {date}").format(date=date_text(record.due_at))
        if role == Qt.ItemDataRole.ToolTipRole and column == self.TRACK:
            return record.track_id
        if record.overdue:
            if role == Qt.ItemDataRole.DecorationRole and column == self.STATUS:
                return warning_icon()
            if role == Qt.ItemDataRole.FontRole:
                return _bold()
            if role == Qt.ItemDataRole.BackgroundRole:
                return QBrush(QColor(LIGHT.caution_soft))
            if role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(QColor(LIGHT.text))
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (
            self.SCORE,
            self.OVER_TRUST,
            self.UNDER_TRUST,
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class CompletionFilter(QSortFilterProxyModel):
    """Narrows the completion table to one track and one status (or the overdue rows)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._track: str | None = None
        self._status: str | None = None
        self.setSortRole(SORT_ROLE)

    def set_track(self, track_id: str | None) -> None:
        """Only this track's rows (``None``: every track)."""
        self.beginFilterChange()
        self._track = track_id
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_status(self, status: str | None) -> None:
        """Only rows with this status value, or :data:`OVERDUE_FILTER`; ``None``: all."""
        self.beginFilterChange()
        self._status = status
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, _source_parent: ModelIndex) -> bool:
        model = self.sourceModel()
        if not isinstance(model, CompletionTableModel):
            return True
        record = model.record(source_row)
        if self._track is not None and record.track_id != self._track:
            return False
        if self._status == OVERDUE_FILTER:
            return record.overdue
        return self._status is None or record.status.value == self._status

    def visible_records(self) -> list[CompletionRecord]:
        """The records shown, in the order shown."""
        rows = []
        for row in range(self.rowCount()):
            value = self.index(row, 0).data(ROW_ROLE)
            if isinstance(value, CompletionRecord):
                rows.append(value)
        return rows


class EventTableModel(QAbstractTableModel):
    """A trainee's audit events: when, who, what, which track, why."""

    WHEN, WHO, WHAT, TRACK, REASON = range(5)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._events: list[ManagerEvent] = []
        self._track_titles: dict[str, str] = {}
        self._headers = (
            self.tr("When"),
            self.tr("Who"),
            self.tr("What"),
            self.tr("Track or answer"),
            self.tr("Reason"),
        )

    def set_events(
        self, events: Iterable[ManagerEvent], track_titles: dict[str, str] | None = None
    ) -> None:
        """Replace every row (newest first)."""
        self.beginResetModel()
        self._events = sorted(events, key=lambda e: e.created_at, reverse=True)
        self._track_titles = dict(track_titles or {})
        self.endResetModel()

    def events(self) -> list[ManagerEvent]:
        """The events shown, newest first."""
        return list(self._events)

    def rowCount(self, parent: ModelIndex = ROOT) -> int:
        return 0 if parent.isValid() else len(self._events)

    def columnCount(self, parent: ModelIndex = ROOT) -> int:
        return 0 if parent.isValid() else len(self._headers)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._headers[section]
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._events):
            return None
        event = self._events[index.row()]
        if role == ROW_ROLE:
            return event
        if role not in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.AccessibleTextRole,
            Qt.ItemDataRole.ToolTipRole,
        ):
            return None
        column = index.column()
        if column == self.WHEN:
            return time_text(event.created_at)
        if column == self.WHO:
            return event.actor
        if column == self.WHAT:
            return event_label(event.kind)
        if column == self.TRACK:
            if event.voided_attempt_id is not None:
                return event.voided_attempt_id
            track = event.track_id or ""
            return self._track_titles.get(track, track)
        return event.reason


@dataclass(frozen=True, slots=True)
class AnswerRow:
    """One of a trainee's answers, offered for a correction."""

    answer: AnswerRecord
    scenario_title: str
    voided: bool


class AnswerListModel(SimpleListModel):
    """A trainee's answers, newest first, with voided ones marked."""

    def display(self, item: object) -> str:
        assert isinstance(item, AnswerRow)
        answer = item.answer
        verdict = self.tr("right") if answer.correct else self.tr("wrong")
        text = self.tr("{when} · {scenario} · step {step} · {decision} ({verdict})").format(
            when=time_text(answer.answered_at),
            scenario=item.scenario_title,
            step=answer.step_id,
            decision=answer.decision.value,
            verdict=verdict,
        )
        return self.tr("{text} · voided").format(text=text) if item.voided else text

    def tooltip(self, item: object) -> str | None:
        assert isinstance(item, AnswerRow)
        return self.tr("Answer id {id}").format(id=item.answer.attempt_id)

    def identifier(self, item: object) -> object:
        assert isinstance(item, AnswerRow)
        return item.answer.attempt_id


class CohortListModel(SimpleListModel):
    """Cohorts with their size, tracks and due date; archived ones say so."""

    def display(self, item: object) -> str:
        assert isinstance(item, Cohort)
        parts = [
            item.name,
            self.tr("{count} member(s)").format(count=len(item.members)),
            self.tr("{count} track(s)").format(count=len(item.tracks)),
        ]
        if item.due_at is not None:
            parts.append(self.tr("due {date}").format(date=date_text(item.due_at)))
        if item.archived_at is not None:
            parts.append(self.tr("archived {date}").format(date=date_text(item.archived_at)))
        return " · ".join(parts)

    def identifier(self, item: object) -> object:
        assert isinstance(item, Cohort)
        return item.name


class CohortTrackListModel(SimpleListModel):
    """A cohort's assigned tracks with their due dates."""

    def display(self, item: object) -> str:
        assert isinstance(item, CohortTrack)
        if item.due_at is None:
            return self.tr("{title} · no due date").format(title=item.title)
        return self.tr("{title} · due {date}").format(title=item.title, date=date_text(item.due_at))

    def identifier(self, item: object) -> object:
        assert isinstance(item, CohortTrack)
        return item.track_id


class ProfileChoiceModel(QAbstractListModel):
    """Profiles with a check box each, for choosing a cohort's members."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._profiles: list[Profile] = []
        self._checked: set[int] = set()

    def set_profiles(self, profiles: Sequence[Profile], checked: Iterable[int]) -> None:
        """Offer ``profiles``, ticking those whose id is in ``checked``."""
        self.beginResetModel()
        self._profiles = list(profiles)
        self._checked = set(checked)
        self.endResetModel()

    def checked_profiles(self) -> list[Profile]:
        """The ticked profiles, in list order."""
        return [p for p in self._profiles if p.id in self._checked]

    def profiles(self) -> list[Profile]:
        """Every profile offered."""
        return list(self._profiles)

    def set_checked(self, profile_id: int, checked: bool) -> None:
        """Tick or untick one profile."""
        for row, profile in enumerate(self._profiles):
            if profile.id == profile_id:
                self.setData(
                    self.index(row),
                    Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked,
                    Qt.ItemDataRole.CheckStateRole,
                )

    def rowCount(self, parent: ModelIndex = ROOT) -> int:
        return 0 if parent.isValid() else len(self._profiles)

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsUserCheckable if index.isValid() else base

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._profiles):
            return None
        profile = self._profiles[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return profile_text(profile)
        if role == Qt.ItemDataRole.CheckStateRole:
            return Qt.CheckState.Checked if profile.id in self._checked else Qt.CheckState.Unchecked
        if role == ID_ROLE:
            return profile.id
        return None

    def setData(
        self, index: ModelIndex, value: object, role: int = Qt.ItemDataRole.EditRole
    ) -> bool:
        if role != Qt.ItemDataRole.CheckStateRole or not index.isValid():
            return False
        profile = self._profiles[index.row()]
        state = Qt.CheckState(value) if isinstance(value, int) else value
        if state == Qt.CheckState.Checked:
            self._checked.add(profile.id)
        else:
            self._checked.discard(profile.id)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.CheckStateRole])
        return True


class AssignmentListModel(SimpleListModel):
    """The trainee's assigned tracks with their due dates; overdue ones stand out."""

    def display(self, item: object) -> str:
        assert isinstance(item, Assignment)
        status = status_label(item.status)
        if item.overdue:
            # With a warning icon and bold text (see ``data``).
            return self.tr("Overdue since {date}: {title} · {status}").format(
                date=date_text(item.due_at),
                title=item.track_title,
                status=status,
            )
        if item.due_at is not None:
            return self.tr("{title} · due {date} · {status}").format(
                title=item.track_title, date=date_text(item.due_at), status=status
            )
        return self.tr("{title} · no due date · {status}").format(
            title=item.track_title, status=status
        )

    def tooltip(self, item: object) -> str | None:
        assert isinstance(item, Assignment)
        return self.tr("Assigned by the cohort {cohort}").format(cohort=item.cohort_name)

    def identifier(self, item: object) -> object:
        assert isinstance(item, Assignment)
        return item.track_id

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if index.isValid() and 0 <= index.row() < len(self._items):
            item = self._items[index.row()]
            if isinstance(item, Assignment) and item.overdue:
                if role == Qt.ItemDataRole.DecorationRole:
                    return warning_icon()
                if role == Qt.ItemDataRole.FontRole:
                    return _bold()
        return super().data(index, role)
