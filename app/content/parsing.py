"""Parsing one content file's text into core model values, or into problems.

Each ``parse_*`` function takes the file's text and never raises for bad content: it
returns a ``Parsed`` holding the value (``None`` when the file must be skipped), the
problems found, and a way to find the file line of any key for later cross-checks.
Checks that need other files (unknown lesson or flag ids, clashes) are the loader's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from app.content.documents import (
    DEBRIEF,
    IF_ACCEPTED,
    IF_REJECTED,
    IF_REVISED,
    SITUATION,
    SUGGESTION,
    Document,
    DocumentError,
    Section,
    normalise_newlines,
    split_front_matter,
    split_sections,
)
from app.content.messages import Location, describe_validation_error
from app.content.schema import (
    LessonModel,
    PackModel,
    RedFlagModel,
    ScenarioModel,
    StepModel,
    TrackModel,
)
from app.content.yamlsafe import YamlError, YamlLocator, load_yaml
from app.core.model import (
    Check,
    ContentProblem,
    Decision,
    Lesson,
    RedFlag,
    Revision,
    Scenario,
    SourceRef,
    Step,
    Track,
    TrackItem,
    TrackItemKind,
)

T = TypeVar("T")


@dataclass(slots=True)
class Parsed(Generic[T]):
    """The outcome of parsing one file."""

    path: Path
    value: T | None
    problems: list[ContentProblem] = field(default_factory=list)
    locate: Callable[[Location], int] = lambda _location: 1

    def problem(self, location: Location, message: str) -> ContentProblem:
        """A problem at the line of ``location`` in this file."""
        return ContentProblem(self.path, message, self.locate(location))


@dataclass(frozen=True, slots=True)
class FlagEntry:
    """A red flag and its index in its file, for locating later problems."""

    index: int
    flag: RedFlag


class _YamlSource:
    """YAML text at a known line of its file; locates keys lazily, only on error."""

    def __init__(self, text: str, first_line: int) -> None:
        self._locator = YamlLocator(text)
        self._first_line = first_line
        self._last_line = first_line + max(text.count("\n") - 1, 0)

    def line(self, location: Location) -> int:
        return self._first_line + self._locator.line(location)

    def error_line(self, error: YamlError) -> int:
        if error.line is None:
            return self._first_line
        return min(self._first_line + error.line, self._last_line)


@dataclass(frozen=True, slots=True)
class _FrontMatter:
    data: dict[str, Any]
    document: Document
    source: _YamlSource


def _fail(path: Path, message: str, line: int) -> Parsed[Any]:
    return Parsed(path, None, [ContentProblem(path, message, line)])


def _front_matter(text: str, path: Path, kind: str) -> _FrontMatter | Parsed[Any]:
    """The front matter as a mapping, its document and a locator; or a failed ``Parsed``."""
    try:
        document = split_front_matter(normalise_newlines(text))
    except DocumentError as error:
        return _fail(path, error.message, error.line)
    source = _YamlSource(document.front_matter, document.front_matter_line)
    try:
        data = load_yaml(document.front_matter)
    except YamlError as error:
        return _fail(path, error.message, source.error_line(error))
    if data is None:
        return _fail(path, f"the front matter is empty; a {kind} needs its keys here", 2)
    if not isinstance(data, dict):
        return _fail(
            path,
            "the front matter must be key: value lines (a YAML mapping), "
            f"not a {type(data).__name__}",
            2,
        )
    return _FrontMatter(data, document, source)


def _validate(
    parsed: Parsed[Any],
    model: type[BaseModel],
    data: Any,
    *,
    element: str | None = None,
    prefix: Location = (),
) -> Any:
    """``model`` validated from ``data``, or ``None`` with problems added to ``parsed``."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        for location, message in describe_validation_error(error, model, data, element=element):
            parsed.problems.append(parsed.problem(prefix + location, message))
        return None


def _check_file_name(parsed: Parsed[Any], identifier: str, suffix: str) -> None:
    if parsed.path.name != identifier + suffix:
        parsed.problems.append(
            parsed.problem(
                ("id",),
                f"id '{identifier}' does not match the file name '{parsed.path.name}'; "
                f"rename the file to '{identifier}{suffix}' or change the id",
            )
        )


