"""The content index: what the last load found, kept so that the next start is fast.

Two parts. The *entries* are the outcome of parsing each file (its value and its
problems), keyed by the file's absolute path, size and modification time in nanoseconds
and by what the parse depended on besides the text (the kind of file and the pack id):
a changed file is parsed again, the others are taken from here. The *library* is the
whole result of the last load with a digest of everything that load read (the packs in
order, every file's key, what the walk found wrong): when nothing changed at all, it is
the result, with no parsing and no cross-checking.

The index lives in the app's own data folder and is written only by the app; reading it
is still guarded:

- the file must start with a header naming this format, the cache schema version, the
  app version and the Python version, or it is ignored;
- on POSIX it must be a regular file owned by the current user and writable by no one
  else, or it is ignored;
- the pickled parts may refer only to the content model's own classes (paths are stored
  as text); anything else makes that part unreadable, which only means a longer load.

A file whose modification time is within ``RACY_WINDOW_NS`` of the moment it was read is
not kept, nor a library that read one: it could change again without its size or time
changing, as with Git's "racily clean" index entries.

Layout: the header line, a JSON line giving where the two parts are and the library's
digest, then the entries (a pickled mapping of pack folder to that pack's pickled
entries) and the pickled library, each read only when needed.
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
from dataclasses import fields
from pathlib import Path, PurePath
from typing import Any, BinaryIO, NamedTuple

from app import __version__
from app.content.parsing import FlagEntry
from app.core.model import (
    Check,
    ContentLibrary,
    ContentProblem,
    Decision,
    Lesson,
    Pack,
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
_DIRECTORY_LIMIT = 4096

_log = logging.getLogger(__name__)

# The frozen dataclasses an entry may hold; each is pickled as ``cls(*fields)``.
_VALUE_CLASSES: tuple[type[Any], ...] = (
    Check,
    ContentLibrary,
    ContentProblem,
    FlagEntry,
    Lesson,
    Pack,
    RedFlag,
    Revision,
    Scenario,
    SourceRef,
    Step,
    Track,
    TrackItem,
)
_GLOBAL_CLASSES: tuple[type[Any], ...] = (*_VALUE_CLASSES, Decision, TrackItemKind)
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


class CachedResult(NamedTuple):
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
    absolute = name if path.is_absolute() else os.path.abspath(name)
    return FileKey(absolute, info.st_size, info.st_mtime_ns)


class ContentCache:
    """The content index of one data folder, for one load.

    Two parts, read only when needed: the whole library of the last load, with the
    digest of everything that load read (:meth:`library`), and the entries of each
    pack's files (:meth:`pack`). A load that reads the same as the last one takes the
    library; otherwise it takes each unchanged file's entry from :meth:`pack`
    (:meth:`PackIndex.get` before parsing a file, :meth:`PackIndex.put` after) and leaves
    the new library with :meth:`keep_library`. :meth:`save` writes what was used (files
    and packs that are gone disappear), only when anything changed.
    """

    def __init__(self, path: Path, *, app_version: str = __version__) -> None:
        self.path = path
        self.app_version = app_version
        self._handle: BinaryIO | None = None
        self._sections: dict[str, tuple[int, int]] = {}
        self._stored_digest: str | None = None
        self._stored: dict[str, bytes] | None = None  # pack folder -> entries, pickled
        self._packs: dict[str, PackIndex] = {}
        self._new_library: tuple[str, ContentLibrary] | None = None
        self._library_used = False

    @classmethod
    def open(cls, path: Path, *, app_version: str = __version__) -> ContentCache:
        """The index at ``path``; empty when it is missing, foreign, stale or unreadable."""
        cache = cls(path, app_version=app_version)
        try:
            cache._open()
        except FileNotFoundError:
            pass
        except Exception as error:  # any fault here only means parsing everything again
            _log.info("content index %s not used: %s", path, error)
            cache.close()
        return cache

    def library(self, digest: str, known: dict[str, Path]) -> ContentLibrary | None:
        """The library of the last load, if everything it read is as it was then.

        ``digest`` sums up what the load reads (see the loader); ``known`` gives paths
        back as the caller's objects, as in :meth:`pack`.
        """
        if self._stored_digest is None or self._stored_digest != digest:
            return None
        try:
            library = _EntryUnpickler(self._section("library"), known).load()
        except Exception as error:
            _log.info("content index library not used: %s", error)
            self._stored_digest = None  # so that save() replaces it
            return None
        if not isinstance(library, ContentLibrary):
            self._stored_digest = None
            return None
        self._library_used = True
        return library

    def keep_library(self, digest: str, library: ContentLibrary) -> None:
        """Keep ``library`` for the next load that reads the same as this one."""
        self._new_library = (digest, library)

    def pack(self, root: Path, files: Iterable[Path]) -> PackIndex:
        """The entries of the pack at ``root``, whose content files are ``files``.

        The paths in the entries are the very ``files`` objects where they match, which
        saves building thousands of paths again.
        """
        folder = str(root)
        blob = self._stored_packs().get(folder)
        entries: dict[str, _Entry] = {}
        if blob is not None:
            try:
                entries = _unpickle_entries(blob, {str(path): path for path in files})
            except Exception as error:
                _log.info("content index entries of %s not used: %s", root, error)
                blob = None
        index = PackIndex(entries, blob)
        self._packs[folder] = index
        return index

    @property
    def changed(self) -> bool:
        """Whether :meth:`save` has anything to write."""
        if self._library_used:
            return False  # everything read was as before
        new_digest = self._new_library[0] if self._new_library else None
        return (
            self._stored_digest != new_digest
            or self._packs.keys() != self._stored_packs().keys()
            or any(index.changed for index in self._packs.values())
        )

    def save(self) -> bool:
        """Write the packs used since :meth:`open` if anything changed; ``True`` if written.

        Writing is atomic (a temporary file, then a rename) and never raises: without an
        index the next start is only slower.
        """
        try:
            if not self.changed:
                return False
            blobs = {folder: index.pickled() for folder, index in self._packs.items()}
            library = b""
            digest = None
            if self._new_library is not None:
                digest, value = self._new_library
                library = _pickle_value(value)
            self._write(blobs, digest, library)
        except Exception as error:
            _log.info("content index %s not written: %s", self.path, error)
            return False
        finally:
            self.close()
        return True

    def close(self) -> None:
        """Let go of the index file (:meth:`save` does so too)."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def _header(self) -> bytes:
        described = {
            "schema": CACHE_SCHEMA_VERSION,
            "app": self.app_version,
            "python": sys.version.split()[0],
            "platform": sys.platform,
        }
        return _MAGIC + json.dumps(described, sort_keys=True).encode("ascii") + b"\n"

    def _open(self) -> None:
        # The file stays open until the sections needed are read: a newer index that
        # replaces it meanwhile (another copy of the app) cannot mix with this one.
        handle = open(self.path, "rb")  # noqa: SIM115 (closed by close())
        self._handle = handle
        _check_private(os.fstat(handle.fileno()))
        header = self._header()
        if handle.read(len(header)) != header:
            raise ValueError("written by another version or not a content index")
        directory = json.loads(handle.readline(_DIRECTORY_LIMIT))
        base = handle.tell()
        sections: dict[str, tuple[int, int]] = {}
        for name in ("packs", "library"):
            start, length = directory[name]
            if not (isinstance(start, int) and isinstance(length, int)):
                raise ValueError("unexpected content")
            sections[name] = (base + start, length)
        digest = directory["digest"]
        if digest is not None and not isinstance(digest, str):
            raise ValueError("unexpected content")
        self._sections = sections
        self._stored_digest = digest

    def _section(self, name: str) -> bytes:
        if self._handle is None or name not in self._sections:
            raise ValueError("no such section")
        start, length = self._sections[name]
        self._handle.seek(start)
        data = self._handle.read(length)
        if len(data) != length:
            raise ValueError("the index is cut short")
        return data

    def _stored_packs(self) -> dict[str, bytes]:
        if self._stored is None:
            self._stored = {}
            if self._handle is not None:
                try:
                    self._stored = _read_packs(self._section("packs"))
                except Exception as error:
                    _log.info("content index entries not used: %s", error)
        return self._stored

    def _write(self, blobs: dict[str, bytes], digest: str | None, library: bytes) -> None:
        folder = self.path.parent
        folder.mkdir(parents=True, exist_ok=True)
        packs = pickle.dumps(blobs, protocol=_PICKLE_PROTOCOL)
        directory = {
            "packs": [0, len(packs)],
            "library": [len(packs), len(library)],
            "digest": digest,
        }
        # mkstemp creates the file readable and writable by the owner only.
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".content-index-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as output:
                output.write(self._header())
                output.write(json.dumps(directory).encode("ascii") + b"\n")
                output.write(packs)
                output.write(library)
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise


