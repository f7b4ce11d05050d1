"""End-to-end: the hooks the benchmarks rely on, with the real program as a subprocess.

The first-paint marker, the content index written on the first start and used on the
next, and ``demo-data`` followed by ``records verify``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"^first-paint rss_kb=(\d+)$", re.MULTILINE)


def run_app(
    *args: str, marker: bool = False, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("THINKTWICE_FIRST_PAINT_MARKER", None)
    if marker:
        env["THINKTWICE_FIRST_PAINT_MARKER"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_the_first_paint_marker_is_printed_only_when_asked(tmp_path: Path) -> None:
    marked = run_app("--data-dir", str(tmp_path / "a"), "--smoke-test", marker=True)
    assert marked.returncode == 0, marked.stderr
    found = MARKER.findall(marked.stdout)
    assert len(found) == 1
    assert int(found[0]) > 10_000  # a Qt process holds megabytes, reported in KiB

    plain = run_app("--data-dir", str(tmp_path / "b"), "--smoke-test")
    assert plain.returncode == 0, plain.stderr
    assert "first-paint" not in plain.stdout


def test_the_first_start_writes_the_content_index_in_the_data_folder(tmp_path: Path) -> None:
    data = tmp_path / "state"
    result = run_app("--data-dir", str(data), "--smoke-test")
    assert result.returncode == 0, result.stderr
    index = data / "cache" / "content-index.pickle"
    assert index.is_file()
    assert index.read_bytes().startswith(b"thinktwice-content-index\n")

    again = run_app("--data-dir", str(data), "--smoke-test")
    assert again.returncode == 0, again.stderr


def test_demo_data_fills_a_cohort_whose_records_verify(tmp_path: Path) -> None:
    data = str(tmp_path / "state")
    filled = run_app(
        "--data-dir", data, "demo-data", "--trainees", "3", "--answers-per-trainee", "25"
    )
    assert filled.returncode == 0, filled.stderr
    assert "Added 3 trainees with 75 answers" in filled.stdout
    assert "'Demo cohort'" in filled.stdout

    verified = run_app("--data-dir", data, "records", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_demo_data_refuses_a_count_out_of_range(tmp_path: Path) -> None:
    result = run_app(
        "--data-dir",
        str(tmp_path / "state"),
        "demo-data",
        "--trainees",
        "0",
        "--answers-per-trainee",
        "5",
    )
    assert result.returncode == 1
    assert "trainees must be between 1" in result.stderr
