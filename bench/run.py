"""``make bench``: measure Think Twice against its targets and write bench/results.json.

Every figure is the median of several runs; where the issue names an anchor, the anchor
is measured in the same run, interleaved with the figure, and the table shows the ratio
(these machines are noisy, a ratio much less so). Each row prints its target and whether
it holds. Work files go to build/bench/ (the 1,000,000-answer database is about 1 GB).

Usage: python bench/run.py [--only a,b,...] [--runs N] [--scenarios N]
       [--trainees N] [--answers-per-trainee M] [--reuse-records] [--out FILE]

Rows: a start to first paint, b its peak memory, c load 5,000 scenarios cold, d the same
warm, e open a scenario in the player, f write one answer, demo the demo-data generator,
g the completion table, h the CSV export, i 20 writers on PostgreSQL, j the bundle's start.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORK = REPO / "build" / "bench"
MARKER_VARIABLE = "THINKTWICE_FIRST_PAINT_MARKER"
MARKER_PREFIX = "first-paint rss_kb="
PASSPHRASE = "bench manager passphrase"
DEMO_COHORT = "Demo cohort"
BUNDLE = REPO / "dist" / "thinktwice" / "thinktwice"
ALL_ROWS = ("a", "b", "c", "d", "e", "f", "demo", "g", "h", "i", "j")

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # for tests.postgres_server and tests.pg.workload


@dataclass
class Row:
    """One line of the table and of results.json."""

    key: str
    measure: str
    value: float | None
    unit: str
    target: str
    holds: bool | None
    anchor: float | None = None
    anchor_label: str = ""
    ratio: float | None = None
    runs: int = 0
    note: str = ""
    samples: list[float] = field(default_factory=list)


@dataclass
class Measured:
    """A child process's wall time, peak memory, exit code and output."""

    seconds: float
    rss_kb: int
    code: int
    stdout: str
    stderr: str

    def json(self) -> dict[str, Any]:
        lines = [line for line in self.stdout.splitlines() if line.startswith("{")]
        if self.code != 0 or not lines:
            raise RuntimeError(f"child failed ({self.code}): {self.stderr[-2000:]}")
        result: dict[str, Any] = json.loads(lines[-1])
        return result


def _environment(**extra: str) -> dict[str, str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", **extra}
    env.pop(MARKER_VARIABLE, None)
    env.update(extra)
    return env


def run_measured(
    command: Sequence[str], env: dict[str, str] | None = None, stdout_path: Path | None = None
) -> Measured:
    """Run ``command`` to the end; its wall time and peak memory (wait4's ru_maxrss)."""
    with tempfile.TemporaryFile("w+") as err, tempfile.TemporaryFile("w+") as out:
        target = open(stdout_path, "wb") if stdout_path is not None else out  # noqa: SIM115
        try:
            started = time.perf_counter()
            process = subprocess.Popen(
                list(command), env=env or _environment(), stdout=target, stderr=err, cwd=REPO
            )
            _pid, status, usage = os.wait4(process.pid, 0)
            seconds = time.perf_counter() - started
            process.returncode = os.waitstatus_to_exitcode(status)
        finally:
            if stdout_path is not None:
                target.close()
        out.seek(0)
        err.seek(0)
        return Measured(seconds, usage.ru_maxrss, process.returncode, out.read(), err.read())


def time_to_first_paint(command: Sequence[str], timeout: float = 60) -> tuple[float, int]:
    """Seconds from spawning ``command`` to its first-paint marker, and the rss it printed."""
    env = _environment(**{MARKER_VARIABLE: "1"})
    with tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            list(command), env=env, stdout=subprocess.PIPE, stderr=err, text=True, cwd=REPO
        )
        assert process.stdout is not None
        seconds: float | None = None
        rss_kb = 0
        for line in process.stdout:
            if line.startswith(MARKER_PREFIX):
                seconds = time.perf_counter() - started
                rss_kb = int(line[len(MARKER_PREFIX) :].strip())
                break
        process.stdout.read()
        code = process.wait(timeout=timeout)
        if seconds is None or code != 0:
            err.seek(0)
            raise RuntimeError(f"{command[0]}: no first paint (exit {code}): {err.read()[-2000:]}")
        return seconds, rss_kb


