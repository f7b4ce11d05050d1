"""The measured work of ``make bench``, each run in a fresh process of its own.

Usage: python bench/child.py KIND [options]; prints one JSON object on its last line.
The parent (bench/run.py) times what it can see from outside (start to first paint, peak
memory through wait4) and takes the rest from here:

- ``read --pack DIR``: read every content file of the built-in pack and DIR, no parsing
  (the anchor of the content load);
- ``load --pack DIR [--cache FILE]``: load and validate the built-in pack and DIR, with
  the content index at FILE when given;
- ``player --data-dir DIR``: open every built-in scenario in the player, offscreen;
- ``writes --data-dir DIR --count N``: record N answers, each committed;
- ``completion --data-dir DIR --cohort NAME --runs N``: the completion table of a cohort.

Imports happen before the clock starts: the figures are the work itself.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

PASSPHRASE = "bench manager passphrase"
SLOW_SECONDS = 20.0


def _peak_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _report(**values: Any) -> int:
    print(json.dumps({**values, "rss_kb": _peak_rss_kb()}), flush=True)
    return 0


def _content_files(pack: Path) -> list[Path]:
    from app.content.locations import builtin_pack_root

    files: list[Path] = []
    for root in (builtin_pack_root(), pack):
        for folder in ("scenarios", "lessons"):
            base = root / folder
            if base.is_dir():
                files.extend(path for path in base.rglob("*") if path.suffix in {".md", ".yaml"})
    return files


def read_files(pack: Path) -> int:
    started = time.perf_counter()
    files = _content_files(pack)
    total = 0
    for path in files:
        with open(path, "rb") as handle:
            total += len(handle.read())
    seconds = time.perf_counter() - started
    return _report(seconds=seconds, files=len(files), bytes=total)


def load_content(pack: Path, cache: Path | None) -> int:
    from app.content.loader import load_library

    started = time.perf_counter()
    library = load_library([pack], cache_path=cache)
    seconds = time.perf_counter() - started
    return _report(
        seconds=seconds, scenarios=len(library.scenarios), problems=len(library.problems)
    )


def open_in_player(data_dir: Path) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from app.services.bootstrap import AppConfig, open_context
    from app.ui.launch import create_application
    from app.ui.player import PlayerPage

    app = create_application()
    times: list[float] = []
    with open_context(AppConfig(data_dir=data_dir)) as context:
        profile = context.training.get_or_create_profile("Bench Player")
        player = PlayerPage(context.library, context.training, open_url=lambda _url: None)
        player.resize(1240, 820)
        player.show()
        QApplication.processEvents()
        scenarios = sorted(context.library.scenarios.values(), key=lambda s: s.id)
        for scenario in scenarios:
            started = time.perf_counter()
            player.start(scenario, profile)
            # Lay out and paint what start() built, as the event loop would.
            QApplication.processEvents()
            player.repaint()
            times.append(time.perf_counter() - started)
        player.close()
    app.processEvents()
    return _report(times=times, scenarios=len(scenarios))


def record_answers(data_dir: Path, count: int) -> int:
    from app.core.judging import StepAnswer
    from app.core.model import Decision
    from app.services.bootstrap import AppConfig, open_context

    times: list[float] = []
    with open_context(AppConfig(data_dir=data_dir)) as context:
        training = context.training
        profile = training.get_or_create_profile("Bench Writer")
        steps = [
            (scenario, step)
            for scenario in sorted(context.library.scenarios.values(), key=lambda s: s.id)
            for step in scenario.steps
        ]
        for number in range(count):
            scenario, step = steps[number % len(steps)]
            revision = step.correct_revision_index if step.answer is Decision.REVISE else None
            answer = StepAnswer(
                step.answer,
                revision_index=revision,
                flags=frozenset(step.flags[:1]),
                confidence=80,
                seconds=12.5,
            )
            play_id = training.new_play_id()
            started = time.perf_counter()
            training.record_answer(profile, scenario, step, answer, play_id)
            times.append(time.perf_counter() - started)
    return _report(times=times)


def completion_table(data_dir: Path, cohort: str, runs: int) -> int:
    """The cohort's completion table ``runs`` times, the first with no standings stored.

    The stored standings are emptied first, so the first run is the table right after a
    bulk load (every standing computed, then stored); the later runs find them current.
    """
    import sqlite3

    from app.services.bootstrap import AppConfig, open_context

    times: list[float] = []
    records = 0
    with open_context(AppConfig(data_dir=data_dir)) as context:
        manager = context.manager
        if not manager.has_passphrase():
            manager.set_passphrase(PASSPHRASE)
        session = manager.unlock(PASSPHRASE, "bench")
        with sqlite3.connect(data_dir / "thinktwice.db") as connection:
            connection.execute("DELETE FROM track_standing")
        for _ in range(runs):
            started = time.perf_counter()
            records = len(manager.completion_records(session, cohort=cohort))
            times.append(time.perf_counter() - started)
            if len(times) > 1 and times[-1] > SLOW_SECONDS:
                break  # one run of a figure this far off says enough
    return _report(times=times, records=records)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    kinds = parser.add_subparsers(dest="kind", required=True)
    read = kinds.add_parser("read")
    read.add_argument("--pack", type=Path, required=True)
    load = kinds.add_parser("load")
    load.add_argument("--pack", type=Path, required=True)
    load.add_argument("--cache", type=Path)
    player = kinds.add_parser("player")
    player.add_argument("--data-dir", type=Path, required=True)
    writes = kinds.add_parser("writes")
    writes.add_argument("--data-dir", type=Path, required=True)
    writes.add_argument("--count", type=int, default=600)
    completion = kinds.add_parser("completion")
    completion.add_argument("--data-dir", type=Path, required=True)
    completion.add_argument("--cohort", required=True)
    completion.add_argument("--runs", type=int, default=4)
    args = parser.parse_args(argv)
    if args.kind == "read":
        return read_files(args.pack)
    if args.kind == "load":
        return load_content(args.pack, args.cache)
    if args.kind == "player":
        return open_in_player(args.data_dir)
    if args.kind == "writes":
        return record_answers(args.data_dir, args.count)
    return completion_table(args.data_dir, args.cohort, args.runs)


if __name__ == "__main__":
    sys.exit(main())
