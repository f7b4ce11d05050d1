"""End-to-end: progress, manager commands, exports and imports as subprocesses.

The records come from the built-in content (the ``new-hire`` track), filled in-process
through the services, then read back through the command line.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from ralph.models.xapi.base.statements import BaseXapiStatement

from app.core.judging import StepAnswer
from app.core.model import Decision, Step

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
PASSPHRASE = "a long enough passphrase"
VARIABLE = "THINKTWICE_MANAGER_PASSPHRASE"
TRACK = "new-hire"


def run(
    data: Path, *args: str, passphrase: str | None = PASSPHRASE
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != VARIABLE}
    env["QT_QPA_PLATFORM"] = "offscreen"
    if passphrase is not None:
        env[VARIABLE] = passphrase
    return subprocess.run(
        [sys.executable, "-m", "app", "--data-dir", str(data), *args],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,  # never a terminal: no prompt can wait for input
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _answer(step: Step, right: bool) -> StepAnswer:
    if not right:
        wrong = Decision.ACCEPT if step.answer is not Decision.ACCEPT else Decision.REJECT
        return StepAnswer(wrong, confidence=80, seconds=2.0)
    revision = step.correct_revision_index if step.answer is Decision.REVISE else None
    return StepAnswer(step.answer, revision, frozenset(step.flags), confidence=90, seconds=3.0)


def _fill(data: Path, plays: dict[str, bool]) -> dict[str, list[str]]:
    """Play the new-hire track once per trainee (right or wrong); returns attempt ids."""
    from app.services.bootstrap import AppConfig, open_context

    attempts: dict[str, list[str]] = {}
    with open_context(AppConfig(data_dir=data)) as context:
        if TRACK not in context.library.tracks:
            pytest.skip("the built-in content has no new-hire track yet")
        track = context.library.tracks[TRACK]
        training = context.training
        for name, right in plays.items():
            profile = training.create_profile(name, f"{name.lower()}@example.com", "Platform")
            attempts[name] = []
            for lesson in track.lesson_ids:
                training.mark_lesson_read(profile, lesson)
            for scenario_id in track.scenario_ids:
                scenario = context.library.scenarios[scenario_id]
                play = training.new_play_id()
                for step in scenario.steps:
                    record, _ = training.record_answer(
                        profile, scenario, step, _answer(step, right), play
                    )
                    attempts[name].append(record.attempt_id)
    return attempts


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[str]]]:
    data = tmp_path_factory.mktemp("records") / "state"
    return data, _fill(data, {"Ada": True, "Bob": False})


def _copy(filled: tuple[Path, dict[str, list[str]]], tmp_path: Path) -> Path:
    """A private copy of the filled data folder (SQLite's backup API: it is in WAL mode)."""
    source, _ = filled
    target = tmp_path / "state"
    target.mkdir(parents=True)
    with (
        sqlite3.connect(source / "thinktwice.db") as original,
        sqlite3.connect(target / "thinktwice.db") as copy,
    ):
        original.backup(copy)
    return target


def _documented_progress_keys() -> set[str]:
    text = (REPO / "docs" / "scoring.md").read_text(encoding="utf-8")
    section = text.split("## progress --json", 1)[1]
    rows = re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE)
    return {re.split(r"[.\[]", row, maxsplit=1)[0] for row in rows}


def test_progress_json_has_the_documented_keys(
    filled: tuple[Path, dict[str, list[str]]],
) -> None:
    data, attempts = filled
    result = run(data, "progress", "--profile", "Ada", "--json", passphrase=None)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout, parse_constant=pytest.fail)
    assert set(report) == _documented_progress_keys()
    assert report["trainee"]["name"] == "Ada"
    assert report["answers"] == len(attempts["Ada"])
    assert report["over_trust_rate"] == 0.0
    status = {t["track_id"]: t["status"] for t in report["tracks"]}
    assert status[TRACK] == "passed"
    text = run(data, "progress", "--profile", "Bob", passphrase=None)
    assert text.returncode == 0, text.stderr
    assert "Over-trust:" in text.stdout and "Baseline against follow-up:" in text.stdout


def test_progress_of_an_unknown_trainee_is_an_error(
    filled: tuple[Path, dict[str, list[str]]],
) -> None:
    result = run(filled[0], "progress", "--profile", "Nobody", "--json")
    assert result.returncode == 1
    assert "no trainee named 'Nobody'" in result.stderr