def parse_scenario(text: str, path: Path, pack_id: str) -> Parsed[Scenario]:
    """Parse a scenario file: front matter, steps and sections."""
    front = _front_matter(text, path, "scenario")
    if isinstance(front, Parsed):
        return front
    document = front.document
    parsed: Parsed[Scenario] = Parsed(path, None, locate=front.source.line)
    layout = split_sections(document.body, document.body_line)
    model: ScenarioModel | None = _validate(parsed, ScenarioModel, front.data)
    if model is not None:
        _check_file_name(parsed, model.id, ".md")
        _check_steps(parsed, model)
    parsed.problems.extend(ContentProblem(path, p.message, p.line) for p in layout.problems)
    if model is None or parsed.problems:
        return parsed
    last_line = document.body_line + document.body.rstrip("\n").count("\n")
    sections = _assign_sections(parsed, model, layout.sections, document.body_line, last_line)
    if sections is not None:
        parsed.value = _build_scenario(model, sections, pack_id, path)
    return parsed


def _check_steps(parsed: Parsed[Scenario], model: ScenarioModel) -> None:
    seen: dict[str, int] = {}
    for index, step in enumerate(model.steps):
        at: Location = ("steps", index)
        if step.id in seen:
            parsed.problems.append(
                parsed.problem(
                    (*at, "id"),
                    f"step id '{step.id}' is used twice (also step {seen[step.id] + 1}); "
                    "step ids must be unique within a scenario",
                )
            )
        seen.setdefault(step.id, index)
        _check_step(parsed, step, at)


def _check_step(parsed: Parsed[Scenario], step: StepModel, at: Location) -> None:
    name = f"step '{step.id}'"
    if step.answer != "accept" and not step.flags:
        parsed.problems.append(
            parsed.problem(
                (*at, "answer"),
                f"{name} has answer '{step.answer}' but no flags; list the red flags "
                "present in the suggestion under 'flags' (only an accept step may have none)",
            )
        )
    for key, values in (("flags", step.flags), ("decoys", step.decoys)):
        if len(set(values)) == len(values):
            continue
        for flag, count in Counter(values).items():
            if count > 1:
                parsed.problems.append(
                    parsed.problem(
                        (*at, key, values.index(flag)),
                        f"'{flag}' is listed twice in '{key}' of {name}",
                    )
                )
    for position, decoy in enumerate(step.decoys):
        if decoy in step.flags:
            parsed.problems.append(
                parsed.problem(
                    (*at, "decoys", position),
                    f"'{decoy}' is listed in both 'flags' and 'decoys' of {name}; a decoy "
                    "is a plausible flag that is NOT present, so keep it in one list",
                )
            )
    correct = [i for i, revision in enumerate(step.revisions) if revision.correct]
    if step.answer == "revise" and not step.revisions:
        parsed.problems.append(
            parsed.problem(
                (*at, "answer"),
                f"{name} has answer 'revise' but no 'revisions'; add the revisions to "
                "choose from and mark exactly one 'correct: true'",
            )
        )
    elif step.revisions and not correct:
        parsed.problems.append(
            parsed.problem(
                (*at, "revisions"),
                f"no revision of {name} is marked 'correct: true'; exactly one must be",
            )
        )
    for extra in correct[1:]:
        parsed.problems.append(
            parsed.problem(
                (*at, "revisions", extra, "correct"),
                f"more than one revision of {name} is marked 'correct: true' (revisions "
                f"{', '.join(str(i + 1) for i in correct)}); exactly one may be",
            )
        )


