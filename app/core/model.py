"""The content model: packs, red flags, scenarios, lessons and tracks as plain values."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

DEFAULT_ASSISTANT = "AI assistant"
DEFAULT_PASS_MARK = 0.8
CORE_PACK_ID = "core"


class Decision(StrEnum):
    """What a trainee (or the answer key) does with a suggestion."""

    ACCEPT = "accept"
    REVISE = "revise"
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class Pack:
    """A content pack: a folder of scenarios, lessons, tracks and assets."""

    id: str
    root: Path
    title: str = ""
    version: str = ""
    author: str = ""
    license: str = ""
    description: str = ""


@dataclass(frozen=True, slots=True)
class RedFlag:
    """One entry of the shared red-flag catalogue."""

    id: str
    title: str
    question: str
    description: str
    pack_id: str
    lesson: str | None = None


@dataclass(frozen=True, slots=True)
class Revision:
    """An amended version of a suggestion; exactly one per step is the safe one."""

    text: str
    correct: bool = False


@dataclass(frozen=True, slots=True)
class Check:
    """A costed verification a trainee may make before deciding (content extension)."""

    label: str
    minutes: int
    reveals: str


@dataclass(frozen=True, slots=True)
class Step:
    """One decision point of a scenario, with its prose sections."""

    id: str
    answer: Decision
    suggestion: str
    if_accepted: str
    if_rejected: str
    flags: tuple[str, ...] = ()
    decoys: tuple[str, ...] = ()
    revisions: tuple[Revision, ...] = ()
    if_revised: str | None = None
    checks: tuple[Check, ...] = ()

    @property
    def correct_revision_index(self) -> int | None:
        """Index (in file order) of the revision marked correct, if any."""
        for index, revision in enumerate(self.revisions):
            if revision.correct:
                return index
        return None

    @property
    def is_harmful(self) -> bool:
        """True when applying the suggestion as it stands would do harm."""
        return self.answer is not Decision.ACCEPT


@dataclass(frozen=True, slots=True)
class SourceRef:
    """A real incident, advisory or study a scenario is modelled on."""

    title: str
    url: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Scenario:
    """An incident-style situation in which an AI proposes changes step by step."""

    id: str
    title: str
    summary: str
    difficulty: int
    situation: str
    debrief: str
    steps: tuple[Step, ...]
    pack_id: str
    path: Path
    minutes: int | None = None
    assistant: str = DEFAULT_ASSISTANT
    lessons: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    version: int = 1
    based_on: tuple[SourceRef, ...] = ()

    def step(self, step_id: str) -> Step:
        """The step with this id; raises KeyError when there is none."""
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)


@dataclass(frozen=True, slots=True)
class Lesson:
    """A short Markdown lesson."""

    id: str
    title: str
    summary: str
    body: str
    pack_id: str
    path: Path
    order: int | None = None
    minutes: int | None = None
    flags: tuple[str, ...] = ()


class TrackItemKind(StrEnum):
    """What a track item points at."""

    LESSON = "lesson"
    SCENARIO = "scenario"


@dataclass(frozen=True, slots=True)
class TrackItem:
    """One entry of a track: a lesson or a scenario, by id."""

    kind: TrackItemKind
    ref: str


@dataclass(frozen=True, slots=True)
class Track:
    """A curriculum with a completion rule."""

    id: str
    title: str
    summary: str
    items: tuple[TrackItem, ...]
    pack_id: str
    path: Path
    pass_mark: float = DEFAULT_PASS_MARK

    @property
    def scenario_ids(self) -> tuple[str, ...]:
        """The ids of the scenarios in this track, in order."""
        return tuple(i.ref for i in self.items if i.kind is TrackItemKind.SCENARIO)

    @property
    def lesson_ids(self) -> tuple[str, ...]:
        """The ids of the lessons in this track, in order."""
        return tuple(i.ref for i in self.items if i.kind is TrackItemKind.LESSON)


@dataclass(frozen=True, slots=True)
class ContentProblem:
    """Something wrong with a content file, reported as ``path:line: message``."""

    path: Path
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else f"{self.path}"
        return f"{where}: {self.message}"


@dataclass(slots=True)
class ContentLibrary:
    """Everything loaded from all packs, keyed by id, in a stable order."""

    packs: dict[str, Pack] = field(default_factory=dict)
    red_flags: dict[str, RedFlag] = field(default_factory=dict)
    scenarios: dict[str, Scenario] = field(default_factory=dict)
    lessons: dict[str, Lesson] = field(default_factory=dict)
    tracks: dict[str, Track] = field(default_factory=dict)
    problems: list[ContentProblem] = field(default_factory=list)

    def pack_root(self, pack_id: str) -> Path:
        """The folder of the pack with this id."""
        return self.packs[pack_id].root

    def ordered_lessons(self) -> list[Lesson]:
        """Lessons by their ``order`` (unordered ones last), then by title."""
        return sorted(
            self.lessons.values(),
            key=lambda lesson: (lesson.order is None, lesson.order or 0, lesson.title),
        )
