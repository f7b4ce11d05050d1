"""Loading every content pack into one ``ContentLibrary``.

``load_library`` never raises for bad content. A broken file is skipped and reported as
a ``ContentProblem`` (``path:line: message``); everything else still loads. Loading
runs in three passes: parse each file on its own, keep the first of any clashing ids,
then drop whatever refers to a lesson, flag or scenario that did not load (repeating
until nothing changes, so the library never holds a dangling reference).
"""

from __future__ import annotations

import difflib
import gc
import hashlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from app.content.cache import (
    CACHE_SCHEMA_VERSION,
    RACY_WINDOW_NS,
    ContentCache,
    FileKey,
    PackIndex,
    file_key,
)
from app.content.files import PackFiles, ReadError, find_pack_files, read_text
from app.content.locations import builtin_pack_root
from app.content.parsing import (
    FlagEntry,
    Parsed,
    parse_lesson,
    parse_pack,
    parse_red_flags,
    parse_scenario,
    parse_track,
)
from app.content.schema import PackModel
from app.core.model import (
    CORE_PACK_ID,
    ContentLibrary,
    ContentProblem,
    Lesson,
    Pack,
    RedFlag,
    Scenario,
    Track,
    TrackItemKind,
)


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


T = TypeVar("T")
ItemT = TypeVar("ItemT", bound=_Identified)
Location = tuple[str | int, ...]


@dataclass(slots=True)
class _Loaded(Generic[T]):
    """One loaded item with what is needed to report problems about it later."""

    value: T
    path: Path
    locate: Callable[[Location], int]
    index: Location = ()  # where the item sits in its file (flags share one file)

    def problem(self, location: Location, message: str) -> ContentProblem:
        """A problem about this item, at the line of ``location`` within it."""
        return ContentProblem(self.path, message, self.locate(self.index + location))


@dataclass(slots=True)
class _Catalogue:
    """Items of every pack, keyed by id, before cross-checking."""

    flags: dict[str, _Loaded[RedFlag]] = field(default_factory=dict)
    lessons: dict[str, _Loaded[Lesson]] = field(default_factory=dict)
    scenarios: dict[str, _Loaded[Scenario]] = field(default_factory=dict)
    tracks: dict[str, _Loaded[Track]] = field(default_factory=dict)
    # Ids that parsed at all, so a reference to a skipped one gets the right message.
    parsed_ids: dict[str, set[str]] = field(
        default_factory=lambda: {"flag": set(), "lesson": set(), "scenario": set()}
    )


def load_library(
    extra_packs: Sequence[Path] = (),
    *,
    builtin: Path | None = None,
    cache_path: Path | None = None,
) -> ContentLibrary:
    """Load the built-in pack (id ``core``) and then ``extra_packs``, in that order.

    With ``cache_path``, the content index there (see ``app.content.cache``) gives the
    whole library when no file changed since the last load, and otherwise each file whose
    path, size and modification time match, so only changed files are parsed; the index
    is rewritten when anything changed. The result is the same as without it; a missing,
    stale or unreadable index only means a longer load.
    """
    with _collector_paused():
        cache = ContentCache.open(cache_path) if cache_path is not None else None
        library = _load(extra_packs, builtin, cache)
        if cache is not None:
            cache.save()
        return library


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while loading.

    Loading allocates many small objects that all stay alive; the collector would scan
    them again and again as the library grows, finding nothing to free.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass(slots=True)
class _Walked:
    """A pack folder as found, before anything in it is parsed."""

    root: Path | None  # None: not found (``problem`` says so) or already loaded
    is_builtin: bool
    files: PackFiles = field(default_factory=PackFiles)
    problem: ContentProblem | None = None


def _load(
    extra_packs: Sequence[Path], builtin: Path | None, cache: ContentCache | None
) -> ContentLibrary:
    walked = _walk([(builtin if builtin is not None else builtin_pack_root(), True)])
    walked += _walk([(path, False) for path in extra_packs], {w.root for w in walked})
    keys: dict[str, FileKey | None] | None = None
    digest: str | None = None
    if cache is not None:
        keys = {}
        digest = _fingerprint(walked, keys)
        if digest is not None:
            # The paths in the stored library come back as the walk's own path objects.
            known = _walked_paths(walked)
            known.update((str(w.root), w.root) for w in walked if w.root is not None)
            found = cache.library(digest, known)
            if found is not None:
                return found
    library = ContentLibrary()
    catalogue = _Catalogue()
    for pack in walked:
        if pack.problem is not None:
            library.problems.append(pack.problem)
        elif pack.root is not None:
            _load_pack(pack.root, pack.is_builtin, pack.files, library, catalogue, cache, keys)
    _cross_check(catalogue, library.problems)
    library.red_flags = {key: item.value for key, item in catalogue.flags.items()}
    library.lessons = {key: item.value for key, item in catalogue.lessons.items()}
    library.scenarios = {key: item.value for key, item in catalogue.scenarios.items()}
    library.tracks = {key: item.value for key, item in catalogue.tracks.items()}
    if cache is not None and digest is not None:
        cache.keep_library(digest, library)
    return library


