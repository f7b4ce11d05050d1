"""Command-line exports never leave half a file: they ask first and replace atomically.

A writer that fails part-way (a full disk, a bug, Ctrl+C) must leave the file that was
there untouched and no temporary file behind. The app's own export dialog has the same
tests in tests/ui/test_manager_export.py.
"""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from app import cli
from app.services.bootstrap import AppConfig, open_context
from app.services.training import TrainingService

OLD = b"the previous export, which must survive\n"


@pytest.fixture
def existing(tmp_path: Path) -> Path:
    path = tmp_path / "out" / "answers.csv"
    path.parent.mkdir()
    path.write_bytes(OLD)
    return path


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != "answers.csv")


def _half_then(error: BaseException) -> Any:
    def write(stream: BinaryIO) -> int:
        stream.write(b"attempt_id,trainee_name\n" + b"x" * 100_000)
        raise error

    return write


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        RuntimeError("a bug in the exporter"),
        KeyboardInterrupt(),
    ],
    ids=["disk-full", "bug", "interrupted"],
)
def test_a_writer_failing_half_way_leaves_the_old_file_and_no_temporary_file(
    existing: Path, error: BaseException
) -> None:
    with pytest.raises((cli.CommandError, type(error))):
        cli._write_atomically(existing, True, _half_then(error))
    assert existing.read_bytes() == OLD
    assert _leftovers(existing.parent) == []


def test_a_complete_export_replaces_the_file_in_one_step(existing: Path) -> None:
    def write(stream: BinaryIO) -> int:
        # Until the rename the old file is still whole.
        assert existing.read_bytes() == OLD
        stream.write(b"new,export\n")
        return 1

    assert cli._write_atomically(existing, True, write) == 1
    assert existing.read_bytes() == b"new,export\n"
    assert _leftovers(existing.parent) == []


@pytest.mark.parametrize(("reply", "replaced"), [("y", True), ("n", False), ("", False)])
def test_an_existing_file_is_replaced_only_after_a_yes_on_the_terminal(
    existing: Path, monkeypatch: pytest.MonkeyPatch, reply: str, replaced: bool
) -> None:
    asked: list[str] = []
    monkeypatch.setattr(cli.sys.stdin, "isatty", lambda: True)

    def answer(prompt: str) -> str:
        asked.append(prompt)
        return reply

    monkeypatch.setattr("builtins.input", answer)

    def write(stream: BinaryIO) -> int:
        stream.write(b"new\n")
        return 1

    if replaced:
        cli._write_atomically(existing, False, write)
    else:
        with pytest.raises(cli.CommandError, match="not replaced"):
            cli._write_atomically(existing, False, write)
    assert asked == [f"{existing} exists. Replace it? [y/N] "]
    assert existing.read_bytes() == (b"new\n" if replaced else OLD)
    assert _leftovers(existing.parent) == []


def test_without_a_terminal_an_existing_file_is_never_replaced_silently(
    existing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli.sys.stdin, "isatty", lambda: False)
    with pytest.raises(cli.CommandError, match="--overwrite"):
        cli._write_atomically(existing, False, _half_then(RuntimeError("never called")))
    assert existing.read_bytes() == OLD


def test_the_export_command_failing_half_way_keeps_the_old_file(
    tmp_path: Path,
    existing: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = tmp_path / "state"
    with open_context(AppConfig(data_dir=data)) as context:
        context.training.create_profile("Ada Example")

    def failing_export(
        self: TrainingService, profile: Any, out: BinaryIO, *args: Any, **kw: Any
    ) -> int:
        out.write(b"attempt_id\n" + b"y" * 50_000)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(TrainingService, "export_own", failing_export)
    code = cli.main(
        [
            "--data-dir",
            str(data),
            "export",
            "--format",
            "csv",
            "--profile",
            "Ada Example",
            "--out",
            str(existing),
            "--overwrite",
        ]
    )
    assert code == cli.EXIT_FAILURE
    errors = capsys.readouterr().err
    assert "could not write" in errors and "No space left" in errors
    assert "Traceback" not in errors
    assert existing.read_bytes() == OLD
    assert _leftovers(existing.parent) == []