def _read_packs(data: bytes) -> dict[str, bytes]:
    packs = _RestrictedUnpickler(io.BytesIO(data)).load()
    if not isinstance(packs, dict) or not all(
        isinstance(key, str) and isinstance(value, bytes) for key, value in packs.items()
    ):
        raise ValueError("unexpected content")
    return packs


class PackIndex:
    """The content index entries of one pack, for one load."""

    def __init__(self, entries: dict[str, _Entry], pickled: bytes | None = None) -> None:
        self._previous = entries
        self._current: dict[str, _Entry] = {}
        self._pickled = pickled
        self._changed = False

    @property
    def changed(self) -> bool:
        """Whether the entries differ from those read."""
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

    def pickled(self) -> bytes:
        """The entries used in this load, pickled (as read, when nothing changed)."""
        if not self.changed and self._pickled is not None:
            return self._pickled
        return _pickle_value(self._current)


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
    """Builds only the content model's classes; refuses every other global."""

    def find_class(self, module: str, name: str) -> Any:
        found = _ALLOWED_GLOBALS.get((module, name))
        if found is None:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a content index")
        return found


class _EntryUnpickler(_RestrictedUnpickler):
    """Gives paths back as the loader's own path objects where it knows them."""

    def __init__(self, data: bytes, known: dict[str, Path]) -> None:
        super().__init__(io.BytesIO(data))
        self._known = known

    def persistent_load(self, pid: Any) -> Path:
        if type(pid) is not str:
            raise pickle.UnpicklingError("a path in a content index must be text")
        found = self._known.get(pid)
        return found if found is not None else Path(pid)