def _walk(
    packs: Sequence[tuple[Path, bool]], seen: set[Path | None] | None = None
) -> list[_Walked]:
    """Find each pack's files; the same folder given twice is loaded once."""
    roots = set(seen or ())
    walked = []
    for path, is_builtin in packs:
        root, problem = _pack_root(path)
        if root is None or root in roots:
            walked.append(_Walked(None, is_builtin, problem=problem))
            continue
        roots.add(root)
        walked.append(_Walked(root, is_builtin, find_pack_files(root)))
    return walked


def _walked_paths(walked: Sequence[_Walked]) -> dict[str, Path]:
    return {
        str(path): path
        for pack in walked
        for path in (*_listed_files(pack.files), *(p.path for p in pack.files.problems))
    }


def _listed_files(files: PackFiles) -> list[Path]:
    pack_file = [files.pack_file] if files.pack_file is not None else []
    return [*pack_file, *_content_files(files)]


def _fingerprint(walked: Sequence[_Walked], keys: dict[str, FileKey | None]) -> str | None:
    """What the whole library depends on, as a digest; fills ``keys`` on the way.

    Everything the load reads is in it: the packs in order, every file's path, size and
    modification time, and what the walk found wrong. ``None`` when a file could change
    unseen (it cannot be stat'ed, or changed within the last seconds): then the library
    is neither taken from the index nor kept in it.
    """
    now = time.time_ns()
    trusted = True
    lines = [f"content index {CACHE_SCHEMA_VERSION}"]
    for pack in walked:
        lines.append(f"pack {pack.root} {pack.is_builtin} {pack.problem}")
        lines.extend(f"problem {problem}" for problem in pack.files.problems)
        for path in _listed_files(pack.files):
            key = file_key(path)
            keys[str(path)] = key
            if key is None or key.mtime_ns >= now - RACY_WINDOW_NS:
                trusted = False
                continue
            lines.append(f"file {key.size} {key.mtime_ns} {key.path}")
    if not trusted:
        return None
    return hashlib.sha256("\n".join(lines).encode("utf-8", "surrogateescape")).hexdigest()


def _pack_root(path: Path) -> tuple[Path | None, ContentProblem | None]:
    try:
        root = path.expanduser().resolve()
        exists = root.is_dir()
    except (OSError, RuntimeError):
        exists = False
    if not exists:
        return None, ContentProblem(path, "content pack folder not found (or not a folder)", None)
    return root, None


def _load_pack(
    root: Path,
    is_builtin: bool,
    files: PackFiles,
    library: ContentLibrary,
    catalogue: _Catalogue,
    cache: ContentCache | None,
    keys: dict[str, FileKey | None] | None,
) -> None:
    problems = library.problems
    problems.extend(files.problems)
    index = cache.pack(root, _content_files(files)) if cache is not None else None
    pack = _pack(root, is_builtin, files, problems)
    if pack.id in library.packs:
        where = files.pack_file if files.pack_file is not None else root
        problems.append(
            ContentProblem(
                where,
                f"pack id '{pack.id}' is already used by the pack in "
                f"{library.packs[pack.id].root}; give this pack its own id in pack.yaml",
                1 if files.pack_file is not None else None,
            )
        )
        return
    library.packs[pack.id] = pack

    def read(path: Path, parse: Callable[[str, Path, str], Parsed[T]]) -> Parsed[T] | None:
        key = keys.get(str(path)) if keys is not None else None
        return _read_and_parse(path, parse, pack.id, problems, index, key)

    if files.red_flags is not None:
        flags = read(files.red_flags, parse_red_flags)
        if flags is not None:
            _add_flags(flags, catalogue, problems)
    for path in files.lessons:
        _add(path, read(path, parse_lesson), "lesson", catalogue.lessons, catalogue, problems)
    for path in files.scenarios:
        scenario = read(path, parse_scenario)
        _add(path, scenario, "scenario", catalogue.scenarios, catalogue, problems)
    for path in files.tracks:
        _add(path, read(path, parse_track), "track", catalogue.tracks, catalogue, problems)


