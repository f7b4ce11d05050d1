"""Splitting a Markdown content file into YAML front matter and level-2 sections.

Only what the loader needs is parsed here: the front matter fence, ATX headings and
fenced code blocks (a heading inside a code block is code, not a heading). The prose
itself stays raw Markdown; it is rendered only when it is shown.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

_CLOSING_FENCE = re.compile(r"^---[ \t]*$", re.MULTILINE)
_OPENING_FENCE = re.compile(r"---[ \t]*")
# Lines that can change the structure: ATX headings and code fences (0-3 spaces indent).
_STRUCTURE_LINE = re.compile(
    r"\n {0,3}(?:(?P<hashes>#{1,6})(?:[ \t](?P<title>[^\n]*))?"
    r"|(?P<fence>`{3,}|~{3,})(?P<info>[^\n]*))(?=\n|\Z)"
)
_CLOSING_HASHES = re.compile(r"(?:^|[ \t]+)#+[ \t]*$")

SITUATION = "Situation"
SUGGESTION = "Suggestion"
IF_ACCEPTED = "If accepted"
IF_REJECTED = "If rejected"
IF_REVISED = "If revised"
DEBRIEF = "Debrief"
STEP_SECTION_KINDS = (SUGGESTION, IF_ACCEPTED, IF_REJECTED, IF_REVISED)
SECTION_KINDS = (SITUATION, *STEP_SECTION_KINDS, DEBRIEF)
SECTION_LIST = ", ".join([SITUATION, *(f"{kind} (STEP)" for kind in STEP_SECTION_KINDS), DEBRIEF])


class DocumentError(Exception):
    """A file whose overall shape is wrong; ``line`` is 1-based in the file."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True, slots=True)
class Document:
    """A content file split at its front matter fences."""

    front_matter: str
    front_matter_line: int  # 1-based line of the first YAML line
    body: str
    body_line: int  # 1-based line of the first body line


