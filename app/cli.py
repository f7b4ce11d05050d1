"""The ``thinktwice`` command: global options, then an optional subcommand.

Without a subcommand it opens the app. Heavy modules (Qt widgets, SQLAlchemy, the content
loader) are imported inside the subcommand that needs them, so each command starts fast.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from app import APP_NAME, __version__

if TYPE_CHECKING:
    from app.core.records import Profile
    from app.services.bootstrap import AppConfig
    from app.services.manager import Cohort, ManagerService, ManagerSession
    from app.services.training import TrainingService

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

    export = commands.add_parser(
        "export",
        help="export records (other trainees' records need the manager passphrase)",
    )
    export.add_argument(
        "--format",
        required=True,
        choices=["csv", "json", "xapi", "bundle", "pdf"],
        dest="export_format",
        help="csv (per answer, or per trainee and track with --detail tracks), json, xapi "
        "(a JSON array, or JSON lines when FILE ends with .jsonl), bundle (records to "
        "import on another machine; a zip file when FILE ends with .zip), or pdf (a cohort "
        "report with the certificates of passed trainees; needs --out)",
    )
    export.add_argument(
        "--out", type=Path, metavar="FILE", help="write to FILE (default: standard output)"
    )
    export.add_argument(
        "--overwrite", action="store_true", help="replace FILE if it exists without asking"
    )
    export.add_argument("--cohort", metavar="NAME", help="only this cohort's trainees and tracks")
    export.add_argument("--track", metavar="ID", help="only this track")
    export.add_argument(
        "--since", metavar="DATE", help="only activity on or after DATE (ISO 8601, UTC)"
    )
    export.add_argument(
        "--detail",
        choices=["tracks", "answers", "sessions"],
        help="one row per trainee and track, per answer, or per attended room session",
    )
    export.add_argument(
        "--profile",
        dest="subject_profile",
        metavar="NAME",
        help="only this trainee's own records (no manager passphrase needed)",
    )
    export.set_defaults(handler=_run_export)
    _add_db_commands(commands)
    _add_records_commands(commands)
    _add_demo_data_command(commands)
    _add_content_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    if getattr(sys, "frozen", False):
        # In the packaged app a worker process (demo-data) starts this same program: this
        # runs the worker's code and exits instead of parsing the worker's arguments.
        # (Only there: the import would slow every start from source.)
        import multiprocessing

        multiprocessing.freeze_support()
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
    from app.services.bootstrap import open_context
    from app.services.errors import StorageError
    from app.services.exports import Detail, ExportFormat, parse_since

    export_format = ExportFormat(args.export_format)
    if export_format is ExportFormat.PDF:
        return _run_pdf_export(args)
    detail = Detail(args.detail) if args.detail else None
    since = _since(args.since, parse_since)
    out: Path | None = args.out
    json_lines = out is not None and out.suffix.lower() == ".jsonl"
    as_zip = out is not None and out.suffix.lower() == ".zip"
    if as_zip and export_format is not ExportFormat.BUNDLE:
        raise CommandError("only a records bundle can be written as a .zip file")
    name = args.subject_profile or args.profile
    try:
        with open_context(_config(args)) as context:
            training, manager = context.training, context.manager
            profile = None
            if args.cohort is None:
                profile = _own_profile(training, name) if name else training.sole_profile()
            session = None if profile is not None else _manager_session(manager)

            def write(stream: BinaryIO) -> int:
                if profile is not None:  # the trainee's own records: no passphrase
                    if export_format is ExportFormat.BUNDLE:
                        return training.export_bundle(profile, stream, as_zip=as_zip)
                    return training.export_own(
                        profile,
                        stream,
                        export_format,
                        detail=detail,
                        track=args.track,
                        since=since,
                        json_lines=json_lines,
                    )
                assert session is not None
                if export_format is ExportFormat.BUNDLE:
                    return manager.export_bundle(session, stream, cohort=args.cohort, as_zip=as_zip)
                return manager.export(
                    session,
                    stream,
                    export_format,
                    detail=detail,
                    cohort=args.cohort,
                    track=args.track,
                    since=since,
                    json_lines=json_lines,
                )

            if out is None:
                count = write(sys.stdout.buffer)
                sys.stdout.flush()
            else:
                count = _write_atomically(out, args.overwrite, write)
    except (StorageError, ValueError) as error:  # a refused bundle is a ValueError too
        raise CommandError(str(error)) from error
    if out is not None:
        print(f"Exported {count} {_export_unit(export_format, detail)} to {out}.", file=sys.stderr)
    return EXIT_OK


def _run_pdf_export(args: argparse.Namespace) -> int:
    """A cohort report with the certificates of its passed trainees, as one PDF (manager).

    Certificates are issued first (idempotent). The report is drawn with Qt, so an
    offscreen application is created when none runs.
    """
    from app.services.bootstrap import open_context
    from app.services.errors import StorageError
    from app.services.exports import parse_since

    out: Path | None = args.out
    if out is None:
        raise CommandError("a PDF report needs a file: add --out FILE.pdf")
    if args.subject_profile:
        raise CommandError(
            "a PDF report covers a cohort or every trainee and needs the manager "
            "passphrase; leave out --profile"
        )
    since = _since(args.since, parse_since)
    from app.ui.pdf_reports import ensure_application, export_pdf

    _application = ensure_application()  # kept alive while the report is drawn
    try:
        with open_context(_config(args)) as context:
            manager = context.manager
            session = _manager_session(manager)
            count = _write_atomically(
                out,
                args.overwrite,
                lambda stream: export_pdf(
                    manager, session, stream, cohort=args.cohort, track=args.track, since=since
                ),
            )
    except (StorageError, ValueError) as error:
        raise CommandError(str(error)) from error
    print(
        f"Exported a PDF report of {count} record(s), with the certificates of the passed "
        f"trainees, to {out}.",
        file=sys.stderr,
    )
    return EXIT_OK


def _export_unit(export_format: object, detail: object) -> str:
    from app.services.exports import Detail, ExportFormat

    if export_format is ExportFormat.XAPI:
        return "statement(s)"
    if export_format is ExportFormat.CSV and detail is Detail.SESSIONS:
        return "attended session record(s)"
    if export_format is ExportFormat.CSV and detail is not Detail.TRACKS:
        return "answer(s)"
    return "record(s)"


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


# db upgrade / db status: the schema of the configured database (SQLite file or server).


def _add_db_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    database = commands.add_parser("db", help="show or upgrade the database schema")
    actions = database.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = actions.add_parser(
        "upgrade",
        help="migrate the configured database to the newest schema (a SQLite file is "
        "backed up first)",
    )
    upgrade.set_defaults(handler=_run_db_upgrade)
    status = actions.add_parser(
        "status",
        help="show the database, its schema revision and whether it needs an upgrade "
        "(exit 0: up to date; 1: upgrade needed or unreachable)",
    )
    status.set_defaults(handler=_run_db_status)


def _revision_text(revision: str | None) -> str:
    return revision if revision is not None else "none (no Think Twice schema yet)"


def _run_db_status(args: argparse.Namespace) -> int:
    from app.services.bootstrap import schema_status
    from app.services.errors import StorageError

    try:
        status = schema_status(_config(args))
    except StorageError as error:
        raise CommandError(str(error)) from error
    print(f"Database: {status.location}")
    print(f"Current revision: {_revision_text(status.current)}")
    print(f"Head revision: {status.head}")
    if status.up_to_date:
        print("Up to date.")
        return EXIT_OK
    if not status.known:
        print(
            f"The database was upgraded by a newer version of {APP_NAME} "
            f"(revision {status.current}); update {APP_NAME} to use it."
        )
        return EXIT_FAILURE
    print("Upgrade needed: run 'thinktwice [the same options] db upgrade'.")
    return EXIT_FAILURE


def _run_db_upgrade(args: argparse.Namespace) -> int:
    from app.services.bootstrap import open_records, schema_status
    from app.services.errors import StorageError

    config = _config(args)
    backups_before = _files_in(config.backup_dir)
    try:
        before = schema_status(config)
        # Opening migrates to the head, backing up a SQLite file with data first.
        with open_records(config) as database:
            after = database.current_revision()
    except StorageError as error:
        raise CommandError(str(error)) from error
    if before.current == after:
        print(f"Database {before.location} is already at revision {after}; nothing to do.")
        return EXIT_OK
    print(
        f"Upgraded database {before.location} "
        f"from revision {_revision_text(before.current)} to {after}."
    )
    for backup in sorted(_files_in(config.backup_dir) - backups_before):
        print(f"A copy made before the upgrade is at {backup}.")
    return EXIT_OK


def _files_in(folder: Path) -> set[Path]:
    try:
        return {entry for entry in folder.iterdir() if entry.is_file()}
    except OSError:
        return set()


# Trainee progress, manager commands (records, cohorts) and importing bundles.

PASSPHRASE_VARIABLE = "THINKTWICE_MANAGER_PASSPHRASE"
_LARGE_IMPORT = 500


def _add_records_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    progress = commands.add_parser("progress", help="show a trainee's scores and measures")
    progress.add_argument("--profile", dest="subject_profile", metavar="NAME")
    progress.add_argument("--json", action="store_true", help="print JSON (keys: docs/scoring.md)")
    progress.set_defaults(handler=_run_progress)

    importing = commands.add_parser(
        "import", help="import a records bundle (manager passphrase needed)"
    )
    importing.add_argument("file", type=Path, metavar="FILE")
    importing.set_defaults(handler=_run_import)

    records = commands.add_parser("records", help="check and annotate the records")
    actions = records.add_subparsers(dest="records_command", metavar="ACTION", required=True)
    verify = actions.add_parser(
        "verify", help="check the hash chains (exit 0: intact; 1: names the first broken record)"
    )
    verify.set_defaults(handler=_run_records_verify)
    check = actions.add_parser("verify-certificate", help="confirm a certificate")
    check.add_argument("certificate_id", metavar="ID")
    check.add_argument("--hash", dest="verification_hash", help="the verification hash printed")
    check.set_defaults(handler=_run_verify_certificate)
    for kind, help_text in (
        ("waive", "mark a track waived for a trainee (manager)"),
        ("reset", "count a trainee's track afresh from now on (manager)"),
    ):
        event = actions.add_parser(kind, help=help_text)
        event.add_argument("--profile", dest="subject_profile", metavar="NAME", required=True)
        event.add_argument("--track", metavar="ID", required=True)
        event.add_argument("--reason", metavar="TEXT", required=True)
        event.add_argument(
            "--as", dest="actor", metavar="LABEL", help="who you are, for the record"
        )
        event.set_defaults(handler=_run_records_event, event_kind=kind)
    correct = actions.add_parser("correct", help="void one answer of a trainee (manager)")
    correct.add_argument("--profile", dest="subject_profile", metavar="NAME", required=True)
    correct.add_argument("--attempt", metavar="ID", required=True)
    correct.add_argument("--reason", metavar="TEXT", required=True)
    correct.add_argument("--as", dest="actor", metavar="LABEL", help="who you are, for the record")
    correct.set_defaults(handler=_run_records_event, event_kind="correct")
    certify = actions.add_parser(
        "certify", help="issue certificates for passed tracks (manager; idempotent)"
    )
    certify.add_argument("--cohort", metavar="NAME")
    certify.add_argument("--track", metavar="ID")
    certify.set_defaults(handler=_run_certify)

    cohort = commands.add_parser("cohort", help="manage cohorts (manager passphrase needed)")
    steps = cohort.add_subparsers(dest="cohort_command", metavar="ACTION", required=True)
    create = steps.add_parser("create", help="create a cohort")
    create.add_argument("name", metavar="NAME")
    create.add_argument("--due", metavar="DATE", help="due date of its tracks")
    create.set_defaults(handler=_run_cohort, cohort_action="create")
    rename = steps.add_parser("rename", help="rename a cohort")
    rename.add_argument("name", metavar="NAME")
    rename.add_argument("new_name", metavar="NEW_NAME")
    rename.set_defaults(handler=_run_cohort, cohort_action="rename")
    for action, help_text in (("add", "add trainees"), ("remove", "remove trainees")):
        members = steps.add_parser(action, help=help_text)
        members.add_argument("name", metavar="NAME")
        members.add_argument("profiles", nargs="+", metavar="PROFILE")
        if action == "add":
            members.add_argument(
                "--create", action="store_true", help="create profiles that do not exist yet"
            )
        members.set_defaults(handler=_run_cohort, cohort_action=action)
    assign = steps.add_parser("assign", help="assign a track, with an optional due date")
    assign.add_argument("name", metavar="NAME")
    assign.add_argument("track", metavar="TRACK")
    assign.add_argument("--due", metavar="DATE")
    assign.set_defaults(handler=_run_cohort, cohort_action="assign")
    unassign = steps.add_parser("unassign", help="take a track off a cohort")
    unassign.add_argument("name", metavar="NAME")
    unassign.add_argument("track", metavar="TRACK")
    unassign.set_defaults(handler=_run_cohort, cohort_action="unassign")
    listing = steps.add_parser("list", help="list the cohorts")
    listing.add_argument("--all", action="store_true", help="include archived cohorts")
    listing.set_defaults(handler=_run_cohort, cohort_action="list")
    archive = steps.add_parser(
        "archive", help="archive a cohort (kept and exportable); optionally start the next group"
    )
    archive.add_argument("name", metavar="NAME")
    who = archive.add_mutually_exclusive_group()
    who.add_argument("--profiles", action="store_true", help="also archive its members' profiles")
    who.add_argument(
        "--all-profiles",
        action="store_true",
        help="also archive every active profile on this database (a training room)",
    )
    archive.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    archive.set_defaults(handler=_run_cohort, cohort_action="archive")


def _since(text: str | None, parse: Callable[[str], object]) -> Any:
    if text is None:
        return None
    try:
        return parse(text)
    except ValueError as error:
        raise CommandError(str(error)) from error


def _own_profile(training: TrainingService, name: str) -> Profile:
    profile = training.profile_named(name)
    if profile is None:
        raise CommandError(f"there is no trainee named '{name}'")
    return profile


def _manager_session(manager: ManagerService, actor: str | None = None) -> ManagerSession:
    """Unlock the manager area with the passphrase from the variable or the terminal.

    On first use, when no passphrase is set yet, the one given becomes the passphrase.
    """
    from app.services.manager import ManagerAccessError, PassphraseRuleError

    phrase = os.environ.get(PASSPHRASE_VARIABLE) or None
    interactive = sys.stdin.isatty()
    if not manager.has_passphrase():
        if phrase is None:
            if not interactive:
                raise CommandError(
                    "no manager passphrase is set yet: run this command in a terminal to set "
                    f"one, or give it in {PASSPHRASE_VARIABLE}"
                )
            phrase = getpass.getpass("Set a manager passphrase (at least 10 characters): ")
            if getpass.getpass("Type it again: ") != phrase:
                raise CommandError("the two passphrases differ; nothing was set")
        try:
            manager.set_passphrase(phrase)
        except (PassphraseRuleError, ManagerAccessError) as error:
            raise CommandError(str(error)) from error
        print("Manager passphrase set.", file=sys.stderr)
    elif phrase is None:
        if not interactive:
            raise CommandError(
                f"this is a manager command: give the manager passphrase in "
                f"{PASSPHRASE_VARIABLE}, or run it in a terminal"
            )
        phrase = getpass.getpass("Manager passphrase: ")
    try:
        return manager.unlock(phrase, actor or _default_actor())
    except (ManagerAccessError, ValueError) as error:
        raise CommandError(str(error)) from error


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "manager"


def _run_progress(args: argparse.Namespace) -> int:
    from app.services.bootstrap import open_context
    from app.services.errors import StorageError
    from app.services.reports import format_progress

    name = args.subject_profile or args.profile
    if not name:
        raise CommandError("name the trainee: progress --profile NAME")
    try:
        with open_context(_config(args)) as context:
            report = context.training.progress_report(_own_profile(context.training, name))
    except StorageError as error:
        raise CommandError(str(error)) from error
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False))
    else:
        print(format_progress(report))
    return EXIT_OK


def _run_import(args: argparse.Namespace) -> int:
    from app.services.bootstrap import open_context
    from app.services.bundles import MAX_BUNDLE_BYTES, BundleRefused
    from app.services.errors import StorageError

    path: Path = args.file
    try:
        if path.stat().st_size > MAX_BUNDLE_BYTES:
            raise CommandError(f"{path} is too large to be a records bundle")
        data = path.read_bytes()
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror or error}") from error
    shown = [-1]

    def progress(done: int, total: int) -> None:
        percent = done * 100 // total if total else 100
        if total >= _LARGE_IMPORT and percent != shown[0]:
            shown[0] = percent
            print(f"\rImporting: {percent:3d} %", end="", file=sys.stderr, flush=True)

    try:
        with open_context(_config(args)) as context:
            session = _manager_session(context.manager)
            report = context.manager.import_bundle(session, data, progress)
    except (StorageError, BundleRefused) as error:
        raise CommandError(f"{path}: {error}") from error
    finally:
        if shown[0] >= 0:
            print(file=sys.stderr)
    print(
        f"Imported {report.answers_added} answer(s), {report.events_added} event(s) and "
        f"{report.lessons_added} lesson read(s); {report.trainees_created} new trainee(s); "
        f"{report.duplicates} already present."
    )
    for note in report.notes:
        print(f"note: {note}")
    for conflict in report.conflicts:
        print(f"conflict: {conflict}", file=sys.stderr)
    return EXIT_FAILURE if report.conflicts else EXIT_OK


def _run_records_verify(args: argparse.Namespace) -> int:
    from app.services.bootstrap import open_context
    from app.services.errors import StorageError

    try:
        with open_context(_config(args)) as context:
            broken = context.manager.verify_records()
    except StorageError as error:
        raise CommandError(str(error)) from error
    if broken is None:
        print("All records verify: no answer, event or certificate was changed or removed.")
        return EXIT_OK
    print(f"Broken record: {broken}")
    return EXIT_FAILURE


def _run_verify_certificate(args: argparse.Namespace) -> int:
    from app.services.bootstrap import open_context
    from app.services.errors import StorageError

    try:
        with open_context(_config(args)) as context:
            check = context.manager.verify_certificate(args.certificate_id, args.verification_hash)
    except StorageError as error:
        raise CommandError(str(error)) from error
    certificate = check.certificate
    if certificate is not None:
        print(f"Certificate:       {certificate.certificate_id}")
        print(f"Trainee:           {certificate.trainee_name}")
        print(f"Track:             {certificate.track_title} ({certificate.track_id})")
        print(f"Score:             {certificate.score * 100:.1f} %")
        print(f"Issued:            {certificate.issued_at.isoformat(timespec='seconds')}")
        print(f"Verification hash: {certificate.verification_hash}")
    for note in check.notes:
        print(f"note: {note}")
    if check.valid:
        print("Valid: the certificate matches the records in this database.")
        return EXIT_OK
    for problem in check.problems:
        print(f"Not valid: {problem}")
    return EXIT_FAILURE


def _run_records_event(args: argparse.Namespace) -> int:
    from app.services.bootstrap import open_context
    from app.services.errors import StorageError

    try:
        with open_context(_config(args)) as context:
            manager = context.manager
            session = _manager_session(manager, args.actor)
            profile = manager.find_profile(session, args.subject_profile)
            if args.event_kind == "waive":
                event = manager.waive(session, profile, args.track, args.reason)
            elif args.event_kind == "reset":
                event = manager.reset(session, profile, args.track, args.reason)
            else:
                event = manager.correct(session, profile, args.attempt, args.reason)
    except (StorageError, ValueError) as error:
        raise CommandError(str(error)) from error
    print(
        f"Recorded {event.kind.value} event {event.event_id} for {profile.display_name} "
        f"by {event.actor}."
    )
    return EXIT_OK


def _run_certify(args: argparse.Namespace) -> int:
    from app.services.bootstrap import open_context
    from app.services.errors import StorageError

    try:
        with open_context(_config(args)) as context:
            manager = context.manager
            session = _manager_session(manager)
            certificates = manager.issue_certificates(session, args.cohort, args.track)
    except (StorageError, ValueError) as error:
        raise CommandError(str(error)) from error
    for certificate in certificates:
        print(
            f"{certificate.certificate_id}  {certificate.trainee_name}  {certificate.track_id}"
            f"  {certificate.score * 100:.1f} %  {certificate.verification_hash}"
        )
    print(f"{len(certificates)} certificate(s).", file=sys.stderr)
    return EXIT_OK


def _run_cohort(args: argparse.Namespace) -> int:
    from app.services.bootstrap import open_context
    from app.services.errors import StorageError
    from app.services.exports import parse_since

    action: str = args.cohort_action
    due = _since(getattr(args, "due", None), parse_since)
    try:
        with open_context(_config(args)) as context:
            manager = context.manager
            session = _manager_session(manager)
            if action == "list":
                for cohort in manager.cohorts(session, include_archived=args.all):
                    print(_cohort_line(cohort))
                return EXIT_OK
            if action == "create":
                cohort = manager.create_cohort(session, args.name, due)
            elif action == "rename":
                cohort = manager.rename_cohort(session, args.name, args.new_name)
            elif action in {"add", "remove"}:
                profiles = [
                    _member(context.training, manager, session, name, args)
                    for name in args.profiles
                ]
                update = manager.add_members if action == "add" else manager.remove_members
                cohort = update(session, args.name, profiles)
            elif action == "assign":
                cohort = manager.assign_track(session, args.name, args.track, due)
            elif action == "unassign":
                cohort = manager.unassign_track(session, args.name, args.track)
            else:
                return _archive_cohort(manager, session, args)
    except (StorageError, ValueError) as error:
        raise CommandError(str(error)) from error
    print(_cohort_line(cohort))
    return EXIT_OK


def _member(
    training: TrainingService,
    manager: ManagerService,
    session: ManagerSession,
    name: str,
    args: argparse.Namespace,
) -> Profile:
    if getattr(args, "create", False):
        return training.get_or_create_profile(name)
    return manager.find_profile(session, name)


def _archive_cohort(
    manager: ManagerService, session: ManagerSession, args: argparse.Namespace
) -> int:
    cohort = manager.cohort(session, args.name)
    if args.profiles or args.all_profiles:
        whose = (
            "every active profile"
            if args.all_profiles
            else f"its {len(cohort.members)} member profile(s)"
        )
        question = f"Archive cohort '{cohort.name}' and {whose}? [y/N] "
        if not args.yes and not _confirm(question):
            raise CommandError("nothing archived (confirm in a terminal, or add --yes)")
        result = manager.start_next_group(session, args.name, all_profiles=args.all_profiles)
        print(_cohort_line(result.cohort))
        print(f"Archived {len(result.archived_profiles)} profile(s); their records are kept.")
        return EXIT_OK
    print(_cohort_line(manager.archive_cohort(session, args.name)))
    return EXIT_OK


def _cohort_line(cohort: Cohort) -> str:
    due = f", due {cohort.due_at.date().isoformat()}" if cohort.due_at else ""
    archived = " (archived)" if cohort.archived_at else ""
    tracks = ", ".join(
        t.track_id + (f" due {t.due_at.date().isoformat()}" if t.due_at else "")
        for t in cohort.tracks
    )
    members = ", ".join(p.display_name for p in cohort.members)
    return (
        f"{cohort.name}{archived}{due}: {len(cohort.members)} member(s) [{members}]; "
        f"tracks: {tracks or 'none'}"
    )


def _add_content_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    content = commands.add_parser("content", help="tools for content authors")
    actions = content.add_subparsers(dest="content_action", metavar="ACTION", required=True)
    stats = actions.add_parser(
        "stats", help="counts by answer, flag, difficulty, domain and track; balance rules"
    )
    stats.add_argument("packs", nargs="*", type=Path, metavar="DIR", help="extra packs to count")
    stats.add_argument("--json", action="store_true", help="print the figures as JSON")
    stats.set_defaults(handler=_run_content_stats)


def _run_content_stats(args: argparse.Namespace) -> int:
    import json

    from app.content.loader import load_library
    from app.core.stats import library_stats

    packs = [*args.content, *args.packs]
    for pack in packs:
        if not pack.is_dir():
            raise CommandError(f"{pack}: no such content folder")
    library = load_library([p.resolve() for p in packs])
    stats = library_stats(library)
    if args.json:
        print(json.dumps(stats.to_json_dict(), indent=2, sort_keys=True))
        return EXIT_OK if stats.all_rules_pass else EXIT_FAILURE
    print(
        f"{stats.scenarios} scenarios, {stats.steps} steps, {stats.lessons} lessons, "
        f"{stats.tracks} tracks; {stats.multi_step_scenarios} scenarios with several steps"
    )
    _print_counts("Answers (over steps)", stats.by_answer, stats.steps)
    _print_counts("Difficulty (scenarios)", stats.by_difficulty, stats.scenarios)
    _print_counts("Domains (scenarios)", stats.by_domain, stats.scenarios)
    print("Red flags (true / decoy, over steps):")
    for flag in sorted(set(stats.flag_true) | set(stats.flag_decoy)):
        print(f"  {flag:28} {stats.flag_true.get(flag, 0):4} / {stats.flag_decoy.get(flag, 0)}")
    print("Tracks (lessons, scenarios, estimated minutes):")
    for track_id, track in sorted(stats.by_track.items()):
        print(f"  {track_id:28} {track.lessons:3} {track.scenarios:4} {track.minutes:6}")
    print("Rules:")
    for rule in stats.rules:
        mark = "pass" if rule.passed else "FAIL"
        print(f"  [{mark}] {rule.name}: {rule.detail}")
    failed = sum(not rule.passed for rule in stats.rules)
    print("All rules pass." if not failed else f"{failed} rule(s) fail.")
    return EXIT_OK if not failed else EXIT_FAILURE


def _print_counts(title: str, counts: Mapping[Any, int], total: int) -> None:
    print(f"{title}:")
    for key, count in sorted(counts.items(), key=lambda item: str(item[0])):
        share = f"{100 * count / total:5.1f} %" if total else "   - "
        print(f"  {key!s:28} {count:4}  {share}")


def _add_demo_data_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser(
        "demo-data", help="fill the database with a plausible cohort of trainees and answers"
    )
    demo.add_argument("--trainees", type=int, required=True, metavar="N")
    demo.add_argument("--answers-per-trainee", type=int, required=True, metavar="M")
    demo.add_argument(
        "--seed", type=int, default=1, metavar="S", help="the same seed, the same data"
    )
    demo.set_defaults(handler=_run_demo_data)


def _run_demo_data(args: argparse.Namespace) -> int:
    from app.services.bootstrap import open_context
    from app.services.demo_data import DemoDataError, generate_demo_data, summary_line
    from app.services.errors import StorageError

    try:
        with open_context(_config(args)) as context:
            summary = generate_demo_data(
                context.database,
                context.library,
                trainees=args.trainees,
                answers_per_trainee=args.answers_per_trainee,
                seed=args.seed,
            )
    except (DemoDataError, StorageError) as error:
        raise CommandError(str(error)) from error
    print(summary_line(summary))
    return EXIT_OK