def thinktwice_command() -> list[str]:
    script = Path(sys.executable).with_name("thinktwice")
    return [str(script)] if script.exists() else [sys.executable, "-m", "app"]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
    return ordered[index]


def child(kind: str, *args: str) -> list[str]:
    return [sys.executable, str(BENCH / "child.py"), kind, *args]


# The measurements ---------------------------------------------------------------------


def measure_start(runs: int, rows: set[str]) -> list[Row]:
    """a, b and j: start to first paint and its memory, against the bare window."""
    data_dir = WORK / "start-data"
    shutil.rmtree(data_dir, ignore_errors=True)
    app = [*thinktwice_command(), "--data-dir", str(data_dir), "--smoke-test"]
    anchor = [sys.executable, str(BENCH / "hello_qt.py")]
    with_bundle = "j" in rows and BUNDLE.exists()
    bundle_data = WORK / "bundle-data"
    bundle = [str(BUNDLE), "--data-dir", str(bundle_data), "--smoke-test"]
    # Unmeasured first starts create the database and the content index: a second start
    # is what a trainee sees every day.
    time_to_first_paint(app)
    time_to_first_paint(anchor)
    if with_bundle:
        shutil.rmtree(bundle_data, ignore_errors=True)
        time_to_first_paint(bundle)
    app_t, app_m, anchor_t, anchor_m, bundle_t = [], [], [], [], []
    for _ in range(runs):
        seconds, rss = time_to_first_paint(anchor)
        anchor_t.append(seconds)
        anchor_m.append(rss)
        seconds, rss = time_to_first_paint(app)
        app_t.append(seconds)
        app_m.append(rss)
        if with_bundle:
            bundle_t.append(time_to_first_paint(bundle)[0])
    result: list[Row] = []
    ratio = median(app_t) / median(anchor_t)
    result.append(
        Row(
            "a",
            "start to first paint, thinktwice --smoke-test",
            median(app_t) * 1000,
            "ms",
            "<= 2.0x anchor",
            ratio <= 2.0,
            median(anchor_t) * 1000,
            "bench/hello_qt.py",
            ratio,
            runs,
            samples=[t * 1000 for t in app_t],
        )
    )
    ratio = median(app_m) / median(anchor_m)
    result.append(
        Row(
            "b",
            "peak memory at first paint",
            median(app_m) / 1024,
            "MiB",
            "<= 2.0x anchor",
            ratio <= 2.0,
            median(anchor_m) / 1024,
            "bench/hello_qt.py",
            ratio,
            runs,
        )
    )
    if "j" in rows:
        if with_bundle:
            ratio = median(bundle_t) / median(app_t)
            result.append(
                Row(
                    "j",
                    "bundle start to first paint",
                    median(bundle_t) * 1000,
                    "ms",
                    "<= 1.2x source",
                    ratio <= 1.2,
                    median(app_t) * 1000,
                    "thinktwice from source",
                    ratio,
                    runs,
                )
            )
        else:
            result.append(
                not_available(
                    "j",
                    "bundle start to first paint",
                    "<= 1.2x source",
                    f"no bundle at {BUNDLE.relative_to(REPO)} (run make bundle)",
                )
            )
    return [row for row in result if row.key in rows]


