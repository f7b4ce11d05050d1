"""The shape of each content file, as strict pydantic models.

Every model forbids unknown keys (so a typo cannot hide a field) and uses strict types
(so YAML's guesses, such as ``no`` becoming false or ``2024-01-01`` becoming a date, are
errors to fix rather than values silently changed). Rules that span several fields live
in ``app.content.parsing``, where each gets its own message.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)
from pydantic_core import PydanticCustomError

from app.core.model import DEFAULT_ASSISTANT, DEFAULT_PASS_MARK

ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
ID_MAX_LENGTH = 64
TITLE_MAX_LENGTH = 100
SUMMARY_MAX_LENGTH = 200
DIFFICULTY_MIN = 1
DIFFICULTY_MAX = 3
WEB_SCHEMES = frozenset({"https", "http"})


def _not_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("blank_text", "must not be empty")
    return value


def _web_address(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme.lower() not in WEB_SCHEMES or not parts.netloc:
        raise PydanticCustomError("web_url", "must be a web address starting with https://")
    return value


Identifier = Annotated[str, Field(pattern=ID_PATTERN, max_length=ID_MAX_LENGTH)]
Text = Annotated[str, AfterValidator(_not_blank)]
WebUrl = Annotated[str, AfterValidator(_web_address)]
Minutes = Annotated[int, Field(ge=0)]
Title = Annotated[str, StringConstraints(max_length=TITLE_MAX_LENGTH), AfterValidator(_not_blank)]
Summary = Annotated[
    str, StringConstraints(max_length=SUMMARY_MAX_LENGTH), AfterValidator(_not_blank)
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class RevisionModel(_Strict):
    """An amended version of a suggestion."""

    text: Text
    correct: bool = False


class CheckModel(_Strict):
    """A costed verification the trainee may make (content extension)."""

    label: Text
    minutes: Minutes
    reveals: Text


class StepModel(_Strict):
    """One decision point in a scenario's front matter."""

    id: Identifier
    answer: Literal["accept", "reject", "revise"]
    flags: list[Identifier] = Field(default_factory=list)
    decoys: list[Identifier] = Field(default_factory=list)
    revisions: list[RevisionModel] = Field(default_factory=list)
    checks: list[CheckModel] = Field(default_factory=list)


class SourceModel(_Strict):
    """A real incident or study a scenario is modelled on."""

    title: Text
    url: WebUrl | None = None
    note: Text | None = None


class ScenarioModel(_Strict):
    """The front matter of a scenario file."""

    id: Identifier
    title: Title
    summary: Summary
    difficulty: Annotated[int, Field(ge=DIFFICULTY_MIN, le=DIFFICULTY_MAX)]
    minutes: Minutes | None = None
    assistant: Text = DEFAULT_ASSISTANT
    lessons: list[Identifier] = Field(default_factory=list)
    tags: list[Text] = Field(default_factory=list)
    version: Annotated[int, Field(ge=1)] = 1
    based_on: list[SourceModel] = Field(default_factory=list)
    steps: Annotated[list[StepModel], Field(min_length=1)]


class LessonModel(_Strict):
    """The front matter of a lesson file."""

    id: Identifier
    title: Text
    summary: Text
    order: int | None = None
    minutes: Minutes | None = None
    flags: list[Identifier] = Field(default_factory=list)


class TrackItemModel(_Strict):
    """One entry of a track: ``lesson: ID`` or ``scenario: ID``."""

    lesson: Identifier | None = None
    scenario: Identifier | None = None


class TrackModel(_Strict):
    """A track file."""

    id: Identifier
    title: Text
    summary: Text
    pass_mark: Annotated[float, Field(ge=0.0, le=1.0)] = DEFAULT_PASS_MARK
    items: Annotated[list[TrackItemModel], Field(min_length=1)]


class RedFlagModel(_Strict):
    """One entry of a ``red-flags.yaml`` list."""

    id: Identifier
    title: Text
    question: Text
    description: str = ""
    lesson: Identifier | None = None


class PackModel(_Strict):
    """A ``pack.yaml`` file; every key is optional."""

    id: Identifier | None = None
    title: str = ""
    version: str = ""
    author: str = ""
    license: str = ""
    description: str = ""

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: Any) -> Any:
        # Authors write "version: 1.2"; keep it as the label they meant.
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        return value