def _content_files(files: PackFiles) -> list[Path]:
    found = [files.red_flags] if files.red_flags is not None else []
    return [*found, *files.scenarios, *files.lessons, *files.tracks]


def _read_and_parse(
    path: Path,
    parse: Callable[[str, Path, str], Parsed[T]],
    pack_id: str,
    problems: list[ContentProblem],
    cache: PackIndex | None = None,
    key: FileKey | None = None,
) -> Parsed[T] | None:
    """Read and parse one file, or take its outcome from ``cache``.

    ``key`` is the file's key when the caller already took it (before reading, as it
    must be).
    """
    kind = parse.__name__
    if cache is not None and key is None:
        key = file_key(path)
    if cache is not None and key is not None:
        hit = cache.get(key, kind, pack_id)
        if hit is not None:
            problems.extend(hit.problems)
            if not hit.readable:
                return None
            value: T | None = hit.value  # type: ignore[assignment]  # stored by this kind
            return Parsed(path, value, list(hit.problems), _Relocator(path, parse, pack_id))
    try:
        text = read_text(path)
    except ReadError as error:
        problem = ContentProblem(path, error.message, error.line)
        problems.append(problem)
        if cache is not None and key is not None:
            cache.put(key, kind, pack_id, None, (problem,), readable=False)
        return None
    try:
        parsed = parse(text, path, pack_id)
    except Exception as error:  # one file must never stop the rest from loading
        problems.append(
            ContentProblem(
                path,
                f"this file could not be loaded because of an unexpected error "
                f"({type(error).__name__}: {error}); please report it",
                1,
            )
        )
        return None
    problems.extend(parsed.problems)
    if cache is not None and key is not None:
        cache.put(key, kind, pack_id, parsed.value, parsed.problems)
    return parsed


class _Relocator(Generic[T]):
    """Finds the line of a key in a file taken from the content index.

    The index keeps no line map, so the first problem found later (an unknown id, a
    clash) parses the file again; that happens only for files with such problems.
    """

    def __init__(
        self, path: Path, parse: Callable[[str, Path, str], Parsed[T]], pack_id: str
    ) -> None:
        self._path = path
        self._parse = parse
        self._pack_id = pack_id
        self._locate: Callable[[Location], int] | None = None

    def __call__(self, location: Location) -> int:
        if self._locate is None:
            try:
                self._locate = self._parse(read_text(self._path), self._path, self._pack_id).locate
            except Exception:  # the file changed or vanished since: point at its top
                self._locate = _first_line
        return self._locate(location)


def _first_line(_location: Location) -> int:
    return 1


def _pack(root: Path, is_builtin: bool, files: PackFiles, problems: list[ContentProblem]) -> Pack:
    meta = PackModel()
    if files.pack_file is not None:
        parsed = _read_and_parse(
            files.pack_file, lambda text, path, _: parse_pack(text, path), "", problems
        )
        if parsed is not None and parsed.value is not None:
            meta = parsed.value
            if is_builtin and meta.id not in (None, CORE_PACK_ID):
                problems.append(
                    parsed.problem(
                        ("id",),
                        f"the built-in pack's id is always '{CORE_PACK_ID}'; "
                        "remove 'id' from its pack.yaml",
                    )
                )
    pack_id = CORE_PACK_ID if is_builtin else (meta.id or root.name)
    return Pack(
        id=pack_id,
        root=root,
        title=meta.title,
        version=meta.version,
        author=meta.author,
        license=meta.license,
        description=meta.description,
    )


def _add(
    path: Path,
    parsed: Parsed[ItemT] | None,
    kind: str,
    table: dict[str, _Loaded[ItemT]],
    catalogue: _Catalogue,
    problems: list[ContentProblem],
) -> None:
    if parsed is None or parsed.value is None:
        # The file name is the id it was meant to have, so references to it can say
        # that it failed rather than that it does not exist.
        catalogue.parsed_ids.setdefault(kind, set()).add(path.stem)
        return
    item = parsed.value
    identifier = item.id
    catalogue.parsed_ids.setdefault(kind, set()).add(identifier)
    existing = table.get(identifier)
    if existing is not None:
        problems.append(
            parsed.problem(
                ("id",),
                f"{kind} id '{identifier}' is already used by {existing.path}; "
                "ids must be unique across all loaded packs",
            )
        )
        return
    table[identifier] = _Loaded(item, parsed.path, parsed.locate)


