"""Hash chains over records, and track completion status."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.core.chain import GENESIS, ChainLink, link_hash, verify_chain
from app.core.completion import CompletionStatus, track_content_hash, track_outcome
from app.core.judging import Verdict
from app.core.model import Decision, Scenario, Step, Track, TrackItem, TrackItemKind
from app.core.records import AnswerRecord

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def build_chain(payloads: list[dict[str, object]]) -> list[ChainLink]:
    links, previous = [], GENESIS
    for number, payload in enumerate(payloads):
        digest = link_hash(previous, payload)
        links.append(ChainLink(str(number), previous, digest, payload))
        previous = digest
    return links


def test_an_intact_chain_verifies() -> None:
    links = build_chain([{"n": 1, "at": T0}, {"n": 2, "flags": ("a", "b")}])
    assert verify_chain(links) is None


def test_a_changed_record_is_named() -> None:
    links = build_chain([{"n": 1}, {"n": 2}, {"n": 3}])
    links[1] = replace(links[1], payload={"n": 20})
    broken = verify_chain(links)
    assert broken is not None
    assert broken.record_id == "1"
    assert "content" in broken.reason


def test_a_removed_record_breaks_the_next_link() -> None:
    links = build_chain([{"n": 1}, {"n": 2}, {"n": 3}])
    del links[1]
    broken = verify_chain(links)
    assert broken is not None and broken.record_id == "2"


def test_naive_times_cannot_be_chained() -> None:
    with pytest.raises(ValueError, match="time zone"):
        link_hash(GENESIS, {"at": datetime(2026, 1, 1)})


def scenario(sid: str, answer: Decision = Decision.REJECT) -> Scenario:
    step = Step(id="only", answer=answer, suggestion="s", if_accepted="a", if_rejected="r")
    return Scenario(
        id=sid,
        title=sid,
        summary="s",
        difficulty=1,
        situation="x",
        debrief="d",
        steps=(step,),
        pack_id="core",
        path=Path(f"{sid}.md"),
    )


SCENARIOS = {s.id: s for s in (scenario("one"), scenario("two", Decision.ACCEPT))}
TRACK = Track(
    id="new-hire",
    title="New hire",
    summary="s",
    items=(
        TrackItem(TrackItemKind.LESSON, "intro"),
        TrackItem(TrackItemKind.SCENARIO, "one"),
        TrackItem(TrackItemKind.SCENARIO, "two"),
    ),
    pack_id="core",
    path=Path("new-hire.yaml"),
    pass_mark=0.8,
)


def answer(sid: str, minutes: int, right: bool, play: str | None = None) -> AnswerRecord:
    expected = SCENARIOS[sid].steps[0].answer
    decision = (
        expected
        if right
        else Decision.ACCEPT
        if expected is not Decision.ACCEPT
        else Decision.REJECT
    )
    verdict = Verdict.RIGHT if right else Verdict.HARMFUL
    return AnswerRecord(
        attempt_id=f"{sid}-{minutes}",
        play_id=play or f"{sid}-{minutes}",
        trainee_id=1,
        scenario_id=sid,
        scenario_version=1,
        step_id="only",
        decision=decision,
        correct=right,
        flags_missed=(),
        seconds=60,
        answered_at=T0 + timedelta(minutes=minutes),
        expected=expected,
        verdict=verdict,
    )


def test_not_started_then_in_progress() -> None:
    assert track_outcome(TRACK, SCENARIOS, [], {}).status is CompletionStatus.NOT_STARTED
    outcome = track_outcome(TRACK, SCENARIOS, [answer("one", 1, True)], {})
    assert outcome.status is CompletionStatus.IN_PROGRESS
    assert outcome.first_started == T0 + timedelta(minutes=1)


def test_failed_then_passed_on_a_retake_and_the_best_attempt_counts() -> None:
    read = {"intro": T0}
    first = [answer("one", 1, True), answer("two", 2, False)]
    failed = track_outcome(TRACK, SCENARIOS, first, read)
    assert failed.status is CompletionStatus.FAILED
    assert failed.score == pytest.approx(0.45)
    assert failed.completed_at == T0 + timedelta(minutes=2)

    retake = [*first, answer("two", 10, True), answer("one", 11, False)]
    passed = track_outcome(TRACK, SCENARIOS, retake, read)
    assert passed.status is CompletionStatus.PASSED
    assert passed.score == pytest.approx(0.9)
    assert passed.completed_at == T0 + timedelta(minutes=10)
    assert passed.seconds_spent == 240


def test_reset_and_waiver() -> None:
    history = [answer("one", 1, True), answer("two", 2, True)]
    reset = track_outcome(
        TRACK, SCENARIOS, history, {"intro": T0}, counted_since=T0 + timedelta(hours=1)
    )
    assert reset.status is CompletionStatus.NOT_STARTED
    waived = track_outcome(TRACK, SCENARIOS, [], {}, waived_at=T0)
    assert waived.status is CompletionStatus.WAIVED


def test_content_hash_follows_scenario_versions() -> None:
    before = track_content_hash(TRACK, SCENARIOS)
    changed = {**SCENARIOS, "one": replace(SCENARIOS["one"], version=2)}
    assert track_content_hash(TRACK, changed) != before
    assert track_content_hash(TRACK, SCENARIOS) == before
