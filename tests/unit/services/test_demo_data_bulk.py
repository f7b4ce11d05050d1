"""Demo data written in bulk into a new SQLite file: one transaction, worker processes.

What must hold besides the data itself: the schema afterwards is exactly the migrated
one, a run that fails or is killed half-way leaves the file as it was, the worker
processes give the same data as one process and never outlive a killed run.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.core.model import ContentLibrary
from app.services import demo_data, demo_worker
from app.services.demo_data import DemoDataError, generate_demo_data
from app.services.manager import ManagerService
from app.services.settings import Settings
from app.storage.database import Database, inspect_schema, open_database
from tests.unit.services.records_support import build_library

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def library() -> ContentLibrary:
    return build_library()


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    opened = open_database(_url(tmp_path / "data" / "thinktwice.db"), backup_dir=None)
    try:
        yield opened
    finally:
        opened.close()


def _schema(path: Path, kind: str = "%") -> list[tuple[object, ...]]:
    # Compared with the same file before the run: the migrations do not always write a
    # table's constraints in the same order, so two new files may differ in that.
    return _query(
        path,
        "SELECT type, name, tbl_name, sql FROM sqlite_master "
        f"WHERE type LIKE '{kind}' ORDER BY type, name",
    )


def _query(path: Path, sql: str) -> list[tuple[object, ...]]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def _verify(database: Database, library: ContentLibrary, tmp_path: Path) -> None:
    manager = ManagerService(database, library, Settings.in_data_dir(tmp_path / "settings"))
    assert manager.verify_records() is None


def _parallel(monkeypatch: pytest.MonkeyPatch, workers: int) -> None:
    monkeypatch.setattr(demo_data, "PARALLEL_MIN_ANSWERS", 1)
    monkeypatch.setattr(demo_data, "_worker_count", lambda: workers)


def test_the_schema_afterwards_is_exactly_the_migrated_one(
    database: Database, library: ContentLibrary, tmp_path: Path
) -> None:
    path = database.sqlite_path
    assert path is not None
    before = _schema(path)
    generate_demo_data(database, library, trainees=5, answers_per_trainee=30, now=NOW)

    assert _schema(path) == before
    fresh = tmp_path / "fresh" / "thinktwice.db"
    open_database(_url(fresh), backup_dir=None).close()
    assert _schema(path, "index") == _schema(fresh, "index")
    assert ("index", "ix_answer_answered_at") in {(row[0], row[1]) for row in before}
    assert inspect_schema(_url(path)).up_to_date
    assert _query(path, "PRAGMA integrity_check") == [("ok",)]
    assert _query(path, "PRAGMA foreign_key_check") == []
    assert _query(path, "PRAGMA journal_mode") == [("wal",)]
    _verify(database, library, tmp_path)


def test_rows_go_in_in_time_order(database: Database, library: ContentLibrary) -> None:
    path = database.sqlite_path
    assert path is not None
    generate_demo_data(database, library, trainees=7, answers_per_trainee=40, now=NOW)

    rows = _query(path, "SELECT answered_at, attempt_id FROM answer ORDER BY id")
    assert len(rows) == 280
    assert [row[0] for row in rows] == sorted(row[0] for row in rows)
    assert [row[1] for row in rows] == sorted(row[1] for row in rows)


def test_workers_give_the_same_data_as_one_process(
    tmp_path: Path, library: ContentLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo_data, "BULK_BATCH_ANSWERS", 16)  # several batches per worker

    def run(name: str) -> list[tuple[object, ...]]:
        path = tmp_path / name / "thinktwice.db"
        with open_database(_url(path), backup_dir=None) as database:
            summary = generate_demo_data(
                database, library, trainees=7, answers_per_trainee=25, seed=4, now=NOW
            )
            assert summary.answers == 175
            _verify(database, library, tmp_path)
        return _query(path, "SELECT * FROM answer ORDER BY id") + _query(
            path, "SELECT * FROM trainee ORDER BY id"
        )

    alone = run("alone")
    _parallel(monkeypatch, 3)
    assert run("three-workers") == alone


def test_a_run_that_fails_half_way_leaves_the_file_as_it_was(
    database: Database, library: ContentLibrary, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = database.sqlite_path
    assert path is not None
    before = _schema(path)
    monkeypatch.setattr(demo_data, "BULK_BATCH_ANSWERS", 10)
    _parallel(monkeypatch, 2)
    reports: list[int] = []

    def stop_after_two(done: int, _total: int) -> None:
        reports.append(done)
        if len(reports) == 2:
            raise RuntimeError("stopped")

    with pytest.raises(RuntimeError, match="stopped"):
        generate_demo_data(
            database, library, trainees=6, answers_per_trainee=30, now=NOW, progress=stop_after_two
        )

    assert reports[0] > 0
    assert _query(path, "SELECT count(*) FROM trainee") == [(0,)]
    assert _query(path, "SELECT count(*) FROM answer") == [(0,)]
    assert _query(path, "SELECT count(*) FROM cohort") == [(0,)]
    assert _schema(path) == before
    # The connection was put back as it was: the app's own writes still work.
    summary = generate_demo_data(database, library, trainees=2, answers_per_trainee=3, now=NOW)
    assert summary.answers == 6
    _verify(database, library, tmp_path)


_KILLED_RUN = """
import os, signal, sys
from datetime import UTC, datetime
from multiprocessing import active_children