def test_manager_commands_need_the_passphrase_from_the_variable_or_a_terminal(
    filled: tuple[Path, dict[str, list[str]]], tmp_path: Path
) -> None:
    data = _copy(filled, tmp_path)
    refused = run(data, "cohort", "list", passphrase=None)
    assert refused.returncode == 1
    assert VARIABLE in refused.stderr and "Traceback" not in refused.stderr
    no_argument = run(data, "cohort", "list", "--passphrase", PASSPHRASE)
    assert no_argument.returncode == 2  # there is no such option, by design
    too_short = run(data, "cohort", "list", passphrase="short")
    assert too_short.returncode == 1 and "at least 10" in too_short.stderr
    first = run(data, "cohort", "list")
    assert first.returncode == 0, first.stderr
    assert "Manager passphrase set." in first.stderr
    wrong = run(data, "cohort", "list", passphrase="another long passphrase")
    assert wrong.returncode == 1 and "not right" in wrong.stderr
    # Exporting other trainees' records is a manager command too.
    others = run(data, "export", "--format", "csv", passphrase=None)
    assert others.returncode == 1 and VARIABLE in others.stderr
    own = run(
        data,
        "export",
        "--format",
        "json",
        "--profile",
        "Ada",
        "--detail",
        "tracks",
        passphrase=None,
    )
    assert own.returncode == 0, own.stderr
    assert {r["trainee_name"] for r in json.loads(own.stdout)["completion_records"]} == {"Ada"}


def test_records_verify_catches_a_changed_and_a_removed_row(
    filled: tuple[Path, dict[str, list[str]]], tmp_path: Path
) -> None:
    data = _copy(filled, tmp_path)
    attempts = filled[1]
    intact = run(data, "records", "verify", passphrase=None)
    assert intact.returncode == 0, intact.stdout + intact.stderr
    changed = attempts["Bob"][1]
    with sqlite3.connect(data / "thinktwice.db") as connection:
        connection.execute("UPDATE answer SET confidence = 100 WHERE attempt_id = ?", (changed,))
    broken = run(data, "records", "verify", passphrase=None)
    assert broken.returncode == 1
    assert f"answer {changed}" in broken.stdout and "'Bob'" in broken.stdout

    data = _copy(filled, tmp_path / "second")
    removed, after = attempts["Ada"][0], attempts["Ada"][1]
    with sqlite3.connect(data / "thinktwice.db") as connection:
        connection.execute("DELETE FROM answer WHERE attempt_id = ?", (removed,))
    broken = run(data, "records", "verify", passphrase=None)
    assert broken.returncode == 1
    assert f"answer {after}" in broken.stdout