def _assign_sections(
    parsed: Parsed[Scenario],
    model: ScenarioModel,
    sections: list[Section],
    body_line: int,
    last_line: int,
) -> dict[tuple[str, str | None], str] | None:
    """Sections keyed by (kind, step id), checked against the steps; None on problems."""
    path = parsed.path
    step_ids = [step.id for step in model.steps]
    single = step_ids[0] if len(step_ids) == 1 else None
    found: dict[tuple[str, str | None], Section] = {}
    problems = parsed.problems
    for section in sections:
        step = section.step
        if section.kind in (SITUATION, DEBRIEF):
            found.setdefault((section.kind, None), section)
            continue
        if step is None:
            if single is None:
                problems.append(
                    ContentProblem(
                        path,
                        f"'## {section.kind}' must name its step in a scenario with several "
                        f"steps, e.g. '## {section.kind} ({step_ids[0]})'",
                        section.line,
                    )
                )
                continue
            step = single
        if step not in step_ids:
            problems.append(
                ContentProblem(
                    path,
                    f"'## {section.kind} ({step})' names no step of this scenario; "
                    f"its steps are: {', '.join(step_ids)}",
                    section.line,
                )
            )
            continue
        if (section.kind, step) in found:
            if section.step != found[(section.kind, step)].step:
                problems.append(
                    ContentProblem(
                        path,
                        f"'## {section.kind}' for step '{step}' appears twice "
                        f"(first at line {found[(section.kind, step)].line}); keep one",
                        section.line,
                    )
                )
            continue
        found[(section.kind, step)] = section
    if problems:
        return None  # a misnamed section also shows up as a missing one; report it once
    if (SITUATION, None) not in found:
        problems.append(
            ContentProblem(
                path, f"missing section '## {SITUATION}'; it must be the first", body_line
            )
        )
    for index, step_model in enumerate(model.steps):
        label = "" if single is not None else f" ({step_model.id})"
        for kind in (SUGGESTION, IF_ACCEPTED, IF_REJECTED):
            if (kind, step_model.id) not in found:
                problems.append(
                    parsed.problem(
                        ("steps", index),
                        f"missing section '## {kind}{label}' for step '{step_model.id}'",
                    )
                )
        revised = found.get((IF_REVISED, step_model.id))
        if step_model.revisions and revised is None:
            problems.append(
                parsed.problem(
                    ("steps", index, "revisions"),
                    f"step '{step_model.id}' has revisions, so it needs a section "
                    f"'## {IF_REVISED}{label}' saying what the correct revision does",
                )
            )
        if revised is not None and not step_model.revisions:
            problems.append(
                ContentProblem(
                    path,
                    f"'## {IF_REVISED}{label}' is for a step with revisions, but step "
                    f"'{step_model.id}' has none; add 'revisions' or remove the section",
                    revised.line,
                )
            )
    if (DEBRIEF, None) not in found:
        problems.append(
            ContentProblem(path, f"missing section '## {DEBRIEF}'; it must be the last", last_line)
        )
    if problems:
        return None
    return {key: section.text for key, section in found.items()}


def _build_scenario(
    model: ScenarioModel,
    sections: dict[tuple[str, str | None], str],
    pack_id: str,
    path: Path,
) -> Scenario:
    steps = tuple(
        Step(
            id=step.id,
            answer=Decision(step.answer),
            suggestion=sections[(SUGGESTION, step.id)],
            if_accepted=sections[(IF_ACCEPTED, step.id)],
            if_rejected=sections[(IF_REJECTED, step.id)],
            flags=tuple(step.flags),
            decoys=tuple(step.decoys),
            revisions=tuple(Revision(r.text, r.correct) for r in step.revisions),
            if_revised=sections.get((IF_REVISED, step.id)),
            checks=tuple(Check(c.label, c.minutes, c.reveals) for c in step.checks),
        )
        for step in model.steps
    )
    return Scenario(
        id=model.id,
        title=model.title,
        summary=model.summary,
        difficulty=model.difficulty,
        situation=sections[(SITUATION, None)],
        debrief=sections[(DEBRIEF, None)],
        steps=steps,
        pack_id=pack_id,
        path=path,
        minutes=model.minutes,
        assistant=model.assistant,
        lessons=tuple(model.lessons),
        tags=tuple(model.tags),
        version=model.version,
        based_on=tuple(SourceRef(s.title, s.url, s.note) for s in model.based_on),
    )


def parse_lesson(text: str, path: Path, pack_id: str) -> Parsed[Lesson]:
    """Parse a lesson file: front matter and a free Markdown body."""
    front = _front_matter(text, path, "lesson")
    if isinstance(front, Parsed):
        return front
    parsed: Parsed[Lesson] = Parsed(path, None, locate=front.source.line)
    model: LessonModel | None = _validate(parsed, LessonModel, front.data)
    if model is None:
        return parsed
    _check_file_name(parsed, model.id, ".md")
    if parsed.problems:
        return parsed
    parsed.value = Lesson(
        id=model.id,
        title=model.title,
        summary=model.summary,
        body=front.document.body.lstrip("\n").rstrip(),
        pack_id=pack_id,
        path=path,
        order=model.order,
        minutes=model.minutes,
        flags=tuple(model.flags),
    )
    return parsed


