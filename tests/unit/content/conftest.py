"""Building small content packs in a temporary folder for the content tests."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from app.content.loader import load_library
from app.core.model import ContentLibrary

FLAGS_YAML = """\
- id: access-broadened
  title: Access broader than the task
  question: Does this grant more access than the task needs?
  description: Grants wider than the job.
  lesson: least-privilege
- id: blast-radius
  title: Blast radius larger than the problem
  question: Does this touch more than the problem needs?
  description: Changes wider than the fault.
- id: unverified-premise
  title: Unverified premise
  question: What proves the assumption this rests on?
  description: Nothing shows the premise is true.
"""

LESSON_MD = """\
---
id: least-privilege
title: Least privilege when you are in a hurry
summary: Why "just grant read to everyone" is never the small fix.
order: 1
minutes: 5
flags: [access-broadened]
---
# Least privilege

Grant the narrowest access that does the job.
"""

SCENARIO_FRONT = """\
id: {id}
title: A grant that is too wide
summary: A job cannot read a table and an assistant proposes a grant.
difficulty: 2
minutes: 3
lessons: [least-privilege]
tags: [data-platforms]
based_on:
  - title: A public incident report
    url: https://example.org/report
steps:
  - id: grant
    answer: reject
    flags: [access-broadened, blast-radius]
    decoys: [unverified-premise]
"""

SCENARIO_BODY = """\
# A grant that is too wide

## Situation

The nightly job fails with `permission denied`.

## Suggestion

Grant `READ` on the whole warehouse.

## If accepted

Everyone can read every table.

## If rejected

You ask the data owner for a narrow grant.

## Debrief

The grant was far wider than the problem.
"""

TRACK_YAML = """\
id: {id}
title: New hire onboarding
summary: The essentials.
pass_mark: 0.8
items:
  - lesson: least-privilege
  - scenario: sample-scenario
"""


def scenario_text(
    identifier: str = "sample-scenario", front: str | None = None, body: str | None = None
) -> str:
    """A valid single-step scenario file, or one with the given front matter or body."""
    yaml_text = front if front is not None else SCENARIO_FRONT.format(id=identifier)
    body_text = body if body is not None else SCENARIO_BODY
    return f"---\n{textwrap.dedent(yaml_text)}---\n{textwrap.dedent(body_text)}"


class Samples:
    """The texts of the valid sample files, and variations of them for broken-file tests."""

    body = SCENARIO_BODY
    flags = FLAGS_YAML
    lesson = LESSON_MD

    def front(self, identifier: str = "broken") -> str:
        """The sample scenario's front matter (without the '---' lines)."""
        return SCENARIO_FRONT.format(id=identifier)

    def scenario(
        self, identifier: str = "broken", front: str | None = None, body: str | None = None
    ) -> str:
        """A whole scenario file: the sample, or with the given front matter or body."""
        return scenario_text(identifier, front, body)

    def front_with(self, old: str, new: str, identifier: str = "broken") -> str:
        """The sample front matter with ``old`` replaced by ``new``."""
        text = self.front(identifier)
        assert old in text, old
        return text.replace(old, new)

    def body_with(self, old: str, new: str) -> str:
        """The sample body with ``old`` replaced by ``new``."""
        assert old in SCENARIO_BODY, old
        return SCENARIO_BODY.replace(old, new)


class PackBuilder:
    """Writes a content pack into a folder: valid defaults plus whatever a test adds."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root.resolve()  # the loader reports resolved paths

    def write(self, relative: str, content: str | bytes) -> Path:
        """Write a file at ``relative`` inside the pack and return its path."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    def scenario(self, identifier: str, content: str | None = None) -> Path:
        """Write ``scenarios/<identifier>.md`` (a valid scenario unless content is given)."""
        text = content if content is not None else scenario_text(identifier)
        return self.write(f"scenarios/{identifier}.md", text)

    def valid_defaults(self) -> PackBuilder:
        """Red flags, one lesson, one scenario and one track that all load."""
        self.write("scenarios/red-flags.yaml", FLAGS_YAML)
        self.write("lessons/least-privilege.md", LESSON_MD)
        self.scenario("sample-scenario")
        self.write("lessons/tracks/new-hire.yaml", TRACK_YAML.format(id="new-hire"))
        return self


@pytest.fixture
def samples() -> Samples:
    """The sample texts (see ``Samples``)."""
    return Samples()


@pytest.fixture
def make_pack(tmp_path: Path) -> Callable[..., PackBuilder]:
    """A factory for packs under ``tmp_path``; ``defaults=True`` adds the valid files."""

    def make(name: str = "core", *, defaults: bool = True) -> PackBuilder:
        builder = PackBuilder(tmp_path / name)
        return builder.valid_defaults() if defaults else builder

    return make


@pytest.fixture
def load(tmp_path: Path) -> Callable[..., ContentLibrary]:
    """Load the pack ``core`` under ``tmp_path`` as built-in plus the named extra packs."""

    def run(*extra: str) -> ContentLibrary:
        return load_library([tmp_path / name for name in extra], builtin=tmp_path / "core")

    return run
