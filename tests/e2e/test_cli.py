"""End-to-end: the real program started as a subprocess."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.judging import StepAnswer
from app.core.model import Decision, Step

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
PROBLEM_LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+): (?P<message>.+)$")


def run_app(*args: str, cwd: Path = REPO, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_smoke_test_opens_the_window_and_creates_the_database(tmp_path: Path) -> None:
    data = tmp_path / "state"
    result = run_app("--data-dir", str(data), "--smoke-test")
    assert result.returncode == 0, result.stderr
    assert (data / "thinktwice.db").is_file()


def test_smoke_test_with_profile_creates_that_trainee(tmp_path: Path) -> None:
    data = tmp_path / "state"
    result = run_app("--data-dir", str(data), "--profile", "Ada Example", "--smoke-test")
    assert result.returncode == 0, result.stderr

    from app.services.bootstrap import AppConfig, open_context

    context = open_context(AppConfig(data_dir=data))
    try:
        names = [p.display_name for p in context.training.list_profiles()]
    finally:
        context.close()
    assert names == ["Ada Example"]


def test_smoke_test_fails_loudly_on_a_corrupt_database(tmp_path: Path) -> None:
    data = tmp_path / "state"
    data.mkdir()
    (data / "thinktwice.db").write_bytes(b"this is not a database" * 200)
    result = run_app("--data-dir", str(data), "--smoke-test")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "thinktwice.db" in result.stderr


def test_validate_builtin_content_is_clean() -> None:
    result = run_app("validate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().startswith("All content is valid")


def test_validate_reports_each_problem_as_path_line_message(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    (pack / "scenarios").mkdir(parents=True)
    (pack / "scenarios" / "broken-one.md").write_text(
        "---\nid: broken-one\ntitle: Broken\nsummary: s\ndifficulty: 7\nsteps: []\n---\n",
        encoding="utf-8",
    )
    (pack / "scenarios" / "wrong-name.md").write_text(
        "---\nid: another-id\n---\n", encoding="utf-8"
    )
    result = run_app("validate", str(pack))
    assert result.returncode == 1
    lines = [line for line in result.stdout.splitlines() if line]
    assert lines, result.stderr
    for line in lines:
        assert PROBLEM_LINE.match(line), line
    assert any("broken-one.md" in line for line in lines)
    assert any("wrong-name.md" in line for line in lines)


def test_validate_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    result = run_app("validate", str(tmp_path / "nowhere"))
    assert result.returncode == 1
    assert "no such content folder" in result.stderr


def _right_answer(step: Step, **extra: object) -> StepAnswer:
    revision = step.correct_revision_index if step.answer is Decision.REVISE else None
    return StepAnswer(step.answer, revision_index=revision, **extra)  # type: ignore[arg-type]


def _answer_two_steps(data: Path) -> list[str]:
    """Play the first built-in scenario once, then its first step again; return attempt ids."""
    from app.services.bootstrap import AppConfig, open_context

    context = open_context(AppConfig(data_dir=data))
    try:
        training = context.training
        profile = training.create_profile("=Mallory", "m-001", "Platform")
        scenario = next(iter(context.library.scenarios.values()))
        play = training.new_play_id()
        attempt_ids = []
        for step in scenario.steps:
            record, _ = training.record_answer(
                profile, scenario, step, _right_answer(step, seconds=3.5), play
            )
            attempt_ids.append(record.attempt_id)
        first = scenario.steps[0]
        again = _right_answer(first, flags=frozenset(first.flags[:1]), confidence=80)
        record, _ = training.record_answer(profile, scenario, first, again, training.new_play_id())
        attempt_ids.append(record.attempt_id)
    finally:
        context.close()
    return attempt_ids


def test_export_csv_to_a_file(tmp_path: Path) -> None:
    data = tmp_path / "state"
    attempt_ids = _answer_two_steps(data)
    out = tmp_path / "answers.csv"
    result = run_app("--data-dir", str(data), "export", "--format", "csv", "--out", str(out))
    assert result.returncode == 0, result.stderr
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM for spreadsheet programs"
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [r["attempt_id"] for r in rows] == attempt_ids
    assert rows[0]["trainee_name"] == "'=Mallory", "formula injection is neutralised"
    assert rows[0]["flags_given"] == "false"
    assert rows[-1]["flags_given"] == "true"
    assert rows[-1]["confidence"] == "80"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", rows[0]["answered_at"])


def test_export_refuses_to_overwrite_without_asking(tmp_path: Path) -> None:
    data = tmp_path / "state"
    _answer_two_steps(data)
    out = tmp_path / "answers.csv"
    out.write_text("keep me", encoding="utf-8")
    result = run_app("--data-dir", str(data), "export", "--format", "csv", "--out", str(out))
    assert result.returncode == 1
    assert out.read_text(encoding="utf-8") == "keep me"
    result = run_app(
        "--data-dir", str(data), "export", "--format", "csv", "--out", str(out), "--overwrite"
    )
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")


def test_export_csv_to_standard_output(tmp_path: Path) -> None:
    data = tmp_path / "state"
    attempt_ids = _answer_two_steps(data)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-m", "app", "--data-dir", str(data), "export", "--format", "csv"],
        cwd=REPO,
        env=env,
        capture_output=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout.decode("utf-8-sig"))))
    assert len(rows) == len(attempt_ids)


def test_content_stats_shows_every_balance_rule_passing() -> None:
    result = run_app("content", "stats")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[FAIL]" not in result.stdout
    assert result.stdout.rstrip().endswith("All rules pass.")


def test_content_stats_json_lists_the_rules() -> None:
    import json

    result = run_app("content", "stats", "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["scenarios"] >= 72
    assert all(rule["passed"] for rule in figures["rules"])