def normalise_newlines(text: str) -> str:
    """Text with a leading byte-order mark removed and every newline as ``\\n``."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def split_front_matter(text: str) -> Document:
    """Split ``text`` (newlines already normalised) into front matter and body."""
    if not text.strip():
        raise DocumentError(
            "the file is empty; it must start with front matter between '---' lines", 1
        )
    first_end = text.find("\n")
    first_line = text if first_end == -1 else text[:first_end]
    if not _OPENING_FENCE.fullmatch(first_line):
        raise DocumentError(
            "missing front matter: the first line must be '---', followed by the YAML "
            "keys and another '---' line",
            1,
        )
    if first_end == -1:
        raise DocumentError("the front matter is never closed: add a '---' line after it", 1)
    closing = _CLOSING_FENCE.search(text, first_end + 1)
    if closing is None:
        raise DocumentError("the front matter is never closed: add a '---' line after it", 1)
    front_matter = text[first_end + 1 : closing.start()]
    body_start = closing.end() + 1
    body_line = 2 + front_matter.count("\n") + 1
    return Document(
        front_matter=front_matter,
        front_matter_line=2,
        body=text[body_start:] if body_start <= len(text) else "",
        body_line=body_line,
    )


@dataclass(slots=True)  # not frozen: frozen dataclasses are slower to build, and this is hot
class Section:
    """One level-2 section: its kind, the step it names (if any) and its Markdown."""

    kind: str
    step: str | None
    line: int
    text: str


@dataclass(slots=True)
class SectionProblem:
    """Something wrong with the section layout, at a 1-based file line."""

    line: int
    message: str


@dataclass(slots=True)
class SplitBody:
    """The sections of a body in file order, and any layout problems."""

    sections: list[Section] = field(default_factory=list)
    problems: list[SectionProblem] = field(default_factory=list)


@dataclass(slots=True)
class _Heading:
    title: str
    line: int  # 1-based line in the file
    start: int  # offset of the newline before the heading line, in "\n" + body
    end: int  # offset of the newline after it (or the end)


def split_sections(body: str, body_line: int) -> SplitBody:
    """Split a scenario body into level-2 sections, checking titles and their order."""
    result = SplitBody()
    # A leading newline lets one pattern find every line start with a fast literal scan.
    text = "\n" + body
    level_two: list[_Heading] = []
    level_one: list[_Heading] = []
    fence: str | None = None
    fence_line = 0
    line = body_line - 1
    counted = 0
    for match in _STRUCTURE_LINE.finditer(text):
        line += text.count("\n", counted, match.start() + 1)
        counted = match.start() + 1
        marker = match.group("fence")
        if fence is not None:
            closes = marker and marker[0] == fence[0] and len(marker) >= len(fence)
            if closes and not match.group("info").strip():
                fence = None
            continue
        if marker:
            if marker[0] == "`" and "`" in match.group("info"):
                continue  # not a fence: CommonMark forbids backticks in its info string
            fence, fence_line = marker, line
            continue
        hashes = match.group("hashes")
        if len(hashes) > 2:
            continue
        title = match.group("title") or ""
        if title.endswith("#"):
            title = _CLOSING_HASHES.sub("", title)
        heading = _Heading(title.strip(), line, match.start(), match.end())
        (level_two if len(hashes) == 2 else level_one).append(heading)
    if fence is not None:
        result.problems.append(
            SectionProblem(
                fence_line,
                f"the code block opened here with {fence} is never closed; "
                "close it so the headings after it count",
            )
        )
    _check_preamble(text, body_line, level_one, level_two, result)
    for position, heading in enumerate(level_two):
        end = level_two[position + 1].start if position + 1 < len(level_two) else len(text)
        section_text = text[heading.end : end].lstrip("\n").rstrip()
        section = _section(heading, section_text, result)
        if section is not None:
            result.sections.append(section)
    _check_order(result)
    return result


def _check_preamble(
    text: str,
    body_line: int,
    level_one: list[_Heading],
    level_two: list[_Heading],
    result: SplitBody,
) -> None:
    """Before the first section only blank lines and one level-1 title may stand."""
    first = level_two[0].start if level_two else len(text)
    titles = [h for h in level_one if h.start < first]
    position = 0
    for piece_end, next_start in [*((h.start, h.end) for h in titles), (first, first)]:
        piece = text[position:piece_end]
        stripped = piece.lstrip()
        if stripped:
            offset = position + len(piece) - len(stripped)
            result.problems.append(
                SectionProblem(
                    body_line - 1 + text.count("\n", 0, offset + 1),
                    "text before '## Situation' is not shown; only a level-1 title "
                    "('# Title') may stand there, so move this text into a section",
                )
            )
            return
        position = next_start
    if len(titles) > 1:
        result.problems.append(
            SectionProblem(
                titles[1].line,
                "only one level-1 title may stand before '## Situation'",
            )
        )


def _section(heading: _Heading, text: str, result: SplitBody) -> Section | None:
    title = heading.title
    kind, step = title, None
    if title.endswith(")") and "(" in title:
        kind, _, step = title[:-1].partition("(")
        kind, step = kind.rstrip(), step.strip()
    if kind not in SECTION_KINDS or (step is not None and ("(" in step or ")" in step)):
        result.problems.append(SectionProblem(heading.line, _unknown_section(title)))
        return None
    if step is not None:
        if kind in (SITUATION, DEBRIEF):
            result.problems.append(
                SectionProblem(heading.line, f"'## {kind}' takes no step id; write '## {kind}'")
            )
            return None
        if not step:
            result.problems.append(SectionProblem(heading.line, f"empty step id in '## {title}'"))
            return None
    # An empty section is allowed: the contract asks for the section, not for its length.
    return Section(kind=kind, step=step, line=heading.line, text=text)


def _unknown_section(title: str) -> str:
    message = f"unknown section '## {title}'; a scenario has only these sections: {SECTION_LIST}"
    base = title.split("(", 1)[0].strip()
    close = difflib.get_close_matches(base, SECTION_KINDS, n=1, cutoff=0.6)
    if not close:
        lowered = {kind.lower(): kind for kind in SECTION_KINDS}
        close = [lowered[base.lower()]] if base.lower() in lowered else []
    if close:
        message += f" (did you mean '## {close[0]}'?)"
    message += "; use '###' for a heading inside a section"
    return message


def _check_order(result: SplitBody) -> None:
    sections = result.sections
    seen: dict[tuple[str, str | None], Section] = {}
    for section in sections:
        key = (section.kind, section.step)
        if key in seen:
            result.problems.append(
                SectionProblem(
                    section.line,
                    f"section '## {_title(section)}' appears twice "
                    f"(first at line {seen[key].line}); keep one",
                )
            )
        else:
            seen[key] = section
    if not sections:
        return
    situation = [s for s in sections if s.kind == SITUATION]
    debrief = [s for s in sections if s.kind == DEBRIEF]
    if situation and sections[0].kind != SITUATION:
        result.problems.append(
            SectionProblem(
                situation[0].line,
                f"'## Situation' must be the first section; it comes after "
                f"'## {_title(sections[0])}' (line {sections[0].line})",
            )
        )
    if debrief and sections[-1].kind != DEBRIEF:
        result.problems.append(
            SectionProblem(
                debrief[0].line,
                f"'## Debrief' must be the last section; '## {_title(sections[-1])}' "
                f"(line {sections[-1].line}) comes after it",
            )
        )


def _title(section: Section) -> str:
    return section.kind if section.step is None else f"{section.kind} ({section.step})"