def measure_content(runs: int, count: int) -> list[Row]:
    """c and d: load and validate ``count`` scenarios cold and warm, against plain reads."""
    pack = WORK / f"pack-{count}"
    if not (pack / "scenarios").is_dir() or len(list((pack / "scenarios").iterdir())) != count:
        shutil.rmtree(pack, ignore_errors=True)
        sys.path.insert(0, str(BENCH))
        from make_scenarios import write_pack

        write_pack(count, pack)
        # Files written in the last seconds are never kept in the content index.
        time.sleep(2.5)
    cache = WORK / "content-cache" / "content-index.pickle"
    shutil.rmtree(cache.parent, ignore_errors=True)
    read_cmd = child("read", "--pack", str(pack))
    cold_cmd = child("load", "--pack", str(pack))
    warm_cmd = child("load", "--pack", str(pack), "--cache", str(cache))
    run_measured(read_cmd)  # the page cache holds the files for everyone alike
    first = run_measured(warm_cmd).json()  # writes the index
    reads, colds, warms, cold_rss, warm_rss = [], [], [], [], []
    scenarios = first["scenarios"]
    for _ in range(runs):
        reads.append(run_measured(read_cmd).json()["seconds"])
        cold = run_measured(cold_cmd)
        colds.append(cold.json()["seconds"])
        cold_rss.append(cold.rss_kb)
        warm = run_measured(warm_cmd)
        warms.append(warm.json()["seconds"])
        warm_rss.append(warm.rss_kb)
        if warm.json()["scenarios"] != scenarios or cold.json()["scenarios"] != scenarios:
            raise RuntimeError("the cold and warm loads do not give the same library")
    cold_s = median(colds)
    note = f"{scenarios} scenarios incl. the built-in ones; peak RSS of the loading process"
    return [
        Row(
            "c",
            f"load and validate {count:,} scenarios, cold",
            cold_s * 1000,
            "ms",
            "<= 1500 ms",
            cold_s <= 1.5,
            median(reads) * 1000,
            "read the same files, no parsing",
            cold_s / median(reads),
            runs,
            note=note,
        ),
        Row(
            "c-mem",
            f"load and validate {count:,} scenarios, cold: peak memory",
            median(cold_rss) / 1024,
            "MiB",
            "<= 150 MiB",
            median(cold_rss) / 1024 <= 150,
            runs=runs,
        ),
        Row(
            "d",
            f"load and validate {count:,} scenarios, warm (content index)",
            median(warms) * 1000,
            "ms",
            "<= 0.2x cold",
            median(warms) / cold_s <= 0.2,
            cold_s * 1000,
            "the cold load",
            median(warms) / cold_s,
            runs,
            note=f"peak memory {median(warm_rss) / 1024:.0f} MiB",
        ),
    ]


def measure_player() -> Row:
    """e: open every built-in scenario in the player (render, highlight, lay out, paint)."""
    data_dir = WORK / "player-data"
    shutil.rmtree(data_dir, ignore_errors=True)
    result = run_measured(child("player", "--data-dir", str(data_dir))).json()
    times = [t * 1000 for t in result["times"]]
    value = median(times)
    return Row(
        "e",
        "open a scenario in the player",
        value,
        "ms",
        "median <= 30 ms",
        value <= 30,
        runs=len(times),
        note=f"over {len(times)} built-in scenarios, offscreen; 90th percentile "
        f"{percentile(times, 0.9):.0f} ms, first {times[0]:.0f} ms",
        samples=times,
    )


