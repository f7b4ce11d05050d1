"""Trainee mode on the command line reads and exports only the trainee's own records.

Two trainees share a database. Without the manager passphrase, every export format and
the progress report for one of them must hold nothing of the other, and every command
that reaches beyond one trainee must ask for the passphrase (never taken as an
argument; tests/e2e/test_records_cli.py covers the passphrase rules themselves).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from app.core.judging import StepAnswer
from app.core.model import Decision

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
VARIABLE = "THINKTWICE_MANAGER_PASSPHRASE"
PASSPHRASE = "the managers' own passphrase"


def run(
    data: Path, *args: str, passphrase: str | None = None
) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k != VARIABLE}
    env["QT_QPA_PLATFORM"] = "offscreen"
    if passphrase is not None:
        env[VARIABLE] = passphrase
    return subprocess.run(
        [sys.executable, "-m", "app", "--data-dir", str(data), *args],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[str]]]:
    """A database where Ada and Bob each answered a scenario; their uid and attempt ids."""
    from app.services.bootstrap import AppConfig, open_context

    data = tmp_path_factory.mktemp("isolation") / "state"
    attempts: dict[str, list[str]] = {}
    with open_context(AppConfig(data_dir=data)) as context:
        training = context.training
        scenario = next(iter(context.library.scenarios.values()))
        for name in ("Ada", "Bob"):
            profile = training.create_profile(name, f"{name.lower()}@example.com", "Platform")
            play = training.new_play_id()
            attempts[name] = [profile.uid]
            attempts[name] += [
                training.record_answer(
                    profile, scenario, step, StepAnswer(Decision.REJECT, seconds=2.0), play
                )[0].attempt_id
                for step in scenario.steps
            ]
        context.manager.set_passphrase(PASSPHRASE)
    return data, attempts


def _bob_traces(attempts: dict[str, list[str]]) -> list[bytes]:
    """What would show Bob's records: his name, email, uid and attempt ids."""
    return [b"Bob", b"bob@example.com", *(a.encode() for a in attempts["Bob"])]


@pytest.mark.parametrize(
    "export",
    [
        ("--format", "csv"),
        ("--format", "csv", "--detail", "tracks"),
        ("--format", "json"),
        ("--format", "xapi"),
        ("--format", "bundle"),
    ],
    ids=["csv-answers", "csv-tracks", "json", "xapi", "bundle"],
)
def test_a_trainee_export_holds_only_that_trainee(
    shared: tuple[Path, dict[str, list[str]]], tmp_path: Path, export: tuple[str, ...]
) -> None:
    data, attempts = shared
    out = tmp_path / ("own.zip" if "bundle" in export else "own.out")
    result = run(data, "export", *export, "--profile", "Ada", "--out", str(out))
    assert result.returncode == 0, result.stderr
    content = out.read_bytes()
    if zipfile.is_zipfile(io.BytesIO(content)):
        with zipfile.ZipFile(io.BytesIO(content)) as bundle:
            content = b"".join(bundle.read(name) for name in bundle.namelist())
    if export[1] in {"csv", "bundle"} and "tracks" not in export:
        assert attempts["Ada"][1].encode() in content, "the trainee's own answers are there"
    assert b"Ada" in content
    leaked = [trace for trace in _bob_traces(attempts) if trace in content]
    assert leaked == []


def test_a_trainee_progress_report_holds_only_that_trainee(
    shared: tuple[Path, dict[str, list[str]]],
) -> None:
    data, attempts = shared
    result = run(data, "progress", "--profile", "Ada", "--json")
    assert result.returncode == 0, result.stderr
    assert b"Ada" in result.stdout
    assert [t for t in _bob_traces(attempts) if t in result.stdout] == []


@pytest.mark.parametrize(
    "command",
    [
        ("export", "--format", "csv"),
        ("export", "--format", "json", "--cohort", "Anyone"),
        ("export", "--format", "csv", "--profile", "Ada", "--cohort", "Anyone"),
        ("export", "--format", "pdf", "--out", "report.pdf"),
        ("cohort", "list"),
        ("records", "waive", "--profile", "Bob", "--track", "new-hire", "--reason", "x"),
        ("records", "correct", "--profile", "Bob", "--attempt", "x", "--reason", "x"),
        ("records", "certify"),
        ("import", "bundle.zip"),
    ],
    ids=lambda c: " ".join(c[:2]) + (" cohort" if "--cohort" in c else ""),
)
def test_commands_beyond_one_trainee_need_the_passphrase(
    shared: tuple[Path, dict[str, list[str]]], tmp_path: Path, command: tuple[str, ...]
) -> None:
    data, attempts = shared
    if command[0] == "import":
        bundle = tmp_path / "bundle.zip"
        exported = run(
            data, "export", "--format", "bundle", "--profile", "Bob", "--out", str(bundle)
        )
        assert exported.returncode == 0, exported.stderr
        command = ("import", str(bundle))
    if "--out" in command:
        command = tuple(str(tmp_path / c) if c.endswith(".pdf") else c for c in command)
    result = run(data, *command)
    assert result.returncode == 1, result.stdout
    assert VARIABLE.encode() in result.stderr, result.stderr
    assert b"Traceback" not in result.stderr
    assert [t for t in _bob_traces(attempts) if t in result.stdout] == []
    assert not (tmp_path / "report.pdf").exists()
