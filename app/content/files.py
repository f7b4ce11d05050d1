"""Finding and reading a pack's files without trusting them.

Packs are shared between teams, so nothing here follows a symbolic link out of its
pack, opens anything but a regular file, reads more than ``MAX_FILE_BYTES`` of one, or
hands on bytes that are not UTF-8 text.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from app.core.model import ContentProblem

MAX_FILE_BYTES = 1024 * 1024
PACK_FILE = "pack.yaml"
SCENARIOS_DIR = "scenarios"
RED_FLAGS_FILE = "red-flags.yaml"
LESSONS_DIR = "lessons"
TRACKS_DIR = "tracks"
_NON_BLOCKING = getattr(os, "O_NONBLOCK", 0)


class ReadError(Exception):
    """A file that cannot be used as text; ``line`` is 1-based."""

    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(slots=True)
class PackFiles:
    """The content files found in one pack, each a path inside the pack."""

    pack_file: Path | None = None
    red_flags: Path | None = None
    scenarios: list[Path] = field(default_factory=list)
    lessons: list[Path] = field(default_factory=list)
    tracks: list[Path] = field(default_factory=list)
    problems: list[ContentProblem] = field(default_factory=list)


def find_pack_files(root: Path) -> PackFiles:
    """Every content file of the pack at ``root`` (an absolute, resolved folder)."""
    found = PackFiles()
    found.pack_file = _regular_file(root, root / PACK_FILE, found)
    scenarios = _folder(root, root / SCENARIOS_DIR, found)
    if scenarios is not None:
        found.red_flags = _regular_file(root, scenarios / RED_FLAGS_FILE, found)
        found.scenarios = _walk_markdown(root, scenarios, found)
    lessons = _folder(root, root / LESSONS_DIR, found)
    if lessons is not None:
        found.lessons = _list_folder(root, lessons, ".md", found)
        tracks = _folder(root, lessons / TRACKS_DIR, found)
        if tracks is not None:
            found.tracks = _list_folder(root, tracks, ".yaml", found)
    return found


def _is_inside(root: Path, path: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # a symlink loop raises RuntimeError before 3.13
        return False


def _outside(path: Path) -> ContentProblem:
    return ContentProblem(
        path,
        "this symbolic link points outside its pack and is not followed; "
        "copy the file into the pack instead",
        1,
    )


def _folder(root: Path, path: Path, found: PackFiles) -> Path | None:
    """``path`` if it is a folder that stays inside the pack."""
    if not path.is_dir():
        return None
    if path.is_symlink() and not _is_inside(root, path):
        found.problems.append(_outside(path))
        return None
    return path


def _regular_file(root: Path, path: Path, found: PackFiles) -> Path | None:
    if not os.path.lexists(path):
        return None
    if path.is_symlink() and not _is_inside(root, path):
        found.problems.append(_outside(path))
        return None
    return path


def _walk_markdown(root: Path, folder: Path, found: PackFiles) -> list[Path]:
    """Every ``*.md`` under ``folder``, recursively, in a stable order."""
    files: list[str] = []
    pending = [str(folder)]
    while pending:
        current = pending.pop()
        try:
            with os.scandir(current) as listing:
                entries = list(listing)
        except OSError as error:
            found.problems.append(
                ContentProblem(Path(current), f"cannot list this folder: {error.strerror}", None)
            )
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue  # editor swap files, .git and the like
            if entry.is_symlink():
                path = Path(entry.path)
                if not _is_inside(root, path):
                    found.problems.append(_outside(path))
                    continue
                if path.is_dir():
                    found.problems.append(
                        ContentProblem(
                            path,
                            "symbolic links to folders are not followed; "
                            "move the folder into place instead",
                            1,
                        )
                    )
                    continue
            if entry.is_dir(follow_symlinks=False):
                pending.append(entry.path)
            elif entry.name.endswith(".md"):
                files.append(entry.path)
    # Sorting strings is much cheaper than sorting Path objects in a large library.
    return [Path(name) for name in sorted(files)]


def _list_folder(root: Path, folder: Path, suffix: str, found: PackFiles) -> list[Path]:
    """The ``suffix`` files directly in ``folder``, in a stable order."""
    files: list[Path] = []
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as error:
        found.problems.append(
            ContentProblem(folder, f"cannot list this folder: {error.strerror}", None)
        )
        return files
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        if entry.name.endswith(".yml") and suffix == ".yaml":
            found.problems.append(
                ContentProblem(path, f"this file is ignored; name it '{path.stem}.yaml'", 1)
            )
            continue
        if not entry.name.endswith(suffix):
            continue
        if entry.is_symlink() and not _is_inside(root, path):
            found.problems.append(_outside(path))
            continue
        files.append(path)
    return files


def read_text(path: Path) -> str:
    """The UTF-8 text of ``path``; raises ``ReadError`` with a message for the author."""
    try:
        # Non-blocking, so that a named pipe posing as a content file cannot hang loading.
        handle = os.open(path, os.O_RDONLY | _NON_BLOCKING)
    except OSError as error:
        raise ReadError(f"cannot read this file: {error.strerror}") from None
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            raise ReadError("not a regular file; content files must be plain text files")
        if info.st_size > MAX_FILE_BYTES:
            raise ReadError(_too_large(info.st_size))
        data = os.read(handle, info.st_size + 1)
        while len(data) > info.st_size and len(data) <= MAX_FILE_BYTES:  # it is growing
            more = os.read(handle, MAX_FILE_BYTES + 1 - len(data))
            if not more:
                break
            data += more
    except OSError as error:
        raise ReadError(f"cannot read this file: {error.strerror}") from None
    finally:
        os.close(handle)
    if len(data) > MAX_FILE_BYTES:
        raise ReadError(_too_large(len(data)))
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ReadError("this file is saved as UTF-16; save it as UTF-8 instead")
    nul = data.find(b"\0")
    if nul != -1:
        raise ReadError(
            "this is binary data (it contains a NUL byte), not text; "
            "content files must be UTF-8 text",
            data.count(b"\n", 0, nul) + 1,
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ReadError(
            f"this file is not valid UTF-8 (byte 0x{data[error.start]:02x} cannot be "
            "decoded); save it as UTF-8",
            data.count(b"\n", 0, error.start) + 1,
        ) from None


def _too_large(size: int) -> str:
    return (
        f"this file is {size:,} bytes; a content file may be at most {MAX_FILE_BYTES:,} "
        "bytes (1 MiB), so split it or move large material into assets/"
    )