class _EntryPickler(pickle.Pickler):
    """Stores paths as their text, to be given back by :class:`_EntryUnpickler`."""

    def persistent_id(self, obj: Any) -> str | None:
        return str(obj) if isinstance(obj, PurePath) else None


def _pickle_value(value: object) -> bytes:
    buffer = io.BytesIO()
    pickler = _EntryPickler(buffer, protocol=_PICKLE_PROTOCOL)
    pickler.dispatch_table = _DISPATCH_TABLE
    pickler.dump(value)
    return buffer.getvalue()


def _unpickle_entries(data: bytes, known: dict[str, Path]) -> dict[str, _Entry]:
    entries = _EntryUnpickler(data, known).load()
    if not isinstance(entries, dict):
        raise ValueError("unexpected content")
    return entries


def _constructor_reducer(cls: type[Any]) -> Callable[[Any], tuple[Any, tuple[Any, ...]]]:
    # Rebuilding through the constructor is about twice as fast as the default
    # ``__setstate__`` of a frozen dataclass with slots.
    names = [item.name for item in fields(cls)]
    getter = operator.attrgetter(*names)
    if len(names) == 1:
        return lambda obj: (cls, (getter(obj),))
    return lambda obj: (cls, getter(obj))


_DISPATCH_TABLE: dict[type[Any], Callable[[Any], Any]] = {
    **copyreg.dispatch_table,
    **{cls: _constructor_reducer(cls) for cls in _VALUE_CLASSES},
}
