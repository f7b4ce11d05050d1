"""A small library and an answer writer for the team-database tests.

Run as a program (``python -m tests.pg.workload`` from the repository root) it is one of
many concurrent writers: it opens the database the way the app does, says ``ready``, waits
for a line on standard input (so that all writers start together), records its answers
through :meth:`TrainingService.record_answer`, alternating between its own trainee and the
shared ones, and prints one JSON object: the attempt ids it was given, the errors that
reached it, and the seconds its writing took.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from app.core.judging import StepAnswer
from app.core.model import ContentLibrary, Decision, Pack, Scenario, Step
from app.core.records import Profile
from app.services.settings import Settings
from app.services.training import TrainingService
from app.storage.database import open_database

ROOT = Path("/team-database-tests")

CLEANUP_STEP = Step(
    id="delete",
    answer=Decision.REJECT,
    suggestion="`rm -rf /srv/data/*`",
    if_accepted="Everything is gone.",
    if_rejected="The data is safe.",
    flags=("irreversible", "blast-radius"),
    decoys=("data-exposure",),
)
CLEANUP = Scenario(
    id="cleanup-disk",
    title="Cleanup disk",
    summary="A summary.",
    difficulty=1,
    situation="The disk is full.",
    debrief="The debrief.",
    steps=(CLEANUP_STEP,),
    pack_id="core",
    path=ROOT / "scenarios" / "cleanup-disk.md",
)


def sample_library() -> ContentLibrary:
    """One pack with one single-step scenario: enough to record answers against."""
    return ContentLibrary(
        packs={"core": Pack(id="core", root=ROOT)},
        scenarios={CLEANUP.id: CLEANUP},
    )


def record_one(training: TrainingService, profile: Profile, sequence: int = 0) -> str:
    """Record one answer for ``profile``; returns its attempt id once it is committed."""
    decision = Decision.REJECT if sequence % 3 else Decision.ACCEPT
    answer = StepAnswer(
        decision=decision,
        flags=frozenset({"irreversible"}) if sequence % 2 else None,
        confidence=50 + sequence % 51,
        seconds=1.0 + sequence % 7,
    )
    record, _outcome = training.record_answer(
        profile, CLEANUP, CLEANUP_STEP, answer, training.new_play_id()
    )
    return record.attempt_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--own", required=True, help="this writer's own trainee")
    parser.add_argument("--shared", action="append", default=[], help="a shared trainee")
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args(argv)

    database = open_database(args.url, backup_dir=None)
    try:
        training = TrainingService(database, sample_library(), Settings.in_data_dir(args.data_dir))
        by_name = {profile.display_name: profile for profile in training.list_profiles()}
        own = by_name[args.own]
        shared = [by_name[name] for name in args.shared]
        print("ready", flush=True)
        sys.stdin.readline()

        attempts: list[str] = []
        errors: list[str] = []
        started = time.perf_counter()
        for sequence in range(args.count):
            if sequence % 2 == 0 or not shared:
                profile = own
            else:
                profile = shared[(sequence // 2) % len(shared)]
            try:
                attempts.append(record_one(training, profile, sequence))
            except Exception as error:
                # Whatever reaches the caller is what a trainee would see; keep going.
                errors.append(f"{type(error).__name__}: {error}")
        elapsed = time.perf_counter() - started
    finally:
        database.close()
    print(json.dumps({"attempts": attempts, "errors": errors, "seconds": elapsed}))
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
