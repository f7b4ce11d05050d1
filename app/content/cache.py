"""The content index: parsed content files kept between starts, so unchanged files load fast.

Each entry is the outcome of parsing one file (its value and its problems), keyed by the
file's absolute path, size and modification time in nanoseconds, and by what the parse
depended on besides the text (the kind of file and the pack id). The index lives in the
app's own data folder and is written only by the app; reading it is still guarded:

- the file must start with a header naming this format, the cache schema version, the
  app version and the Python version, or it is ignored;
- on POSIX it must be a regular file owned by the current user and writable by no one
  else, or it is ignored;
- the pickle payload may refer only to the content model's own classes and ``Path``;
  anything else makes the whole index unreadable, which only means a full load.

A file whose modification time is within ``RACY_WINDOW_NS`` of the moment it was parsed
is not kept: it could change again without its size or time changing, as with Git's
"racily clean" index entries.
"""

from __future__ import annotations

import contextlib
import copyreg
import io
import json
import logging
import operator
import os
import pickle
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from pathlib import Path, PurePath
from typing import Any, NamedTuple

from app import __version__
from app.content.parsing import FlagEntry
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

CACHE_SCHEMA_VERSION = 1
CACHE_FOLDER_NAME = "cache"
CACHE_FILE_NAME = "content-index.pickle"
RACY_WINDOW_NS = 2_000_000_000  # FAT keeps times to 2 s; finer file systems lose little
_MAGIC = b"thinktwice-content-index\n"
_PICKLE_PROTOCOL = 5

_log = logging.getLogger(__name__)

# The frozen dataclasses an entry may hold; each is pickled as ``cls(*fields)``.
_VALUE_CLASSES: tuple[type[Any], ...] = (
    Check,
    ContentProblem,
    FlagEntry,
    Lesson,
    RedFlag,
    Revision,
    Scenario,
    SourceRef,
    Step,
    Track,
    TrackItem,
)
_GLOBAL_CLASSES: tuple[type[Any], ...] = (*_VALUE_CLASSES, Decision, TrackItemKind, Path)
_ALLOWED_GLOBALS: dict[tuple[str, str], type[Any]] = {
    (cls.__module__, cls.__qualname__): cls for cls in _GLOBAL_CLASSES
}

# path -> (size, mtime_ns, kind, pack_id, readable, value, problems)
_Entry = tuple[int, int, str, str, bool, object, tuple[ContentProblem, ...]]


class FileKey(NamedTuple):
    """What identifies one version of a file: absolute path, size, modification time."""

    path: str
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class CachedResult:
    """A file's outcome taken from the index: its value, or that it could not be read."""

    readable: bool
    value: object
    problems: tuple[ContentProblem, ...]


def default_cache_path(data_dir: Path) -> Path:
    """Where the content index lives in a data folder."""
    return data_dir / CACHE_FOLDER_NAME / CACHE_FILE_NAME


def file_key(path: Path) -> FileKey | None:
    """The key of ``path`` as it is now; ``None`` when it is not a regular file we can stat.

    Take the key before reading the file: a change after that gives a newer key, so the
    entry stored with the old key is never used for the new text.
    """
    name = os.fspath(path)
    try:
        info = os.stat(name)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return FileKey(
        name if os.path.isabs(name) else os.path.abspath(name), info.st_size, info.st_mtime_ns
    )


