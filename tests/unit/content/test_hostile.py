"""Hostile and malformed content: every file is reported clearly or neutralised.

The corpus in tests/data/hostile has one folder per place in a pack (see its README).
Each file is loaded inside a pack that also holds valid files, and must either yield a
``path:line: message`` problem (files under scenarios/, lessons/, tracks/, red-flags/,
packs/) or load and render without anything unsafe (files under neutralised/).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.content.files import MAX_FILE_BYTES
from app.content.parsing import (
    Parsed,
    parse_lesson,
    parse_pack,
    parse_red_flags,
    parse_scenario,
    parse_track,
)
from app.content.render import render_markdown
from app.core.model import ContentLibrary, ContentProblem

Make = Callable[..., Any]
Load = Callable[..., ContentLibrary]
HOSTILE = Path(__file__).resolve().parents[2] / "data" / "hostile"
PLACES = {
    "scenarios": "scenarios/{name}",
    "lessons": "lessons/{name}",
    "tracks": "lessons/tracks/{name}",
    "red-flags": "scenarios/red-flags.yaml",
    "packs": "pack.yaml",
}
PROBLEM_TEXT = re.compile(r"^.+:\d+: \S.+$")


def corpus(*kinds: str) -> list[Any]:
    return [
        pytest.param(kind, path, id=f"{kind}/{path.name}")
        for kind in kinds
        for path in sorted((HOSTILE / kind).iterdir())
    ]


def test_corpus_is_large_enough() -> None:
    assert len(corpus(*PLACES, "neutralised")) >= 40


def load_next_to_valid_files(
    make_pack: Make, load: Load, relative: str, content: bytes
) -> tuple[Path, ContentLibrary]:
    """Put ``content`` in an extra pack beside a valid scenario; load core and that pack."""
    make_pack()
    extra = make_pack("hostile", defaults=False)
    extra.scenario("neighbour-ok")
    extra.write(
        "lessons/neighbour-lesson.md", "---\nid: neighbour-lesson\ntitle: T\nsummary: S\n---\n"
    )
    target = extra.write(relative, content)
    return target, load("hostile")


def assert_valid_files_loaded(library: ContentLibrary) -> None:
    assert {"sample-scenario", "neighbour-ok"} <= set(library.scenarios)
    assert {"least-privilege", "neighbour-lesson"} <= set(library.lessons)
    assert "new-hire" in library.tracks
    assert {"access-broadened", "blast-radius", "unverified-premise"} <= set(library.red_flags)


@pytest.mark.parametrize(("kind", "source"), corpus(*PLACES))
def test_hostile_file_is_reported_clearly(
    make_pack: Make, load: Load, kind: str, source: Path
) -> None:
    relative = PLACES[kind].format(name=source.name)
    target, library = load_next_to_valid_files(make_pack, load, relative, source.read_bytes())
    mine = [p for p in library.problems if p.path == target]
    assert mine, [str(p) for p in library.problems]
    for problem in mine:
        assert problem.line is not None and problem.line >= 1
        assert PROBLEM_TEXT.match(str(problem)), str(problem)
        assert "unexpected error" not in problem.message
        assert "\n" not in problem.message
    assert [p for p in library.problems if p.path != target] == []
    loaded = [
        *library.scenarios.values(),
        *library.lessons.values(),
        *library.tracks.values(),
    ]
    assert all(item.path != target for item in loaded)
    assert_valid_files_loaded(library)


class _SafetyChecker(HTMLParser):
    """Collects whatever in rendered HTML could run code or load something."""

    def __init__(self) -> None:
        super().__init__()
        self.unsafe: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "iframe", "style", "svg", "object", "embed", "link", "meta"}:
            self.unsafe.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.unsafe.append(f"{tag} {name}")
            has_scheme = bool(value and re.match(r"\s*[a-z]+:", value, re.IGNORECASE))
            web = bool(value and value.lower().startswith(("https:", "http:", "mailto:")))
            if name == "href" and has_scheme and not web:
                self.unsafe.append(f"href {value}")
            # Only images inside the pack may remain, and the corpus has none.
            if tag == "img" and name == "src":
                self.unsafe.append(f"img src {value}")


@pytest.mark.parametrize(("kind", "source"), corpus("neutralised"))
def test_hostile_markdown_loads_and_renders_safely(
    make_pack: Make, load: Load, kind: str, source: Path
) -> None:
    _target, library = load_next_to_valid_files(
        make_pack, load, f"scenarios/{source.name}", source.read_bytes()
    )
    assert library.problems == []
    assert_valid_files_loaded(library)
    scenario = library.scenarios[source.stem]
    texts = [scenario.situation, scenario.debrief]
    for step in scenario.steps:
        texts += [step.suggestion, step.if_accepted, step.if_rejected]
    for text in texts:
        checker = _SafetyChecker()
        checker.feed(render_markdown(text))
        assert checker.unsafe == []


# --- cases built at test time ---------------------------------------------------------


def test_file_of_50_megabytes_is_refused_without_reading_it(make_pack: Make, load: Load) -> None:
    pack = make_pack()
    huge = pack.root / "scenarios" / "huge.md"
    with huge.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: nothing is written or read
    library = load()
    assert [(p.path, p.line) for p in library.problems] == [(huge, 1)]
    assert "at most 1,048,576 bytes (1 MiB)" in library.problems[0].message
    assert "sample-scenario" in library.scenarios


def test_file_just_over_the_limit_is_refused(make_pack: Make, load: Load, samples: Any) -> None:
    pack = make_pack()
    text = samples.scenario("big")
    pack.scenario("big", text + "x" * (MAX_FILE_BYTES + 1 - len(text)))
    library = load()
    assert "at most 1,048,576 bytes" in library.problems[0].message


def test_file_at_the_limit_is_read(make_pack: Make, load: Load, samples: Any) -> None:
    pack = make_pack()
    text = samples.scenario("big")
    pack.scenario("big", text + "x" * (MAX_FILE_BYTES - len(text.encode())))
    library = load()
    assert library.problems == []
    assert library.scenarios["big"].debrief.endswith("x")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need POSIX")
def test_named_pipe_is_refused_without_blocking(make_pack: Make, load: Load) -> None:
    pack = make_pack()
    pipe = pack.root / "scenarios" / "pipe.md"
    os.mkfifo(pipe)
    library = load()
    assert [p.path for p in library.problems] == [pipe]
    assert library.problems[0].message.startswith("not a regular file")


def test_symlinked_file_outside_the_pack_is_not_followed(
    make_pack: Make, load: Load, tmp_path: Path, samples: Any
) -> None:
    pack = make_pack()
    outside = tmp_path / "outside.md"
    outside.write_text(samples.scenario("outside"), encoding="utf-8")
    link = pack.root / "scenarios" / "outside.md"
    link.symlink_to(outside)
    library = load()
    assert [p.path for p in library.problems] == [link]
    assert "points outside its pack" in library.problems[0].message
    assert "outside" not in library.scenarios


def test_symlinked_folder_outside_the_pack_is_not_followed(
    make_pack: Make, load: Load, tmp_path: Path, samples: Any
) -> None:
    pack = make_pack()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "far.md").write_text(samples.scenario("far"), encoding="utf-8")
    (pack.root / "scenarios" / "linked").symlink_to(outside)
    library = load()
    assert len(library.problems) == 1
    assert "points outside its pack" in library.problems[0].message
    assert "far" not in library.scenarios


def test_symlinked_lessons_folder_outside_the_pack_is_not_followed(
    make_pack: Make, load: Load, tmp_path: Path
) -> None:
    extra = make_pack("extra", defaults=False)
    make_pack()
    (extra.root / "lessons").symlink_to(tmp_path / "core" / "lessons")
    library = load("extra")
    assert [p.path for p in library.problems] == [extra.root / "lessons"]


def test_symlinked_pack_yaml_outside_the_pack_is_not_read(
    make_pack: Make, load: Load, tmp_path: Path
) -> None:
    make_pack()
    extra = make_pack("extra", defaults=False)
    secret = tmp_path / "secret.yaml"
    secret.write_text("id: secret-pack\n", encoding="utf-8")
    (extra.root / "pack.yaml").symlink_to(secret)
    library = load("extra")
    assert "secret-pack" not in library.packs
    assert [p.path for p in library.problems] == [extra.root / "pack.yaml"]


def test_symlink_inside_the_pack_is_followed(make_pack: Make, load: Load, samples: Any) -> None:
    pack = make_pack()
    real = pack.write("drafts/inside.md", samples.scenario("inside"))
    (pack.root / "scenarios" / "inside.md").symlink_to(real)
    library = load()
    assert library.problems == []
    assert "inside" in library.scenarios


def test_symlink_loop_is_reported(make_pack: Make, load: Load) -> None:
    pack = make_pack()
    loop_a = pack.root / "scenarios" / "a.md"
    loop_b = pack.root / "scenarios" / "b.md"
    loop_a.symlink_to(loop_b)
    loop_b.symlink_to(loop_a)
    library = load()
    assert {p.path for p in library.problems} == {loop_a, loop_b}
    assert "sample-scenario" in library.scenarios


# --- property: the file parsers never raise -----------------------------------------

yaml_like = st.text(
    alphabet=st.sampled_from(list("abcdefgxyz0123456789 -:[]{}#&*!|>'\"%@`,.?\n\t~=<\\")),
    max_size=200,
)
any_text = st.text(max_size=300)


def assert_result_or_problems(parsed: Parsed[Any]) -> None:
    assert isinstance(parsed, Parsed)
    assert parsed.value is not None or parsed.problems
    for problem in parsed.problems:
        assert isinstance(problem, ContentProblem)
        assert problem.line is None or problem.line >= 1


@settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(front=st.one_of(yaml_like, any_text), body=st.one_of(yaml_like, any_text))
def test_scenario_parser_returns_a_result_or_problems(front: str, body: str) -> None:
    text = f"---\n{front}\n---\n{body}"
    assert_result_or_problems(parse_scenario(text, Path("/pack/scenarios/x.md"), "core"))
    assert_result_or_problems(parse_lesson(text, Path("/pack/lessons/x.md"), "core"))


@settings(max_examples=300, deadline=None, database=None)
@given(text=st.one_of(yaml_like, any_text))
def test_yaml_file_parsers_return_a_result_or_problems(text: str) -> None:
    path = Path("/pack/lessons/tracks/x.yaml")
    assert_result_or_problems(parse_track(text, path, "core"))
    assert_result_or_problems(parse_red_flags(text, path, "core"))
    assert_result_or_problems(parse_pack(text, path))
    assert_result_or_problems(parse_scenario(text, Path("/pack/scenarios/x.md"), "core"))


SCENARIO_KEYS = ["id", "title", "summary", "difficulty", "steps", "lessons", "tags", "minutes"]
values = st.one_of(
    st.integers(-5, 5),
    st.booleans(),
    st.none(),
    st.text(max_size=20),
    st.lists(st.text(max_size=10), max_size=3),
    st.dictionaries(st.sampled_from(["id", "answer", "flags", "x"]), st.text(max_size=8)),
)


@settings(max_examples=200, deadline=None, database=None)
@given(
    data=st.dictionaries(st.sampled_from(SCENARIO_KEYS), values, max_size=8),
    body=st.text(max_size=200),
)
def test_scenario_parser_survives_structured_nonsense(data: dict[str, Any], body: str) -> None:
    import yaml

    text = "---\n" + yaml.safe_dump(data, allow_unicode=True) + "---\n" + body
    assert_result_or_problems(parse_scenario(text, Path("/pack/scenarios/x.md"), "core"))
