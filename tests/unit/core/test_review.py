"""Spaced review derived from the answer history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.core.judging import Verdict
from app.core.model import Decision, Scenario, Step
from app.core.records import AnswerRecord
from app.core.review import (
    INITIAL_EASE,
    ReviewItem,
    due_items,
    pick_review_scenario,
    review_items,
    sm2_update,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def record(
    scenario: str,
    minutes: float,
    *,
    correct: bool,
    flags_true: tuple[str, ...] = ("irreversible",),
    chosen: tuple[str, ...] | None = None,
    expected: Decision = Decision.REJECT,
) -> AnswerRecord:
    verdict = Verdict.RIGHT if correct else Verdict.HARMFUL
    if expected is Decision.ACCEPT and not correct:
        verdict = Verdict.BLOCKED_GOOD
    return AnswerRecord(
        attempt_id=f"{scenario}-{minutes}",
        play_id=f"{scenario}-{minutes}",
        trainee_id=1,
        scenario_id=scenario,
        scenario_version=1,
        step_id="only",
        decision=expected if correct else Decision.ACCEPT,
        correct=correct,
        flags_missed=(),
        seconds=20,
        answered_at=T0 + timedelta(minutes=minutes),
        flags_chosen=chosen,
        expected=expected,
        flags_true=flags_true,
        verdict=verdict,
    )


def scenario(scenario_id: str, answer: Decision, flags: tuple[str, ...], tag: str) -> Scenario:
    step = Step(
        id="only",
        answer=answer,
        suggestion="s",
        if_accepted="a",
        if_rejected="r",
        flags=flags,
    )
    return Scenario(
        id=scenario_id,
        title=scenario_id,
        summary="s",
        difficulty=1,
        situation="x",
        debrief="d",
        steps=(step,),
        pack_id="core",
        path=Path(f"{scenario_id}.md"),
        tags=(tag,),
    )


def test_sm2_intervals_grow_then_reset_on_a_lapse() -> None:
    item = ReviewItem("flag:x", 0, 0.0, INITIAL_EASE, T0, 0, "s")
    first = sm2_update(item, 5, T0)
    second = sm2_update(first, 5, T0)
    third = sm2_update(second, 5, T0)
    assert (first.interval_days, second.interval_days) == (1.0, 6.0)
    # 6 days times the ease after two perfect answers (2.5 + 0.1 + 0.1 = 2.7), rounded.
    assert third.interval_days == round(6 * 2.7)
    lapsed = sm2_update(third, 1, T0)
    assert (lapsed.repetitions, lapsed.interval_days, lapsed.lapses) == (0, 1.0, 1)
    assert lapsed.ease == pytest.approx(2.8 - 0.54)


def test_a_flag_known_from_the_start_is_not_scheduled() -> None:
    items = review_items([record("a", 0, correct=True, chosen=("irreversible",))])
    assert items == {}


def test_a_missed_flag_comes_back_the_next_day_and_moves_out_after_success() -> None:
    items = review_items([record("a", 0, correct=False)])
    item = items["flag:irreversible"]
    assert item.due == T0 + timedelta(days=1)
    assert due_items(items, T0 + timedelta(hours=23)) == []
    assert due_items(items, T0 + timedelta(days=1)) == [item]

    history = [
        record("a", 0, correct=False),
        record("b", 24 * 60, correct=True, chosen=("irreversible",)),
    ]
    # After a lapse SM-2 starts again: one day, then six.
    once = review_items(history)["flag:irreversible"]
    assert once.due == T0 + timedelta(days=2)
    history.append(record("c", 2 * 24 * 60, correct=True, chosen=("irreversible",)))
    twice = review_items(history)["flag:irreversible"]
    assert twice.due == T0 + timedelta(days=2 + 6)


def test_review_serves_a_different_scenario_with_the_same_flag() -> None:
    scenarios = {
        s.id: s
        for s in (
            scenario("missed", Decision.REJECT, ("irreversible",), "shell-files"),
            scenario("other", Decision.REJECT, ("irreversible", "blast-radius"), "databases"),
            scenario("unrelated", Decision.REJECT, ("data-exposure",), "databases"),
        )
    }
    answers = [record("missed", 0, correct=False)]
    item = review_items(answers)["flag:irreversible"]
    chosen = pick_review_scenario(item, scenarios, answers)
    assert chosen is not None and chosen.id == "other"


def test_a_blocked_good_suggestion_brings_back_a_good_one_from_the_same_domain() -> None:
    scenarios = {
        s.id: s
        for s in (
            scenario("good-a", Decision.ACCEPT, (), "source-control"),
            scenario("good-b", Decision.ACCEPT, (), "source-control"),
            scenario("good-c", Decision.ACCEPT, (), "databases"),
        )
    }
    answers = [record("good-a", 0, correct=False, flags_true=(), expected=Decision.ACCEPT)]
    item = review_items(answers)["scenario:good-a"]
    chosen = pick_review_scenario(item, scenarios, answers)
    assert chosen is not None and chosen.id == "good-b"
