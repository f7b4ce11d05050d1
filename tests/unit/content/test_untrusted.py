"""Content packs are untrusted: loading reads nothing outside a pack, and stays bounded.

An audit hook (``sys.addaudithook``) records every file the loader opens and every
folder it lists while it loads a pack full of symbolic links and ``..`` references; each
must lie inside a pack. Property-based tests then feed the parsers, the Markdown renderer
and the whole loader arbitrary and deliberately hostile input (alias bombs, deep nesting,
huge tables, Python tags): each returns a result or problems, never raises, and stays
within a time limit (the hypothesis deadline) and a memory limit (tracemalloc's peak).
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.content.loader import load_library
from app.content.parsing import (
    Parsed,
    parse_lesson,
    parse_pack,
    parse_red_flags,
    parse_scenario,
    parse_track,
)
from app.content.render import render_markdown, resolve_pack_resource
from app.core.model import ContentLibrary, ContentProblem

Make = Callable[..., Any]
Load = Callable[..., ContentLibrary]

# --- nothing outside a pack is read ------------------------------------------------------

_WATCHED_EVENTS = {"open", "os.scandir", "os.listdir"}
_recording: list[list[str]] = []


def _audit(event: str, arguments: tuple[Any, ...]) -> None:
    if not _recording or event not in _WATCHED_EVENTS or not arguments:
        return
    target = arguments[0]
    if isinstance(target, str | bytes | os.PathLike):
        _recording[-1].append(os.fsdecode(target))


# An audit hook cannot be removed; it records only inside ``_touched_files``.
sys.addaudithook(_audit)


@contextmanager
def _touched_files() -> Iterator[list[str]]:
    """The paths opened or listed inside the block."""
    touched: list[str] = []
    _recording.append(touched)
    try:
        yield touched
    finally:
        _recording.pop()


def _outside(paths: list[str], roots: list[Path]) -> list[str]:
    inside = [root.resolve() for root in roots]
    return [
        path
        for path in paths
        if not any(Path(os.path.abspath(path)).is_relative_to(root) for root in inside)
    ]


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A folder outside every pack, with files a hostile pack would like to read."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.md").write_text("---\nid: secret\n---\nprivate\n", encoding="utf-8")
    (folder / "secret.yaml").write_text("id: secret\n", encoding="utf-8")
    (folder / "secret.png").write_bytes(b"\x89PNG\r\n\x1a\nprivate")
    (folder / "lessons").mkdir()
    (folder / "lessons" / "secret.md").write_text("---\nid: s\n---\n", encoding="utf-8")
    return folder


HOSTILE_IMAGES = """\
![up](../outside/secret.png) ![deep](../../../../../../etc/passwd)
![absolute](/etc/passwd) ![file](file:///etc/passwd) ![windows](C:\\Windows\\win.ini)
![encoded](%2e%2e/outside/secret.png) ![remote](https://example.org/x.png)
[link up](../outside/secret.md) [script](javascript:alert(1))
"""


def test_loading_a_hostile_pack_reads_nothing_outside_the_packs(
    make_pack: Make, load: Load, secret: Path, samples: Any
) -> None:
    core = make_pack()
    pack = make_pack("hostile", defaults=False)
    pack.scenario(
        "with-images",
        samples.scenario("with-images", body=samples.body_with("Grant `READ`", HOSTILE_IMAGES)),
    )
    (pack.root / "pack.yaml").symlink_to(secret / "secret.yaml")
    (pack.root / "scenarios" / "linked.md").symlink_to(secret / "secret.md")
    (pack.root / "scenarios" / "red-flags.yaml").symlink_to(secret / "secret.yaml")
    (pack.root / "scenarios" / "linked-folder").symlink_to(secret)
    (pack.root / "lessons").symlink_to(secret / "lessons")
    load("hostile")  # once first, so that lazy imports do not count as reads

    with _touched_files() as touched:
        library = load("hostile")

    assert touched, "the hook sees the loader's reads"
    assert _outside(touched, [core.root, pack.root]) == []
    assert not [path for path in touched if "secret" in path]
    assert "with-images" in library.scenarios
    assert {"secret", "s"}.isdisjoint(library.scenarios) and "s" not in library.lessons
    outside_problems = {p.path.name for p in library.problems}
    assert {"pack.yaml", "linked.md", "red-flags.yaml", "linked-folder", "lessons"} <= (
        outside_problems
    )


def test_resolving_hostile_image_paths_reads_nothing_outside(make_pack: Make, secret: Path) -> None:
    pack = make_pack("hostile", defaults=False)
    pack.write("assets/inside.png", b"\x89PNG\r\n\x1a\ninside")
    (pack.root / "assets" / "link.png").symlink_to(secret / "secret.png")
    hostile = [
        "../outside/secret.png",
        "%2e%2e/outside/secret.png",
        "assets/../../outside/secret.png",
        "assets/link.png",
        str(secret / "secret.png"),
        (secret / "secret.png").as_uri(),
        "//server/share/x.png",
        "https://example.org/x.png",
    ]
    with _touched_files() as touched:
        found = {path: resolve_pack_resource(pack.root, path) for path in hostile}
        inside = resolve_pack_resource(pack.root, "assets/inside.png")
    assert found == dict.fromkeys(hostile)
    assert inside == pack.root / "assets" / "inside.png"
    assert _outside(touched, [pack.root]) == []


# --- property: bounded time and memory, a result or problems, never an exception ---------

MEMORY_LIMIT_BYTES = 64 * 1024 * 1024
# Generous, so a slow machine never fails it; an exponential blow-up still would.
DEADLINE = timedelta(seconds=5)
_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large]
# Time and memory are checked in separate runs: tracemalloc slows code several times over.
TIMED = settings(max_examples=60, deadline=DEADLINE, database=None, suppress_health_check=_QUIET)
MEASURED = settings(max_examples=20, deadline=None, database=None, suppress_health_check=_QUIET)


@contextmanager
def _memory_bound(limit: int = MEMORY_LIMIT_BYTES) -> Iterator[None]:
    tracemalloc.start()
    try:
        yield
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < limit, f"peak memory {peak:,} bytes"


@st.composite
def alias_bomb(draw: st.DrawFn) -> str:
    """YAML whose aliases would expand to width ** depth items."""
    depth = draw(st.integers(1, 40))
    width = draw(st.integers(2, 9))
    lines = ["a0: &a0 [lol, lol]"]
    for level in range(1, depth + 1):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * width)}]")
    return "\n".join(lines)


@st.composite
def deep_nesting(draw: st.DrawFn) -> str:
    depth = draw(st.integers(1, 5000))
    kind = draw(st.sampled_from(["flow", "block", "mapping"]))
    if kind == "flow":
        return "steps: " + "[" * depth + "]" * depth
    if kind == "mapping":
        return "steps: " + "{a: " * depth + "b" + "}" * depth
    return "steps:\n" + "".join(f"{'  ' * level}- x:\n" for level in range(min(depth, 600)))


@st.composite
def enormous_table(draw: st.DrawFn) -> str:
    # Past the renderer's limits (200 rows, 20 columns), yet quick under tracemalloc.
    rows = draw(st.integers(1, 400))
    columns = draw(st.integers(1, 30))
    header = "|" + "|".join(f"c{c}" for c in range(columns)) + "|"
    rule = "|" + "|".join("---" for _ in range(columns)) + "|"
    row = "|" + "|".join("`x` *y*" for _ in range(columns)) + "|"
    return "\n".join([header, rule, *([row] * rows)])


@st.composite
def deep_markdown(draw: st.DrawFn) -> str:
    depth = draw(st.integers(1, 3000))
    marker = draw(st.sampled_from(["- ", "> ", "1. ", "* > "]))
    if marker.startswith(("-", "1", "*")):
        return "\n".join(f"{'    ' * level}{marker}item" for level in range(min(depth, 400)))
    return marker * depth + "quoted"


PYTHON_TAGS = st.sampled_from(
    [
        "!!python/object/apply:os.system ['echo pwned']",
        "!!python/name:os.system",
        "!!python/object/new:subprocess.Popen [['id']]",
        "!<tag:yaml.org,2002:python/object:object> {}",
        "!custom {a: 1}",
    ]
)
YAML_NOISE = st.text(
    alphabet=st.sampled_from(list("abcxyz019 -:[]{}#&*!|>'\"%@`,.?\n\t~=<\\")), max_size=400
)
FRONT_MATTER = st.one_of(
    YAML_NOISE,
    st.text(max_size=400),
    alias_bomb(),
    deep_nesting(),
    PYTHON_TAGS.map(lambda tag: f"id: {tag}"),
    st.just("id: x\n" * 2000),
)
BODY = st.one_of(
    st.text(max_size=2000),
    enormous_table(),
    deep_markdown(),
    st.just("<script>alert(1)</script><iframe src=x></iframe><b onclick=x>b</b>\n" * 50),
    st.just("[a](javascript:alert(1)) ![b](../../x.png) ![c](file:///etc/passwd)\n" * 50),
    st.just("## Situation\n\n" + "`" * 5000),
)


def _result_or_problems(parsed: Parsed[Any]) -> None:
    assert isinstance(parsed, Parsed)
    assert parsed.value is not None or parsed.problems
    for problem in parsed.problems:
        assert isinstance(problem, ContentProblem)
        assert problem.line is None or problem.line >= 1
        assert "\n" not in problem.message


def _check_markdown_parsers(front: str, body: str) -> None:
    text = f"---\n{front}\n---\n{body}"
    _result_or_problems(parse_scenario(text, Path("/pack/scenarios/x.md"), "core"))
    _result_or_problems(parse_lesson(text, Path("/pack/lessons/x.md"), "core"))


def _check_yaml_parsers(text: str) -> None:
    _result_or_problems(parse_track(text, Path("/pack/lessons/tracks/x.yaml"), "core"))
    _result_or_problems(parse_red_flags(text, Path("/pack/scenarios/red-flags.yaml"), "x"))
    _result_or_problems(parse_pack(text, Path("/pack/pack.yaml")))


@TIMED
@given(front=FRONT_MATTER, body=BODY)
def test_markdown_file_parsers_finish_in_time_and_never_raise(front: str, body: str) -> None:
    _check_markdown_parsers(front, body)


@MEASURED
@given(front=FRONT_MATTER, body=BODY)
def test_markdown_file_parsers_stay_within_memory(front: str, body: str) -> None:
    with _memory_bound():
        _check_markdown_parsers(front, body)


@TIMED
@given(text=FRONT_MATTER)
def test_yaml_file_parsers_finish_in_time_and_never_raise(text: str) -> None:
    _check_yaml_parsers(text)


@MEASURED
@given(text=FRONT_MATTER)
def test_yaml_file_parsers_stay_within_memory(text: str) -> None:
    with _memory_bound():
        _check_yaml_parsers(text)


class _Unsafe(HTMLParser):
    """Whatever in rendered HTML could run code or load something from outside."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "iframe", "style", "svg", "object", "embed", "link", "meta"}:
            self.found.append(tag)
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.found.append(f"{tag} {name}")
            text = (value or "").strip()
            has_scheme = re.match(r"[a-z][a-z0-9+.-]*:", text, re.IGNORECASE) is not None
            if (
                name == "href"
                and has_scheme
                and not text.lower().startswith(("https:", "http:", "mailto:"))
            ):
                self.found.append(f"href {text}")
            if name == "src" and (has_scheme or text.startswith(("/", "\\", "..")) or not text):
                self.found.append(f"src {text}")


def _check_rendering(text: str) -> None:
    checker = _Unsafe()
    checker.feed(render_markdown(text))
    assert checker.found == []


@TIMED
@given(text=BODY)
def test_rendering_finishes_in_time_and_never_leaves_anything_unsafe(text: str) -> None:
    _check_rendering(text)


@settings(MEASURED, max_examples=10)  # a full table costs seconds under tracemalloc
@given(text=BODY)
def test_rendering_stays_within_memory(text: str) -> None:
    with _memory_bound():
        _check_rendering(text)


PLACES = ["scenarios/x.md", "lessons/y.md", "lessons/tracks/z.yaml", "scenarios/red-flags.yaml"]


PACK_FILES = st.dictionaries(
    st.sampled_from([*PLACES, "pack.yaml"]),
    st.one_of(FRONT_MATTER, st.builds("---\n{}\n---\n{}".format, FRONT_MATTER, BODY)),
    min_size=1,
)


def _check_loading(files: dict[str, str], *, measure_memory: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        pack = Path(folder).resolve() / "pack"
        for relative, text in files.items():
            path = pack / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
        if measure_memory:
            with _memory_bound():
                library = load_library([pack])
        else:
            library = load_library([pack])
    assert isinstance(library, ContentLibrary)
    for problem in library.problems:
        assert problem.path.is_relative_to(pack), str(problem)


@settings(TIMED, max_examples=30)
@given(files=PACK_FILES)
def test_loading_a_pack_of_arbitrary_files_finishes_in_time_and_never_raises(
    files: dict[str, str],
) -> None:
    _check_loading(files, measure_memory=False)


@MEASURED
@given(files=PACK_FILES)
def test_loading_a_pack_of_arbitrary_files_stays_within_memory(files: dict[str, str]) -> None:
    _check_loading(files, measure_memory=True)