def _add_flags(
    parsed: Parsed[list[FlagEntry]], catalogue: _Catalogue, problems: list[ContentProblem]
) -> None:
    for entry in parsed.value or []:
        flag = entry.flag
        catalogue.parsed_ids["flag"].add(flag.id)
        existing = catalogue.flags.get(flag.id)
        if existing is not None:
            problems.append(
                parsed.problem(
                    (entry.index, "id"),
                    f"red flag '{flag.id}' is already defined in {existing.path}; a pack "
                    "may add red flags but not redefine one",
                )
            )
            continue
        catalogue.flags[flag.id] = _Loaded(flag, parsed.path, parsed.locate, (entry.index,))


_HINTS = {
    "red flag": "use an id defined in a loaded pack's scenarios/red-flags.yaml",
    "lesson": "each lesson is a file lessons/ID.md in a loaded pack",
    "scenario": "each scenario is a file scenarios/ID.md in a loaded pack",
}
_ID_KINDS = {"red flag": "flag", "lesson": "lesson", "scenario": "scenario"}


def _reference_problem(
    kind: str, ref: str, where: str, known: Iterable[str], catalogue: _Catalogue
) -> str:
    if ref in catalogue.parsed_ids[_ID_KINDS[kind]]:
        return f"{kind} '{ref}'{where} did not load (see the problem reported for it)"
    message = f"unknown {kind} '{ref}'{where}"
    close = difflib.get_close_matches(ref, list(known), n=1)
    if close:
        return f"{message}; did you mean '{close[0]}'?"
    return f"{message}; {_HINTS[kind]}"


def _cross_check(catalogue: _Catalogue, problems: list[ContentProblem]) -> None:
    """Drop items that refer to something missing, until every reference resolves."""
    changed = True
    while changed:
        changed = False
        for key, lesson in list(catalogue.lessons.items()):
            found = [
                lesson.problem(
                    ("flags", i),
                    _reference_problem("red flag", ref, " in 'flags'", catalogue.flags, catalogue),
                )
                for i, ref in enumerate(lesson.value.flags)
                if ref not in catalogue.flags
            ]
            if found:
                problems.extend(found)
                del catalogue.lessons[key]
                changed = True
        for key, flag in list(catalogue.flags.items()):
            ref = flag.value.lesson
            if ref is not None and ref not in catalogue.lessons:
                where = f" in flag '{key}'"
                problems.append(
                    flag.problem(
                        ("lesson",),
                        _reference_problem("lesson", ref, where, catalogue.lessons, catalogue),
                    )
                )
                del catalogue.flags[key]
                changed = True
    for key, scenario in list(catalogue.scenarios.items()):
        found = list(_scenario_reference_problems(scenario, catalogue))
        if found:
            problems.extend(found)
            del catalogue.scenarios[key]
    for key, track in list(catalogue.tracks.items()):
        found = list(_track_reference_problems(track, catalogue))
        if found:
            problems.extend(found)
            del catalogue.tracks[key]


def _scenario_reference_problems(
    loaded: _Loaded[Scenario], catalogue: _Catalogue
) -> Iterable[ContentProblem]:
    scenario = loaded.value
    for i, ref in enumerate(scenario.lessons):
        if ref not in catalogue.lessons:
            yield loaded.problem(
                ("lessons", i),
                _reference_problem("lesson", ref, " in 'lessons'", catalogue.lessons, catalogue),
            )
    for s, step in enumerate(scenario.steps):
        for key, refs in (("flags", step.flags), ("decoys", step.decoys)):
            for i, ref in enumerate(refs):
                if ref not in catalogue.flags:
                    where = f" in '{key}' of step '{step.id}'"
                    yield loaded.problem(
                        ("steps", s, key, i),
                        _reference_problem("red flag", ref, where, catalogue.flags, catalogue),
                    )


def _track_reference_problems(
    loaded: _Loaded[Track], catalogue: _Catalogue
) -> Iterable[ContentProblem]:
    for i, item in enumerate(loaded.value.items):
        where = f" (item {i + 1})"
        if item.kind is TrackItemKind.LESSON and item.ref not in catalogue.lessons:
            message = _reference_problem("lesson", item.ref, where, catalogue.lessons, catalogue)
            yield loaded.problem(("items", i), message)
        elif item.kind is TrackItemKind.SCENARIO and item.ref not in catalogue.scenarios:
            message = _reference_problem(
                "scenario", item.ref, where, catalogue.scenarios, catalogue
            )
            yield loaded.problem(("items", i), message)
