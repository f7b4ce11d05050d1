"""End-to-end: ``thinktwice export --format pdf`` as a subprocess, read back with pdftotext.

The records come from the built-in content (the ``new-hire`` track), filled in-process
through the services; the export runs headless with the manager passphrase in its
environment variable, and each certificate printed is then verified by the command line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.core.judging import StepAnswer
from app.core.model import Decision

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        shutil.which("pdftotext") is None,
        reason="pdftotext (Debian package poppler-utils) is not installed; it reads the PDF back",
    ),
]

REPO = Path(__file__).resolve().parents[2]
PASSPHRASE = "a long enough passphrase"
VARIABLE = "THINKTWICE_MANAGER_PASSPHRASE"
TRACK = "new-hire"
PASSING = ("Zoë Ångström-Łukasz", "王小明")
FAILING = "Bob Example"


def run(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {VARIABLE, "QT_QPA_PLATFORM"}}
    env[VARIABLE] = PASSPHRASE
    return subprocess.run(
        [sys.executable, "-m", "app", "--data-dir", str(data), *args],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _answer(step: Any, right: bool) -> StepAnswer:
    if right:
        revision = step.correct_revision_index if step.answer is Decision.REVISE else None
        return StepAnswer(step.answer, revision, frozenset(step.flags), 90, 3.0)
    wrong = Decision.ACCEPT if step.answer is not Decision.ACCEPT else Decision.REJECT
    return StepAnswer(wrong, confidence=80, seconds=2.0)


def fill(data: Path) -> None:
    from app.services.bootstrap import AppConfig, open_context

    with open_context(AppConfig(data_dir=data)) as context:
        if TRACK not in context.library.tracks:
            pytest.skip("the built-in content has no new-hire track")
        track = context.library.tracks[TRACK]
        training = context.training
        for name in (*PASSING, FAILING):
            right = name in PASSING
            profile = training.create_profile(name, team="Platform")
            for lesson in track.lesson_ids:
                training.mark_lesson_read(profile, lesson)
            for scenario_id in track.scenario_ids:
                scenario = context.library.scenarios[scenario_id]
                play = training.new_play_id()
                for step in scenario.steps:
                    training.record_answer(profile, scenario, step, _answer(step, right), play)


def test_the_pdf_export_writes_report_and_verifiable_certificates(tmp_path: Path) -> None:
    data = tmp_path / "state"
    fill(data)
    target = tmp_path / "report.pdf"
    result = run(data, "export", "--format", "pdf", "--track", TRACK, "--out", str(target))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "3 record(s)" in result.stderr
    assert target.read_bytes().startswith(b"%PDF-")
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []

    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-layout", str(target), "-"],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode("utf-8")
    pages = text.split("\f")[:-1]
    assert len(pages) == 1 + 1 + len(PASSING)
    for name in (*PASSING, FAILING):
        assert name in pages[1]

    certify = run(data, "records", "certify", "--track", TRACK)
    assert certify.returncode == 0, certify.stderr
    issued = [line.split() for line in certify.stdout.splitlines() if line.startswith("TT-")]
    assert len(issued) == len(PASSING), "the export issued them; certify finds the same"
    for fields in issued:
        certificate_id, verification_hash = fields[0], fields[-1]
        (page,) = [p for p in pages[2:] if certificate_id in p]
        assert verification_hash in page
        assert any(name in page for name in PASSING)
        assert "100.0 %" in page
        assert f"thinktwice records verify-certificate {certificate_id}" in page
        check = run(
            data, "records", "verify-certificate", certificate_id, "--hash", verification_hash
        )
        assert check.returncode == 0, check.stdout + check.stderr


def test_the_pdf_export_needs_a_file_and_refuses_to_replace_one_silently(
    tmp_path: Path,
) -> None:
    data = tmp_path / "state"
    fill(data)
    no_file = run(data, "export", "--format", "pdf")
    assert no_file.returncode == 1 and "--out" in no_file.stderr
    target = tmp_path / "report.pdf"
    target.write_bytes(b"an older report")
    kept = run(data, "export", "--format", "pdf", "--out", str(target))
    assert kept.returncode == 1 and "not replaced" in kept.stderr
    assert target.read_bytes() == b"an older report"
    replaced = run(data, "export", "--format", "pdf", "--overwrite", "--out", str(target))
    assert replaced.returncode == 0, replaced.stderr
    assert target.read_bytes().startswith(b"%PDF-")
