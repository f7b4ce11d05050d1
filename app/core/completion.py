"""Track completion: status, score, trust rates and times for one trainee and one track."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.core.chain import canonical_json
from app.core.model import Scenario, Track, TrackItemKind
from app.core.records import AnswerRecord
from app.core.scoring import step_score, trust_rates


class CompletionStatus(StrEnum):
    """Where a trainee stands on a track, as a completion record states it."""

    NOT_STARTED = "not started"
    IN_PROGRESS = "in progress"
    COMPLETED = "completed"
    PASSED = "passed"
    FAILED = "failed"
    WAIVED = "waived"


@dataclass(frozen=True, slots=True)
class TrackOutcome:
    """A trainee's standing on one track (the best attempt counts; all are kept)."""

    track_id: str
    status: CompletionStatus
    items_done: int
    items_total: int
    score: float | None
    over_trust_rate: float | None
    under_trust_rate: float | None
    first_started: datetime | None
    completed_at: datetime | None
    seconds_spent: float
    content_hash: str


def track_content_hash(track: Track, scenarios: Mapping[str, Scenario]) -> str:
    """A hash of what the track asks, so a record says which content was answered."""
    items = []
    for item in track.items:
        entry: dict[str, object] = {"kind": item.kind.value, "ref": item.ref}
        scenario = scenarios.get(item.ref) if item.kind is TrackItemKind.SCENARIO else None
        if scenario is not None:
            entry["version"] = scenario.version
        items.append(entry)
    payload = {"track": track.id, "pass_mark": track.pass_mark, "items": items}
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def track_outcome(
    track: Track,
    scenarios: Mapping[str, Scenario],
    answers: Iterable[AnswerRecord],
    lessons_read: Mapping[str, datetime],
    *,
    counted_since: datetime | None = None,
    waived_at: datetime | None = None,
) -> TrackOutcome:
    """Replay a trainee's history on ``track``.

    ``counted_since`` (a manager's reset) drops everything before it; ``waived_at``
    marks the track waived. A track is completed when every item is done, and then
    passed or failed by its pass mark; a track with no scenarios is only completed.
    """
    scenario_ids = [ref for ref in track.scenario_ids if ref in scenarios]
    lesson_ids = set(track.lesson_ids)
    history = sorted(
        (
            a
            for a in answers
            if a.scenario_id in scenario_ids
            and (counted_since is None or a.answered_at >= counted_since)
        ),
        key=lambda a: a.answered_at,
    )
    read = {
        lesson: when
        for lesson, when in lessons_read.items()
        if lesson in lesson_ids and (counted_since is None or when >= counted_since)
    }

    best: dict[str, float] = {}
    plays: dict[str, dict[str, AnswerRecord]] = {}
    step_ids = {sid: {step.id for step in scenarios[sid].steps} for sid in scenario_ids}
    first_complete: datetime | None = None
    first_pass: datetime | None = None
    # Lessons count from the moment they were read; answers replay in time order.
    events = sorted(
        [(when, "lesson", lesson) for lesson, when in read.items()]
        + [(a.answered_at, "answer", a.attempt_id) for a in history],
        key=lambda e: e[0],
    )
    by_attempt = {a.attempt_id: a for a in history}
    lessons_done: set[str] = set()
    for when, kind, key in events:
        if kind == "lesson":
            lessons_done.add(key)
        else:
            record = by_attempt[key]
            if record.step_id not in step_ids[record.scenario_id]:
                continue
            play = plays.setdefault(record.play_id, {})
            play.setdefault(record.step_id, record)
            if set(play) == step_ids[record.scenario_id]:
                play_score = sum(step_score(r).total for r in play.values()) / len(play)
                best[record.scenario_id] = max(best.get(record.scenario_id, 0.0), play_score)
        done = len(lessons_done) + len(best)
        if done == len(lesson_ids) + len(scenario_ids) and done > 0:
            first_complete = first_complete or when
            passing = bool(scenario_ids) and (
                sum(best.values()) / len(scenario_ids) >= track.pass_mark
            )
            if passing and first_pass is None:
                first_pass = when

    items_done = len(lessons_done) + len(best)
    items_total = len(lesson_ids) + len(scenario_ids)
    score = sum(best.values()) / len(scenario_ids) if best and scenario_ids else None
    over_trust_rate, under_trust_rate = trust_rates(history)
    started = [e[0] for e in events]
    if waived_at is not None:
        status = CompletionStatus.WAIVED
    elif not started:
        status = CompletionStatus.NOT_STARTED
    elif first_complete is None:
        status = CompletionStatus.IN_PROGRESS
    elif not scenario_ids:
        status = CompletionStatus.COMPLETED
    else:
        status = CompletionStatus.PASSED if first_pass is not None else CompletionStatus.FAILED
    return TrackOutcome(
        track_id=track.id,
        status=status,
        items_done=items_done,
        items_total=items_total,
        score=score,
        over_trust_rate=over_trust_rate,
        under_trust_rate=under_trust_rate,
        first_started=started[0] if started else None,
        completed_at=first_pass or first_complete,
        seconds_spent=sum(a.seconds for a in history),
        content_hash=track_content_hash(track, scenarios),
    )
