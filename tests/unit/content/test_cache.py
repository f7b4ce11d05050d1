"""The content index: warm loads give the same library, and stale or foreign indexes are ignored."""

from __future__ import annotations

import functools
import json
import os
import pickle
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app import __version__
from app.content import loader
from app.content.cache import CachedResult, ContentCache, FileKey, file_key
from app.content.loader import load_library
from app.core.model import ContentLibrary
from tests.unit.content.conftest import PackBuilder

HOUR_NS = 3600 * 1_000_000_000
LONG_AGO_NS = 1_600_000_000 * 1_000_000_000  # September 2020


def _age(root: Path, when_ns: int = LONG_AGO_NS) -> None:
    """Set the modification time of ``root`` (or every file under it) to ``when_ns``.

    Files changed within the last seconds are never kept in the index, so the tests
    move their files' times into the past.
    """
    paths = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
    for path in paths:
        os.utime(path, ns=(when_ns, when_ns))


def _stored(
    index: Path, root: Path, key: FileKey, *, app_version: str = __version__
) -> CachedResult | None:
    """What the index at ``index`` holds for the scenario file with ``key``."""
    cache = ContentCache.open(index, app_version=app_version)
    return cache.pack(root, []).get(key, "parse_scenario", "core")


class ParseCounter:
    """Counts how many files each parser is asked to parse (wraps the loader's parsers)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[Path] = []
        for name in ("parse_scenario", "parse_lesson", "parse_track", "parse_red_flags"):
            monkeypatch.setattr(loader, name, self._counting(getattr(loader, name)))

    def _counting(self, parse: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(parse)
        def counted(text: str, path: Path, pack_id: str) -> Any:
            self.calls.append(path)
            return parse(text, path, pack_id)

        return counted


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> ParseCounter:
    return ParseCounter(monkeypatch)


@pytest.fixture
def pack(make_pack: Callable[..., PackBuilder]) -> PackBuilder:
    builder: PackBuilder = make_pack("core")
    builder.scenario("second-scenario")
    _age(builder.root)
    return builder


@pytest.fixture
def index(tmp_path: Path) -> Path:
    return tmp_path / "data" / "cache" / "content-index.pickle"


@pytest.fixture
def load_cached(pack: PackBuilder, index: Path) -> Iterator[Callable[[], ContentLibrary]]:
    def run() -> ContentLibrary:
        return load_library(builtin=pack.root, cache_path=index)

    yield run


def test_a_warm_load_gives_the_same_library_without_parsing_again(
    pack: PackBuilder, index: Path, load_cached: Callable[[], ContentLibrary], parses: ParseCounter
) -> None:
    uncached = load_library(builtin=pack.root)
    parses.calls.clear()

    first = load_cached()
    assert index.is_file()
    assert len(parses.calls) == 5  # flags, lesson, two scenarios, track
    parses.calls.clear()

    second = load_cached()
    assert parses.calls == []
    assert second == first == uncached
    assert set(second.scenarios) == {"sample-scenario", "second-scenario"}


def test_a_warm_load_does_not_rewrite_an_unchanged_index(
    index: Path, load_cached: Callable[[], ContentLibrary]
) -> None:
    load_cached()
    before = index.stat().st_mtime_ns
    os.utime(index, ns=(before - HOUR_NS, before - HOUR_NS))
    load_cached()
    assert index.stat().st_mtime_ns == before - HOUR_NS


def test_a_changed_file_is_parsed_again(
    pack: PackBuilder, load_cached: Callable[[], ContentLibrary], parses: ParseCounter
) -> None:
    load_cached()
    path = pack.root / "scenarios" / "second-scenario.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("A grant that is too wide", "A new title"),
        encoding="utf-8",
    )
    _age(path, LONG_AGO_NS + HOUR_NS)
    parses.calls.clear()

    library = load_cached()
    assert parses.calls == [path]
    assert library.scenarios["second-scenario"].title == "A new title"
    assert library.scenarios["sample-scenario"].title == "A grant that is too wide"


def test_a_same_size_edit_with_a_new_time_is_noticed(
    pack: PackBuilder, load_cached: Callable[[], ContentLibrary]
) -> None:
    load_cached()
    path = pack.root / "scenarios" / "second-scenario.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("difficulty: 2", "difficulty: 3"), encoding="utf-8")
    _age(path, LONG_AGO_NS - HOUR_NS)  # same size, different (older) time
    assert load_cached().scenarios["second-scenario"].difficulty == 3


def test_a_deleted_file_disappears_from_the_library_and_the_index(
    pack: PackBuilder, index: Path, load_cached: Callable[[], ContentLibrary]
) -> None:
    load_cached()
    path = pack.root / "scenarios" / "second-scenario.md"
    old_key = file_key(path)
    assert old_key is not None
    path.unlink()

    library = load_cached()
    assert "second-scenario" not in library.scenarios
    assert _stored(index, pack.root, old_key) is None


def test_a_new_file_appears_and_only_it_is_parsed(
    pack: PackBuilder, load_cached: Callable[[], ContentLibrary], parses: ParseCounter
) -> None:
    load_cached()
    added = pack.scenario("third-scenario")
    _age(added)
    parses.calls.clear()

    library = load_cached()
    assert parses.calls == [added]
    assert set(library.scenarios) == {"sample-scenario", "second-scenario", "third-scenario"}


def test_adding_or_dropping_a_pack_changes_the_library(
    make_pack: Callable[..., PackBuilder], index: Path, tmp_path: Path
) -> None:
    core = make_pack("core")
    extra = make_pack("extra", defaults=False)
    extra.write("pack.yaml", "id: extra\n")
    extra.scenario("extra-scenario")
    _age(tmp_path)
    alone = load_library(builtin=core.root, cache_path=index)
    both = load_library([extra.root], builtin=core.root, cache_path=index)
    again = load_library(builtin=core.root, cache_path=index)

    assert "extra-scenario" not in alone.scenarios
    assert "extra-scenario" in both.scenarios
    assert again == alone == load_library(builtin=core.root)


def test_problems_are_cached_and_reported_the_same_way(
    pack: PackBuilder,
    samples: Any,
    load_cached: Callable[[], ContentLibrary],
    parses: ParseCounter,
) -> None:
    pack.scenario("broken", samples.scenario(front=samples.front_with("difficulty: 2", "")))
    pack.write("scenarios/binary.md", b"---\nid: binary\n\0\0\0")
    pack.scenario("dangling", samples.scenario("dangling").replace("least-privilege", "nope"))
    _age(pack.root)
    cold = load_cached()
    assert len(cold.problems) == 3
    parses.calls.clear()

    warm = load_cached()  # nothing changed: the whole library comes from the index
    assert parses.calls == []
    assert [str(p) for p in warm.problems] == [str(p) for p in cold.problems]

    _age(pack.root / "scenarios" / "sample-scenario.md", LONG_AGO_NS + HOUR_NS)
    again = load_cached()  # one file's time changed: the others come from their entries
    sample = pack.root / "scenarios" / "sample-scenario.md"
    dangling = pack.root / "scenarios" / "dangling.md"
    assert sorted(parses.calls) == sorted([sample, dangling])  # dangling: to find a line
    assert [str(p) for p in again.problems] == [str(p) for p in cold.problems]
    assert "broken" not in again.scenarios
    assert "dangling" not in again.scenarios


def test_a_changed_pack_id_parses_the_pack_again(
    tmp_path: Path,
    make_pack: Callable[..., PackBuilder],
    index: Path,
    parses: ParseCounter,
) -> None:
    core = make_pack("core")
    extra = make_pack("extra", defaults=False)
    extra.write("pack.yaml", "id: first\n")
    extra.scenario("extra-scenario")
    _age(tmp_path)
    load_library([extra.root], builtin=core.root, cache_path=index)
    extra.write("pack.yaml", "id: renamed\n")
    parses.calls.clear()

    library = load_library([extra.root], builtin=core.root, cache_path=index)
    assert library.scenarios["extra-scenario"].pack_id == "renamed"
    assert parses.calls == [extra.root / "scenarios" / "extra-scenario.md"]


def test_a_file_changed_just_now_is_not_kept(
    pack: PackBuilder, index: Path, parses: ParseCounter
) -> None:
    fresh = pack.scenario("fresh-scenario")  # its time is now: it could change unnoticed
    load_library(builtin=pack.root, cache_path=index)
    parses.calls.clear()
    load_library(builtin=pack.root, cache_path=index)
    assert parses.calls == [fresh]  # neither its entry nor the whole library was kept
    key = file_key(fresh)
    assert key is not None
    assert _stored(index, pack.root, key) is None
    old = file_key(pack.root / "scenarios" / "second-scenario.md")
    assert old is not None
    assert _stored(index, pack.root, old) is not None


def test_an_index_from_another_version_is_ignored_and_replaced(
    pack: PackBuilder, index: Path, parses: ParseCounter
) -> None:
    load_library(builtin=pack.root, cache_path=index)
    key = file_key(pack.root / "scenarios" / "second-scenario.md")
    assert key is not None
    assert _stored(index, pack.root, key, app_version="0.0.1") is None

    index.write_bytes(index.read_bytes().replace(b'"schema": 1', b'"schema": 0', 1))
    parses.calls.clear()
    library = load_library(builtin=pack.root, cache_path=index)
    assert len(parses.calls) == 5
    assert "second-scenario" in library.scenarios
    assert _stored(index, pack.root, key) is not None


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_a_damaged_index_means_a_full_load(
    pack: PackBuilder, index: Path, load_cached: Callable[[], ContentLibrary], damage: str
) -> None:
    expected = load_cached()
    data = index.read_bytes()
    header_end = data.index(b"}\n") + 2
    damaged = {
        "truncate": data[: len(data) // 2],
        "garbage": data[:header_end] + b"\x80\x05not a pickle at all",
        "empty": b"",
    }[damage]
    index.write_bytes(damaged)
    assert load_cached() == expected


class _Marker:
    """Unpickling this creates a file: the index must never get that far."""

    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self) -> tuple[Callable[[str], None], tuple[str]]:
        return (os.mkdir, (self.target,))


def _sections(index: Path) -> tuple[bytes, dict[str, Any], bytes, bytes]:
    """The header, directory, entries and library sections of an index file."""
    data = index.read_bytes()
    header_end = data.index(b"}\n") + 2
    directory_end = data.index(b"\n", header_end) + 1
    directory = json.loads(data[header_end:directory_end])
    body = data[directory_end:]
    packs_start, packs_length = directory["packs"]
    library_start, library_length = directory["library"]
    return (
        data[:header_end],
        directory,
        body[packs_start : packs_start + packs_length],
        body[library_start : library_start + library_length],
    )


def _rewrite(index: Path, header: bytes, digest: str | None, packs: bytes, library: bytes) -> None:
    directory = {"packs": [0, len(packs)], "library": [len(packs), len(library)], "digest": digest}
    index.write_bytes(header + json.dumps(directory).encode() + b"\n" + packs + library)


@pytest.mark.parametrize("part", ["entries", "pack entries", "library"])
def test_an_index_naming_any_other_class_is_refused_before_it_runs(
    pack: PackBuilder,
    index: Path,
    tmp_path: Path,
    load_cached: Callable[[], ContentLibrary],
    parses: ParseCounter,
    part: str,
) -> None:
    expected = load_cached()
    header, directory, packs, _library = _sections(index)
    target = tmp_path / "created-by-the-index"
    hostile = pickle.dumps({"x": _Marker(str(target))})
    if part == "entries":
        _rewrite(index, header, None, hostile, b"")
    elif part == "pack entries":
        _rewrite(index, header, None, pickle.dumps({str(pack.root): hostile}), b"")
    else:
        _rewrite(index, header, directory["digest"], packs, hostile)
    parses.calls.clear()

    assert load_cached() == expected
    assert not target.exists()
    # The entries are used when only the library was refused; otherwise all is parsed.
    assert len(parses.calls) == (0 if part == "library" else 5)
    parses.calls.clear()
    assert load_cached() == expected
    assert parses.calls == []  # the index was written again, whole


def test_the_library_and_the_entries_give_the_same_result(
    pack: PackBuilder, index: Path, load_cached: Callable[[], ContentLibrary], parses: ParseCounter
) -> None:
    expected = load_cached()
    header, _directory, packs, _library = _sections(index)
    _rewrite(index, header, None, packs, b"")  # no library: the entries must do
    parses.calls.clear()
    assert load_cached() == expected
    assert parses.calls == []


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX file ownership")
def test_an_index_others_can_write_is_ignored(
    pack: PackBuilder, index: Path, load_cached: Callable[[], ContentLibrary], parses: ParseCounter
) -> None:
    load_cached()
    index.chmod(0o666)
    parses.calls.clear()
    load_cached()
    assert len(parses.calls) == 5
    assert index.stat().st_mode & 0o077 == 0  # rewritten privately


def test_an_index_that_cannot_be_written_does_not_stop_loading(
    pack: PackBuilder, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go", encoding="utf-8")
    library = load_library(builtin=pack.root, cache_path=blocker / "content-index.pickle")
    assert "second-scenario" in library.scenarios


def test_the_index_is_written_with_a_header_naming_its_versions(
    index: Path, load_cached: Callable[[], ContentLibrary]
) -> None:
    load_cached()
    first_lines = index.read_bytes().split(b"\n", 2)
    assert first_lines[0] == b"thinktwice-content-index"
    assert f'"app": "{__version__}"'.encode() in first_lines[1]
    assert sys.version.split()[0].encode() in first_lines[1]