def test_cohorts_waivers_certificates_and_the_tracks_csv(
    filled: tuple[Path, dict[str, list[str]]], tmp_path: Path
) -> None:
    data = _copy(filled, tmp_path)
    for args in (
        ("cohort", "create", "Room A", "--due", "2030-01-31"),
        ("cohort", "add", "Room A", "Ada", "Bob", "Carol", "--create"),
        ("cohort", "assign", "Room A", TRACK, "--due", "2020-01-31"),
        ("records", "waive", "--profile", "Bob", "--track", TRACK, "--reason", "External course"),
    ):
        result = run(data, *args)
        assert result.returncode == 0, (args, result.stderr)
    listing = run(data, "cohort", "list")
    assert "Room A, due 2030-01-31: 3 member(s) [Ada, Bob, Carol]" in listing.stdout
    certify = run(data, "records", "certify", "--cohort", "Room A")
    assert certify.returncode == 0, certify.stderr
    (line,) = certify.stdout.splitlines()
    certificate_id, name, track = line.split()[:3]
    assert (name, track) == ("Ada", TRACK)

    out = tmp_path / "tracks.csv"
    result = run(
        data,
        "export",
        "--format",
        "csv",
        "--detail",
        "tracks",
        "--cohort",
        "Room A",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    by_name = {row["trainee_name"]: row for row in rows}
    assert [row["track_id"] for row in rows] == [TRACK] * 3
    assert (by_name["Ada"]["status"], by_name["Ada"]["certificate_id"]) == (
        "passed",
        certificate_id,
    )
    assert by_name["Bob"]["status"] == "waived"
    assert (by_name["Carol"]["status"], by_name["Carol"]["overdue"]) == ("not started", "true")
    assert by_name["Carol"]["due_at"] == "2020-01-31T00:00:00Z"

    valid = run(data, "records", "verify-certificate", certificate_id, passphrase=None)
    assert valid.returncode == 0, valid.stdout
    assert "Valid" in valid.stdout and "Ada" in valid.stdout
    with sqlite3.connect(data / "thinktwice.db") as connection:
        connection.execute("UPDATE certificate SET score = 0.5")
    invalid = run(data, "records", "verify-certificate", certificate_id, passphrase=None)
    assert invalid.returncode == 1 and "Not valid" in invalid.stdout

    archived = run(data, "cohort", "archive", "Room A", "--profiles", "--yes")
    assert archived.returncode == 0, archived.stderr
    assert "Archived 3 profile(s)" in archived.stdout
    unconfirmed = run(data, "cohort", "archive", "Room A", "--all-profiles")
    assert unconfirmed.returncode == 1 and "--yes" in unconfirmed.stderr


def test_json_and_xapi_exports(filled: tuple[Path, dict[str, list[str]]], tmp_path: Path) -> None:
    data = _copy(filled, tmp_path)
    attempts = filled[1]
    out = tmp_path / "records.json"
    result = run(data, "export", "--format", "json", "--track", TRACK, "--out", str(out))
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["filters"] == {"cohort": None, "track": TRACK, "since": None}
    assert len(document["answers"]) == len(attempts["Ada"]) + len(attempts["Bob"])
    assert len(document["completion_records"]) == 2

    lines = tmp_path / "statements.jsonl"
    result = run(data, "export", "--format", "xapi", "--out", str(lines), "--since", "2000-01-01")
    assert result.returncode == 0, result.stderr
    statements = [json.loads(line) for line in lines.read_text(encoding="utf-8").splitlines()]
    for statement in statements:
        BaseXapiStatement(**statement)
    answered = [s for s in statements if s["verb"]["display"]["en-US"] == "answered"]
    assert len(answered) == len(attempts["Ada"]) + len(attempts["Bob"])
    array = tmp_path / "statements.json"
    run(data, "export", "--format", "xapi", "--out", str(array))
    assert [s["id"] for s in json.loads(array.read_text(encoding="utf-8"))] == [
        s["id"] for s in statements
    ]


def test_a_bundle_moves_records_to_another_machine(
    filled: tuple[Path, dict[str, list[str]]], tmp_path: Path
) -> None:
    data, attempts = filled
    bundle = tmp_path / "ada.zip"
    exported = run(
        data,
        "export",
        "--format",
        "bundle",
        "--profile",
        "Ada",
        "--out",
        str(bundle),
        passphrase=None,
    )
    assert exported.returncode == 0, exported.stderr
    manager_machine = tmp_path / "manager"
    first = run(manager_machine, "import", str(bundle))
    assert first.returncode == 0, first.stderr
    assert f"Imported {len(attempts['Ada'])} answer(s)" in first.stdout
    again = run(manager_machine, "import", str(bundle))
    assert again.returncode == 0, again.stderr
    assert "Imported 0 answer(s), 0 event(s) and 0 lesson read(s); 0 new trainee(s)" in again.stdout
    assert run(manager_machine, "records", "verify").returncode == 0
    progress = run(manager_machine, "progress", "--profile", "Ada", "--json")
    assert json.loads(progress.stdout)["answers"] == len(attempts["Ada"])

    plain = tmp_path / "ada.json"
    run(data, "export", "--format", "bundle", "--profile", "Ada", "--out", str(plain))
    body = json.loads(plain.read_text(encoding="utf-8"))
    body["trainees"][0]["answers"][0]["seconds"] = 1.0
    plain.write_text(json.dumps(body), encoding="utf-8")
    tampered = run(manager_machine, "import", str(plain))
    assert tampered.returncode == 1
    assert "hash does not match" in tampered.stderr


def test_a_large_import_shows_its_progress(tmp_path: Path) -> None:
    from app.services.bootstrap import AppConfig, open_context

    source = tmp_path / "trainee"
    with open_context(AppConfig(data_dir=source)) as context:
        scenario = next(iter(context.library.scenarios.values()), None)
        if scenario is None:
            pytest.skip("no built-in scenarios yet")
        profile = context.training.create_profile("Many")
        for _ in range(520 // len(scenario.steps) + 1):
            play = context.training.new_play_id()
            for step in scenario.steps:
                context.training.record_answer(profile, scenario, step, _answer(step, True), play)
    bundle = tmp_path / "many.json"
    assert run(source, "export", "--format", "bundle", "--out", str(bundle)).returncode == 0
    result = run(tmp_path / "manager", "import", str(bundle))
    assert result.returncode == 0, result.stderr
    assert "Importing: 100 %" in result.stderr
    assert "Importing:  50 %" in result.stderr
