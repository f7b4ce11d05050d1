"""Many app instances writing to one PostgreSQL database at once lose and repeat nothing.

Twenty OS processes (``tests/pg/workload.py``) each record 200 answers through the
training service, half for their own trainee and half for two trainees they all share;
afterwards every answer is in the database exactly once and no error reached a writer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from app.services.settings import Settings
from app.services.training import TrainingService
from app.storage.database import open_database
from tests.pg.workload import sample_library

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
WRITERS = 20
ANSWERS_EACH = 200
SHARED = ("Shared Trainee A", "Shared Trainee B")


def _writer_name(index: int) -> str:
    return f"Writer {index:02d}"


def _start_writer(url: str, index: int, data_dir: Path) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        "-m",
        "tests.pg.workload",
        "--url",
        url,
        "--data-dir",
        str(data_dir),
        "--own",
        _writer_name(index),
        "--count",
        str(ANSWERS_EACH),
    ]
    for name in SHARED:
        command += ["--shared", name]
    return subprocess.Popen(
        command,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.timeout(600)
def test_twenty_processes_write_4000_answers_each_exactly_once(
    postgres_url: str, tmp_path: Path
) -> None:
    with open_database(postgres_url, backup_dir=None) as database:
        setup = TrainingService(database, sample_library(), Settings.in_data_dir(tmp_path))
        for name in [*SHARED, *(_writer_name(i) for i in range(WRITERS))]:
            setup.create_profile(name)
        ids_by_name = {p.display_name: p.id for p in setup.list_profiles()}

    writers = [_start_writer(postgres_url, i, tmp_path / f"writer-{i}") for i in range(WRITERS)]
    results: list[dict[str, Any]] = []
    try:
        for writer in writers:
            assert writer.stdout is not None
            line = writer.stdout.readline()
            assert line.strip() == "ready", writer.communicate()[1]
        # Everyone is connected and waiting: let them all go at once.
        for writer in writers:
            assert writer.stdin is not None
            writer.stdin.write("go\n")
            writer.stdin.flush()
        for writer in writers:
            out, err = writer.communicate(timeout=500)
            assert out.strip(), err
            results.append(json.loads(out.strip().splitlines()[-1]))
            assert writer.returncode == 0, (results[-1]["errors"][:3], err[-2000:])
    finally:
        for writer in writers:
            if writer.poll() is None:
                writer.kill()
                writer.wait()

    errors = [error for result in results for error in result["errors"]]
    assert errors == []
    reported = [attempt for result in results for attempt in result["attempts"]]
    assert len(reported) == WRITERS * ANSWERS_EACH
    assert len(set(reported)) == WRITERS * ANSWERS_EACH

    engine = create_engine(postgres_url)
    try:
        with engine.connect() as connection:
            stored = [row[0] for row in connection.exec_driver_sql("SELECT attempt_id FROM answer")]
            per_trainee: dict[int, int] = {
                int(trainee): int(count)
                for trainee, count in connection.exec_driver_sql(
                    "SELECT trainee_id, count(*) FROM answer GROUP BY trainee_id"
                )
            }
    finally:
        engine.dispose()
    assert len(stored) == WRITERS * ANSWERS_EACH
    assert Counter(stored) == Counter(reported)
    for index in range(WRITERS):
        assert per_trainee[ids_by_name[_writer_name(index)]] == ANSWERS_EACH // 2
    shared_share = WRITERS * ANSWERS_EACH // 2 // len(SHARED)
    for name in SHARED:
        assert per_trainee[ids_by_name[name]] == shared_share
    # For the record (not asserted: these machines are noisy), the slowest writer's pace.
    slowest = max(result["seconds"] for result in results)
    print(f"{WRITERS * ANSWERS_EACH} answers by {WRITERS} processes in {slowest:.2f} s")