from app.services import demo_data
from app.storage.database import open_database
from tests.unit.services.records_support import build_library

def stop(done, total):
    if done >= total // 3:
        print(" ".join(str(child.pid) for child in active_children()), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

if __name__ == "__main__":
    demo_data.BULK_BATCH_ANSWERS = 20
    demo_data.PARALLEL_MIN_ANSWERS = 1
    demo_data._worker_count = lambda: 2
    database = open_database(f"sqlite:///{sys.argv[1]}", backup_dir=None)
    demo_data.generate_demo_data(
        database, build_library(), trainees=10, answers_per_trainee=200,
        now=datetime(2026, 11, 24, tzinfo=UTC), progress=stop,
    )
"""


def _gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status  # ended, waiting to be reaped


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_killed_run_rolls_back_and_leaves_no_worker_behind(
    tmp_path: Path, library: ContentLibrary
) -> None:
    path = tmp_path / "data" / "thinktwice.db"
    open_database(_url(path), backup_dir=None).close()
    fresh = _schema(path)
    script = tmp_path / "killed_run.py"
    script.write_text(textwrap.dedent(_KILLED_RUN), encoding="utf-8")

    result = subprocess.run(
        [sys.executable, str(script), str(path)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == -9, result.stderr
    workers = [int(pid) for pid in result.stdout.split()]
    assert len(workers) == 2
    # Killed inside the transaction: the rollback journal is there, the file as it was.
    assert path.with_name("thinktwice.db-journal").exists()
    with open_database(_url(path), backup_dir=None) as reopened:
        assert _query(path, "SELECT count(*) FROM trainee") == [(0,)]
        assert _query(path, "SELECT count(*) FROM answer") == [(0,)]
        assert _schema(path) == fresh
        summary = generate_demo_data(reopened, library, trainees=2, answers_per_trainee=4)
        assert summary.answers == 8
    deadline = time.monotonic() + 30
    while not all(_gone(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(_gone(pid) for pid in workers)


def test_a_second_run_adds_in_batches_and_every_chain_verifies(
    database: Database, library: ContentLibrary, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = database.sqlite_path
    assert path is not None
    generate_demo_data(database, library, trainees=3, answers_per_trainee=20, seed=1, now=NOW)
    monkeypatch.setattr(demo_data, "BATCH_ANSWERS", 7)  # many transactions in the second
    written: list[int] = []
    summary = generate_demo_data(
        database,
        library,
        trainees=4,
        answers_per_trainee=23,
        seed=1,
        now=NOW,
        progress=lambda done, _total: written.append(done),
    )

    assert summary.answers == 92
    assert len(written) == 23  # one transaction per round of 4 answers
    assert _query(path, "SELECT count(*) FROM answer") == [(152,)]
    assert _query(path, "SELECT sum(chain_length) FROM trainee") == [(152,)]
    _verify(database, library, tmp_path)


def test_values_that_break_a_check_constraint_stop_the_run(
    database: Database, library: ContentLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = database.sqlite_path
    assert path is not None
    monkeypatch.setattr(demo_worker, "CONFIDENCE_LEVELS", (50, 75, 120))

    with pytest.raises(DemoDataError, match="constraint of the answer table"):
        generate_demo_data(database, library, trainees=2, answers_per_trainee=5, now=NOW)
    assert _query(path, "SELECT count(*) FROM trainee") == [(0,)]


def test_a_worker_that_fails_stops_the_run_with_its_reason(library: ContentLibrary) -> None:
    broken = demo_worker.DemoJob(
        people=(demo_worker.DemoPerson(1, "0" * 32, 0, 1, 0.5, 0.5, 0.5, 0.5),),
        plays=((demo_worker.DemoStep(library.scenarios["cleanup-disk"].steps[0], 0, ()),),),
        templates=("not a template",),
        answers_per_trainee=3,
        start_us=0,
        interval_us=1_000_000,
        slot_us=1_000_000.0,
        batch_rounds=1,
        sqlite_values=True,
        chunk_rows=0,
        check_every=1,
    )
    with (
        demo_data._Workers.started(1) as workers,
        pytest.raises(DemoDataError, match="wrong number of slots"),
    ):
        list(workers.batches([broken]))


def test_another_open_connection_keeps_the_wal_journal_and_the_run_still_works(
    database: Database, library: ContentLibrary, tmp_path: Path
) -> None:
    path = database.sqlite_path
    assert path is not None
    before = _schema(path)
    other = sqlite3.connect(path)
    try:
        assert other.execute("SELECT count(*) FROM trainee").fetchone() == (0,)
        summary = generate_demo_data(database, library, trainees=3, answers_per_trainee=10)
    finally:
        other.close()

    assert summary.answers == 30
    assert _schema(path) == before
    _verify(database, library, tmp_path)