def _yaml_file(text: str, path: Path) -> tuple[Any, _YamlSource] | Parsed[Any]:
    text = normalise_newlines(text)
    source = _YamlSource(text, 1)
    try:
        return load_yaml(text), source
    except YamlError as error:
        return _fail(path, error.message, source.error_line(error))


def parse_track(text: str, path: Path, pack_id: str) -> Parsed[Track]:
    """Parse a track file (plain YAML)."""
    loaded = _yaml_file(text, path)
    if isinstance(loaded, Parsed):
        return loaded
    data, source = loaded
    parsed: Parsed[Track] = Parsed(path, None, locate=source.line)
    if not isinstance(data, dict):
        parsed.problems.append(
            ContentProblem(
                path, "a track file must be key: value lines (id, title, summary, items)", 1
            )
        )
        return parsed
    model: TrackModel | None = _validate(parsed, TrackModel, data)
    if model is None:
        return parsed
    _check_file_name(parsed, model.id, ".yaml")
    items: list[TrackItem] = []
    for index, item in enumerate(model.items):
        if (item.lesson is None) == (item.scenario is None):
            parsed.problems.append(
                parsed.problem(
                    ("items", index),
                    f"item {index + 1} must be either 'lesson: ID' or 'scenario: ID'",
                )
            )
        elif item.lesson is not None:
            items.append(TrackItem(TrackItemKind.LESSON, item.lesson))
        elif item.scenario is not None:
            items.append(TrackItem(TrackItemKind.SCENARIO, item.scenario))
    for (kind, ref), count in Counter((i.kind, i.ref) for i in items).items():
        if count > 1:
            parsed.problems.append(
                parsed.problem(("items",), f"{kind.value} '{ref}' is listed {count} times")
            )
    if parsed.problems:
        return parsed
    parsed.value = Track(
        id=model.id,
        title=model.title,
        summary=model.summary,
        items=tuple(items),
        pack_id=pack_id,
        path=path,
        pass_mark=model.pass_mark,
    )
    return parsed


def parse_red_flags(text: str, path: Path, pack_id: str) -> Parsed[list[FlagEntry]]:
    """Parse a ``red-flags.yaml`` list; a broken entry is reported and left out alone."""
    loaded = _yaml_file(text, path)
    if isinstance(loaded, Parsed):
        return loaded
    data, source = loaded
    parsed: Parsed[list[FlagEntry]] = Parsed(path, [], locate=source.line)
    if data is None:
        return parsed
    if not isinstance(data, list):
        parsed.value = None
        parsed.problems.append(
            ContentProblem(
                path, "red-flags.yaml must be a list of flags, each starting with '- id: ...'", 1
            )
        )
        return parsed
    entries: list[FlagEntry] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(data):
        identifier = entry.get("id") if isinstance(entry, dict) else None
        element = f"flag '{identifier}'" if isinstance(identifier, str) else f"entry {index + 1}"
        model: RedFlagModel | None = _validate(
            parsed, RedFlagModel, entry, element=element, prefix=(index,)
        )
        if model is None:
            continue
        if model.id in seen:
            parsed.problems.append(
                parsed.problem(
                    (index, "id"),
                    f"red flag '{model.id}' is defined twice in this file "
                    f"(first as entry {seen[model.id] + 1})",
                )
            )
            continue
        seen[model.id] = index
        flag = RedFlag(
            id=model.id,
            title=model.title,
            question=model.question,
            description=model.description,
            pack_id=pack_id,
            lesson=model.lesson,
        )
        entries.append(FlagEntry(index, flag))
    parsed.value = entries
    return parsed


def parse_pack(text: str, path: Path) -> Parsed[PackModel]:
    """Parse a ``pack.yaml`` file."""
    loaded = _yaml_file(text, path)
    if isinstance(loaded, Parsed):
        return loaded
    data, source = loaded
    parsed: Parsed[PackModel] = Parsed(path, None, locate=source.line)
    if data is None:
        parsed.value = PackModel()
        return parsed
    if not isinstance(data, dict):
        parsed.problems.append(
            ContentProblem(path, "pack.yaml must be key: value lines (id, title, ...)", 1)
        )
        return parsed
    parsed.value = _validate(parsed, PackModel, data)
    return parsed
