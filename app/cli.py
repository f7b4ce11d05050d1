"""The ``thinktwice`` command: global options, then an optional subcommand.

Without a subcommand it opens the app. Heavy modules (Qt widgets, SQLAlchemy, the content
loader) are imported inside the subcommand that needs them, so each command starts fast.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from app import APP_NAME, __version__

if TYPE_CHECKING:
    from app.services.bootstrap import AppConfig

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class CommandError(Exception):
    """A failure to report to the user in one line, without a traceback."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every command and global option."""
    parser = argparse.ArgumentParser(
        prog="thinktwice",
        description=f"{APP_NAME}: practice judging AI-suggested fixes before you apply them.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="keep all state (database, settings, logs) in DIR; created if missing",
    )
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="an SQLAlchemy database URL to use instead of the SQLite file in the data folder",
    )
    parser.add_argument(
        "--content",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="load an extra content pack from DIR (may be repeated)",
    )
    parser.add_argument("--profile", metavar="NAME", help="select this trainee, creating it")
    parser.add_argument("--scenario", metavar="ID", help="open straight into this scenario")
    parser.add_argument(
        "--smoke-test",
        action="store_true",
        help="start, show the main window, wait for its first paint and exit 0",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    validate = commands.add_parser(
        "validate", help="check the built-in content and the given content packs"
    )
    validate.add_argument("packs", nargs="*", type=Path, metavar="DIR")
    validate.set_defaults(handler=_run_validate)

    export = commands.add_parser("export", help="export answer records")
    export.add_argument("--format", required=True, choices=["csv"], dest="export_format")
    export.add_argument(
        "--out", type=Path, metavar="FILE", help="write to FILE (default: standard output)"
    )
    export.add_argument(
        "--overwrite", action="store_true", help="replace FILE if it exists without asking"
    )
    export.set_defaults(handler=_run_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    try:
        if handler is None:
            return _run_gui(args)
        return handler(args)
    except CommandError as error:
        print(f"thinktwice: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130


def _config(args: argparse.Namespace) -> AppConfig:
    from app.services.bootstrap import AppConfig

    data_dir: Path | None = args.data_dir
    if data_dir is None:
        from app.ui.paths import default_data_dir

        data_dir = default_data_dir()
    return AppConfig(
        data_dir=data_dir.expanduser().resolve(),
        database_url=args.database_url,
        content_dirs=tuple(p.expanduser().resolve() for p in args.content),
    )


def _run_gui(args: argparse.Namespace) -> int:
    from app.ui.launch import run_gui

    return run_gui(
        _config(args),
        profile_name=args.profile,
        scenario_id=args.scenario,
        smoke_test=args.smoke_test,
    )


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _run_validate(args: argparse.Namespace) -> int:
    from app.content.loader import load_library

    packs = [*args.content, *args.packs]
    for pack in packs:
        if not pack.is_dir():
            raise CommandError(f"{pack}: no such content folder")
    library = load_library([p.resolve() for p in packs])
    for problem in library.problems:
        where = _display_path(problem.path)
        line = f":{problem.line}" if problem.line is not None else ""
        print(f"{where}{line}: {problem.message}")
    counts = (
        f"{len(library.packs)} pack(s), {len(library.scenarios)} scenarios, "
        f"{len(library.lessons)} lessons, {len(library.tracks)} tracks, "
        f"{len(library.red_flags)} red flags"
    )
    if library.problems:
        sys.stdout.flush()  # keep the summary after the problem lines on a shared terminal
        print(f"{len(library.problems)} problem(s) found; loaded {counts}.", file=sys.stderr)
        return EXIT_FAILURE
    print(f"All content is valid: {counts}.")
    return EXIT_OK


def _run_export(args: argparse.Namespace) -> int:
    from app.services.bootstrap import open_records
    from app.services.errors import StorageError
    from app.services.exports import write_answers_csv

    config = _config(args)
    try:
        with open_records(config) as database:
            if args.out is None:
                count = write_answers_csv(database, sys.stdout.buffer)
                sys.stdout.flush()
            else:
                count = _write_atomically(
                    args.out, args.overwrite, lambda out: write_answers_csv(database, out)
                )
    except StorageError as error:
        raise CommandError(str(error)) from error
    if args.out is not None:
        print(f"Exported {count} answer(s) to {args.out}.", file=sys.stderr)
    return EXIT_OK


def _write_atomically(path: Path, overwrite: bool, write: Callable[[BinaryIO], int]) -> int:
    """Write through a temporary file in the target folder, then rename it into place."""
    path = path.expanduser()
    if path.exists() and not overwrite and not _confirm(f"{path} exists. Replace it? [y/N] "):
        raise CommandError(f"{path} exists; not replaced (use --overwrite to replace it)")
    folder = path.parent if str(path.parent) else Path()
    if not folder.is_dir():
        raise CommandError(f"{folder}: no such folder")
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            count = write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp_name, path)
    except OSError as error:
        Path(temp_name).unlink(missing_ok=True)
        raise CommandError(f"could not write {path}: {error.strerror or error}") from error
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return count


def _confirm(prompt: str) -> bool:
    if not sys.stdin.isatty():
        return False
    try:
        return input(prompt).strip().lower() in {"y", "yes"}
    except EOFError:
        return False