def fsync_floor(folder: Path, count: int = 200) -> list[float]:
    """How long one fsync of a small write takes in ``folder`` (no commit is faster)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "fsync-probe"
    times = []
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for _ in range(count):
            os.write(handle, b"x" * 4096)
            started = time.perf_counter()
            os.fsync(handle)
            times.append(time.perf_counter() - started)
    finally:
        os.close(handle)
        path.unlink()
    return times


def measure_writes(count: int) -> Row:
    """f: TrainingService.record_answer on SQLite in the data folder, each committed."""
    data_dir = WORK / "writes-data"
    shutil.rmtree(data_dir, ignore_errors=True)
    result = run_measured(child("writes", "--data-dir", str(data_dir), "--count", str(count)))
    times = [t * 1000 for t in result.json()["times"]]
    floor = [t * 1000 for t in fsync_floor(data_dir)]
    p99 = percentile(times, 0.99)
    return Row(
        "f",
        "write one answer, committed (99th percentile)",
        p99,
        "ms",
        "p99 <= 5 ms",
        p99 <= 5,
        percentile(floor, 0.99),
        "fsync of 4 KiB, p99",
        p99 / percentile(floor, 0.99),
        len(times),
        note=f"median {median(times):.1f} ms; fsync median {median(floor):.1f} ms",
    )


def records_dir(trainees: int, answers: int) -> Path:
    return WORK / f"records-{trainees}x{answers}"


def make_records(trainees: int, answers: int, reuse: bool) -> Row:
    """demo: thinktwice demo-data, which the next two rows need."""
    data_dir = records_dir(trainees, answers)
    stamp = data_dir / "complete"
    if reuse and stamp.exists():
        return Row(
            "demo",
            "demo-data generator",
            None,
            "answers/s",
            ">= 100,000 answers/s",
            None,
            note=f"reused {data_dir} (not measured this run)",
        )
    shutil.rmtree(data_dir, ignore_errors=True)
    command = [
        *thinktwice_command(),
        "--data-dir",
        str(data_dir),
        "demo-data",
        "--trainees",
        str(trainees),
        "--answers-per-trainee",
        str(answers),
        "--seed",
        "7",
    ]
    result = run_measured(command)
    if result.code != 0:
        raise RuntimeError(f"demo-data failed: {result.stderr[-2000:]}")
    summary = result.stdout.strip().splitlines()[-1]
    rate = float(summary.rsplit("(", 1)[1].split()[0].replace(",", ""))
    stamp.write_text(summary + "\n", encoding="utf-8")
    return Row(
        "demo",
        f"demo-data, {trainees * answers:,} answers",
        rate,
        "answers/s",
        ">= 100,000 answers/s",
        rate >= 100_000,
        runs=1,
        note=f"whole command {result.seconds:.1f} s, peak {result.rss_kb / 1024:.0f} MiB",
    )


def measure_completion(trainees: int, answers: int, runs: int) -> list[Row]:
    """g: the completion table of the demo cohort: standings current, and the first one."""
    data_dir = records_dir(trainees, answers)
    result = run_measured(
        child(
            "completion", "--data-dir", str(data_dir), "--cohort", DEMO_COHORT, "--runs", str(runs)
        )
    )
    values = result.json()
    first, current = values["times"][0], values["times"][1:]
    value = median(current) if current else first
    return [
        Row(
            "g",
            f"completion table, {trainees:,} trainees, {trainees * answers:,} answers",
            value * 1000,
            "ms",
            "<= 500 ms",
            value <= 0.5,
            runs=len(current),
            note=(
                f"{values['records']:,} records, standings current; "
                f"peak {result.rss_kb / 1024:.0f} MiB"
            ),
        ),
        Row(
            "g-first",
            "the same, first after a bulk load (every standing computed)",
            first * 1000,
            "ms",
            "none (reported)",
            None,
            runs=1,
        ),
    ]


ANCHOR_QUERY = (
    "SELECT a.attempt_id, t.display_name, t.email_or_id, t.team, a.scenario_id, "
    "a.scenario_version, a.step_id, a.decision, a.revision_text, a.correct, a.flags_chosen, "
    "a.flags_missed, a.confidence, a.seconds, a.answered_at "
    "FROM answer a JOIN trainee t ON t.id = a.trainee_id ORDER BY a.answered_at, a.id"
)


def measure_export(trainees: int, answers: int, runs: int) -> list[Row]:
    """h: CSV export of every answer, against sqlite3 -csv on the same rows."""
    data_dir = records_dir(trainees, answers)
    out = WORK / "export.csv"
    anchor_out = WORK / "export-anchor.csv"
    env = _environment(THINKTWICE_MANAGER_PASSPHRASE=PASSPHRASE)
    command = [
        *thinktwice_command(),
        "--data-dir",
        str(data_dir),
        "export",
        "--format",
        "csv",
        "--detail",
        "answers",
        "--out",
        str(out),
        "--overwrite",
    ]
    sqlite3 = shutil.which("sqlite3")
    if sqlite3 is None:
        return [not_available("h", "CSV export", "<= 1.5x sqlite3 -csv", "sqlite3 not installed")]
    anchor = [sqlite3, "-csv", str(data_dir / "thinktwice.db"), ANCHOR_QUERY]
    exports, rss, anchors = [], [], []
    for _ in range(runs):
        anchor_run = run_measured(anchor, stdout_path=anchor_out)
        if anchor_run.code != 0:
            raise RuntimeError(f"sqlite3 failed: {anchor_run.stderr[-2000:]}")
        anchors.append(anchor_run.seconds)
        export = run_measured(command, env=env)
        if export.code != 0:
            raise RuntimeError(f"export failed: {export.stderr[-2000:]}")
        exports.append(export.seconds)
        rss.append(export.rss_kb)
    with open(out, "rb") as handle:
        lines = sum(1 for _ in handle) - 1
    with open(anchor_out, "rb") as handle:
        anchor_lines = sum(1 for _ in handle)
    if lines != anchor_lines:
        raise RuntimeError(f"the export has {lines} rows, sqlite3 {anchor_lines}")
    out.unlink()
    anchor_out.unlink()
    ratio = median(exports) / median(anchors)
    peak = median(rss) / 1024
    return [
        Row(
            "h",
            f"CSV export of {lines:,} answers (whole command)",
            median(exports) * 1000,
            "ms",
            "<= 1.5x anchor",
            ratio <= 1.5,
            median(anchors) * 1000,
            "sqlite3 -csv, same rows",
            ratio,
            runs,
        ),
        Row(
            "h-mem",
            "CSV export: peak memory",
            peak,
            "MiB",
            "<= 250 MiB",
            peak <= 250,
            runs=runs,
        ),
    ]


def measure_postgres(writers: int = 20, each: int = 200) -> list[Row]:
    """i: twenty processes recording answers on one PostgreSQL database at once.

    Each writer records for its own trainee, as one app instance per trainee does; a
    second run sends half of every writer's answers to two shared trainees, whose chains
    then take one writer at a time (the team-database tests' worst case).
    """
    measure = f"{writers} concurrent writers on PostgreSQL"
    target = ">= 500 answers/s, none lost"
    try:
        from tests.postgres_server import (
            SERVER_URL_VARIABLE,
            PostgresServer,
            find_server_binaries,
        )
    except ImportError as error:
        return [not_available("i", measure, target, f"no PostgreSQL fixture ({error})")]
    url = os.environ.get(SERVER_URL_VARIABLE, "").strip()
    binaries = None if url else find_server_binaries()
    if not url and binaries is None:
        return [not_available("i", measure, target, "no PostgreSQL server binaries")]
    if url:
        server = PostgresServer(url)
    else:
        assert binaries is not None
        server = PostgresServer.throwaway(binaries)
    rows = []
    try:
        for key, shared in (("i", ()), ("i-shared", ("Shared Trainee A", "Shared Trainee B"))):
            database_url = server.create_database()
            try:
                rate, lost, errors = _run_writers(database_url, writers, each, shared)
            finally:
                server.drop_database(database_url)
            rows.append(
                Row(
                    key,
                    measure + (", half on 2 shared trainees" if shared else ", own trainees"),
                    rate,
                    "answers/s",
                    target,
                    rate >= 500 and lost == 0 and errors == 0,
                    runs=1,
                    note=f"{writers * each} answers, {lost} lost or repeated, {errors} errors",
                )
            )
    finally:
        server.close()
    return rows


def _run_writers(
    url: str, writers: int, each: int, shared: Sequence[str]
) -> tuple[float, int, int]:
    from sqlalchemy import create_engine

    from app.services.settings import Settings
    from app.services.training import TrainingService
    from app.storage.database import open_database
    from tests.pg.workload import sample_library

    names = [f"Writer {index:02d}" for index in range(writers)]
    folder = WORK / "pg-writers"
    shutil.rmtree(folder, ignore_errors=True)
    with open_database(url, backup_dir=None) as database:
        setup = TrainingService(database, sample_library(), Settings.in_data_dir(folder))
        for name in [*shared, *names]:
            setup.create_profile(name)
    processes = []
    for index, name in enumerate(names):
        command = [
            sys.executable,
            "-m",
            "tests.pg.workload",
            "--url",
            url,
            "--data-dir",
            str(folder / f"writer-{index}"),
            "--own",
            name,
            "--count",
            str(each),
        ]
        for trainee in shared:
            command += ["--shared", trainee]
        processes.append(
            subprocess.Popen(
                command,
                cwd=REPO,
                env={**os.environ, "PYTHONPATH": str(REPO)},
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    results = []
    try:
        for process in processes:
            assert process.stdout is not None
            if process.stdout.readline().strip() != "ready":
                raise RuntimeError(f"a writer did not start: {process.communicate()[1][-2000:]}")
        started = time.perf_counter()
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        for process in processes:
            out, _err = process.communicate(timeout=600)
            results.append(json.loads(out.strip().splitlines()[-1]))
        elapsed = time.perf_counter() - started
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    reported = [attempt for result in results for attempt in result["attempts"]]
    errors = sum(len(result["errors"]) for result in results)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            stored = [row[0] for row in connection.exec_driver_sql("SELECT attempt_id FROM answer")]
    finally:
        engine.dispose()
    lost = writers * each - len(set(stored) & set(reported)) + (len(stored) - len(set(stored)))
    return len(stored) / elapsed, lost, errors


def not_available(key: str, measure: str, target: str, why: str = "not available yet") -> Row:
    return Row(key, measure, None, "", target, None, note=why)


# Reporting ----------------------------------------------------------------------------


def _figure(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "answers/s":
        return f"{value:,.0f} /s"
    if unit == "MiB":
        return f"{value:,.0f} MiB"
    return f"{value:,.1f} {unit}" if value < 100 else f"{value:,.0f} {unit}"


def print_table(rows: Sequence[Row]) -> None:
    header = ("", "measure", "median", "anchor (same run)", "ratio", "target", "holds")
    lines = [header]
    for row in rows:
        anchor = _figure(row.anchor, row.unit) if row.anchor is not None else ""
        if row.anchor_label:
            anchor = f"{anchor} {row.anchor_label}".strip()
        holds = {True: "yes", False: "NO", None: "n/a"}[row.holds]
        ratio = f"{row.ratio:.2f}x" if row.ratio is not None else ""
        lines.append(
            (row.key, row.measure, _figure(row.value, row.unit), anchor, ratio, row.target, holds)
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for number, line in enumerate(lines):
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
        if number == 0:
            print("  ".join("-" * width for width in widths))
    for row in rows:
        if row.note:
            print(f"  {row.key}: {row.note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated rows: " + ",".join(ALL_ROWS))
    parser.add_argument("--runs", type=int, default=7, help="runs per figure (default 7)")
    parser.add_argument("--scenarios", type=int, default=5000)
    parser.add_argument("--trainees", type=int, default=1000)
    parser.add_argument("--answers-per-trainee", type=int, default=1000)
    parser.add_argument("--writes", type=int, default=600)
    parser.add_argument("--export-runs", type=int, default=3)
    parser.add_argument(
        "--reuse-records", action="store_true", help="keep an earlier demo-data database"
    )
    parser.add_argument("--out", type=Path, default=BENCH / "results.json")
    args = parser.parse_args(argv)
    rows = set(args.only.split(",")) if args.only else set(ALL_ROWS)
    unknown = rows - set(ALL_ROWS)
    if unknown:
        parser.error(f"unknown rows: {', '.join(sorted(unknown))}")
    WORK.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()

    results: list[Row] = []
    trainees, answers = args.trainees, args.answers_per_trainee
    steps: list[tuple[set[str], Callable[[], list[Row]]]] = [
        ({"a", "b", "j"}, lambda: measure_start(args.runs, rows)),
        ({"c", "d"}, lambda: measure_content(min(args.runs, 5), args.scenarios)),
        ({"e"}, lambda: [measure_player()]),
        ({"f"}, lambda: [measure_writes(args.writes)]),
        # g and h need the demo-data database: made (and measured) here first.
        ({"demo", "g", "h"}, lambda: [make_records(trainees, answers, args.reuse_records)]),
        ({"g"}, lambda: measure_completion(trainees, answers, 4)),
        ({"h"}, lambda: measure_export(trainees, answers, args.export_runs)),
        ({"i"}, measure_postgres),
    ]
    for keys, step in steps:
        if not rows & keys:
            continue
        started = time.perf_counter()
        print(f"measuring {', '.join(sorted(keys & rows))} ...", file=sys.stderr, flush=True)
        try:
            found = step()
        except Exception as error:  # one broken row must not hide the others
            found = [not_available(key, key, "", f"failed: {error}") for key in sorted(keys & rows)]
        results.extend(row for row in found if row.key.split("-")[0] in rows | {"demo"})
        print(f"  ({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)

    order = {key: index for index, key in enumerate(ALL_ROWS)}
    results.sort(key=lambda row: (order.get(row.key.split("-")[0], 99), row.key))
    print_table(results)
    payload = {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            # Other work on the machine moves every figure: say how busy it was.
            "load_average_before": load_before,
            "load_average_after": os.getloadavg(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "command": "python bench/run.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "rows": [asdict(row) for row in results],
    }
    args.out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