class ContentCache:
    """The content index of one data folder, read once at the start of a load.

    Use :meth:`get` before parsing a file and :meth:`put` after; :meth:`save` then writes
    the entries used in this load (so files that are gone disappear) when anything changed.
    """

    def __init__(self, path: Path, *, app_version: str = __version__) -> None:
        self.path = path
        self.app_version = app_version
        self._previous: dict[str, _Entry] = {}
        self._current: dict[str, _Entry] = {}
        self._changed = False

    @classmethod
    def open(cls, path: Path, *, app_version: str = __version__) -> ContentCache:
        """The index at ``path``; empty when it is missing, foreign, stale or unreadable."""
        cache = cls(path, app_version=app_version)
        try:
            cache._previous = cache._read()
        except FileNotFoundError:
            pass
        except Exception as error:  # any fault here only means parsing everything again
            _log.info("content index %s not used: %s", path, error)
        return cache

    @property
    def changed(self) -> bool:
        """Whether :meth:`save` has anything to write."""
        return self._changed or len(self._current) != len(self._previous)

    def get(self, key: FileKey, kind: str, pack_id: str) -> CachedResult | None:
        """The stored outcome for this version of the file, or ``None`` (parse it)."""
        entry = self._previous.get(key.path)
        if (
            entry is None
            or entry[0] != key.size
            or entry[1] != key.mtime_ns
            or entry[2] != kind
            or entry[3] != pack_id
        ):
            return None
        self._current[key.path] = entry
        return CachedResult(entry[4], entry[5], entry[6])

    def put(
        self,
        key: FileKey,
        kind: str,
        pack_id: str,
        value: object,
        problems: Iterable[ContentProblem],
        *,
        readable: bool = True,
    ) -> None:
        """Remember a file's fresh outcome, unless its time is too recent to trust.

        ``readable`` is ``False`` when the file could not be read as text at all
        (``problems`` then says why) rather than parsed into ``value`` (maybe ``None``).
        """
        self._changed = True
        if key.mtime_ns >= time.time_ns() - RACY_WINDOW_NS:
            self._current.pop(key.path, None)
            return
        entry = (key.size, key.mtime_ns, kind, pack_id, readable, value, tuple(problems))
        self._current[key.path] = entry

    def save(self) -> bool:
        """Write the entries used since :meth:`open` if anything changed; ``True`` if written.

        Writing is atomic (a temporary file, then a rename) and never raises: without an
        index the next start is only slower.
        """
        if not self.changed:
            return False
        try:
            self._write()
        except Exception as error:
            _log.info("content index %s not written: %s", self.path, error)
            return False
        self._previous = dict(self._current)
        self._changed = False
        return True

    def _header(self) -> bytes:
        described = {
            "schema": CACHE_SCHEMA_VERSION,
            "app": self.app_version,
            "python": sys.version.split()[0],
            "platform": sys.platform,
        }
        return _MAGIC + json.dumps(described, sort_keys=True).encode("ascii") + b"\n"

    def _read(self) -> dict[str, _Entry]:
        with open(self.path, "rb") as handle:
            _check_private(os.fstat(handle.fileno()))
            data = handle.read()
        header = self._header()
        if not data.startswith(header):
            raise ValueError("written by another version or not a content index")
        payload = io.BytesIO(memoryview(data)[len(header) :])
        entries = _RestrictedUnpickler(payload).load()
        if not isinstance(entries, dict):
            raise ValueError("unexpected content")
        return entries

    def _write(self) -> None:
        folder = self.path.parent
        folder.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        buffer.write(self._header())
        pickler = pickle.Pickler(buffer, protocol=_PICKLE_PROTOCOL)
        pickler.dispatch_table = _DISPATCH_TABLE
        pickler.dump(self._current)
        # mkstemp creates the file readable and writable by the owner only.
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".content-index-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as output:
                output.write(buffer.getbuffer())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise


def _check_private(info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise ValueError("not a regular file")
    getuid: Callable[[], int] | None = getattr(os, "getuid", None)
    if getuid is None:  # Windows: the per-user data folder's permissions protect it
        return
    if info.st_uid != getuid():
        raise ValueError("owned by another user")
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise ValueError("writable by other users")


class _RestrictedUnpickler(pickle.Unpickler):
    """Builds only the content model's classes and paths; refuses every other global."""

    def find_class(self, module: str, name: str) -> Any:
        found = _ALLOWED_GLOBALS.get((module, name))
        if found is None:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a content index")
        return found


def _constructor_reducer(cls: type[Any]) -> Callable[[Any], tuple[Any, tuple[Any, ...]]]:
    # Rebuilding through the constructor is about twice as fast as the default
    # ``__setstate__`` of a frozen dataclass with slots.
    names = [item.name for item in fields(cls)]
    getter = operator.attrgetter(*names)
    if len(names) == 1:
        return lambda obj: (cls, (getter(obj),))
    return lambda obj: (cls, getter(obj))


def _path_reducer(path: PurePath) -> tuple[type[Path], tuple[str]]:
    return Path, (str(path),)


_DISPATCH_TABLE: dict[type[Any], Callable[[Any], Any]] = {
    **copyreg.dispatch_table,
    **{cls: _constructor_reducer(cls) for cls in _VALUE_CLASSES},
    type(Path()): _path_reducer,
}
