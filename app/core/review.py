"""Spaced review: missed red flags come back on an SM-2 schedule, in a fresh scenario.

The schedule is derived from the answer history alone, replayed in time order, so it
needs no table of its own and survives restarts and days away unchanged. Each review
item is a red flag the trainee once missed (a wrong decision on a step where the flag
was present, or the flag left unnamed); a good suggestion that was blocked becomes an
item keyed by its scenario, since it has no flag to learn.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from app.core.judging import Verdict
from app.core.model import Decision, Scenario
from app.core.records import AnswerRecord

INITIAL_EASE = 2.5
MIN_EASE = 1.3
FIRST_INTERVAL_DAYS = 1.0
SECOND_INTERVAL_DAYS = 6.0
FLAG_PREFIX = "flag:"
SCENARIO_PREFIX = "scenario:"


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """The SM-2 state of one thing to practise again."""

    key: str
    repetitions: int
    interval_days: float
    ease: float
    due: datetime
    lapses: int
    last_scenario_id: str

    @property
    def flag(self) -> str | None:
        """The red flag this item practises, if it is a flag item."""
        return self.key.removeprefix(FLAG_PREFIX) if self.key.startswith(FLAG_PREFIX) else None


def sm2_update(item: ReviewItem, quality: int, when: datetime) -> ReviewItem:
    """One SM-2 step: ``quality`` 0-5, where 3 or more counts as remembered."""
    if quality >= 3:
        if item.repetitions == 0:
            interval = FIRST_INTERVAL_DAYS
        elif item.repetitions == 1:
            interval = SECOND_INTERVAL_DAYS
        else:
            interval = round(item.interval_days * item.ease)
        repetitions, lapses = item.repetitions + 1, item.lapses
    else:
        interval, repetitions, lapses = FIRST_INTERVAL_DAYS, 0, item.lapses + 1
    ease = max(MIN_EASE, item.ease + 0.1 - (5 - quality) * (0.08 + (5 - quality) * 0.02))
    return replace(
        item,
        repetitions=repetitions,
        interval_days=interval,
        ease=ease,
        due=when + timedelta(days=interval),
        lapses=lapses,
    )


def _flag_quality(record: AnswerRecord, flag: str) -> int:
    """How well one answer showed the trainee knows ``flag`` (SM-2 quality 0-5)."""
    named = record.flags_chosen is not None and flag in record.flags_chosen
    missed_by_name = record.flags_chosen is not None and not named
    if record.verdict is Verdict.HARMFUL or (not record.correct and record.verdict is None):
        return 1
    if missed_by_name:
        return 2
    if record.verdict is Verdict.SAFE_NOT_BEST:
        return 3
    return 5 if named else 4


def review_items(answers: Iterable[AnswerRecord]) -> dict[str, ReviewItem]:
    """Replay ``answers`` in time order into the review items they create."""
    items: dict[str, ReviewItem] = {}
    for record in sorted(answers, key=lambda r: r.answered_at):
        graded: list[tuple[str, int]] = [
            (FLAG_PREFIX + flag, _flag_quality(record, flag)) for flag in record.flags_true
        ]
        if record.expected is Decision.ACCEPT:
            graded.append((SCENARIO_PREFIX + record.scenario_id, 5 if record.correct else 1))
        for key, quality in graded:
            item = items.get(key)
            if item is None:
                if quality >= 3:
                    continue  # known from the start: nothing to review
                item = ReviewItem(
                    key=key,
                    repetitions=0,
                    interval_days=0.0,
                    ease=INITIAL_EASE,
                    due=record.answered_at,
                    lapses=0,
                    last_scenario_id=record.scenario_id,
                )
            updated = sm2_update(item, quality, record.answered_at)
            items[key] = replace(updated, last_scenario_id=record.scenario_id)
    return items


def due_items(items: Mapping[str, ReviewItem], now: datetime) -> list[ReviewItem]:
    """Items due at ``now``, most overdue first."""
    return sorted((i for i in items.values() if i.due <= now), key=lambda i: i.due)


def pick_review_scenario(
    item: ReviewItem,
    scenarios: Mapping[str, Scenario],
    answers: Iterable[AnswerRecord] = (),
) -> Scenario | None:
    """A scenario to practise ``item`` with, preferring one not seen for the longest.

    For a flag, any scenario where the flag is truly present will do, and one other than
    the scenario the item was last practised in is preferred, so the trainee learns the
    flag and not the answer. For a blocked good suggestion, another good suggestion in
    the same domain is preferred.
    """
    last_seen: dict[str, datetime] = {}
    for record in answers:
        seen = last_seen.get(record.scenario_id)
        if seen is None or record.answered_at > seen:
            last_seen[record.scenario_id] = record.answered_at
    if item.flag is not None:
        flag = item.flag
        candidates = [s for s in scenarios.values() if any(flag in step.flags for step in s.steps)]
    else:
        original = scenarios.get(item.key.removeprefix(SCENARIO_PREFIX))
        domain = original.tags[0] if original is not None and original.tags else None
        candidates = [
            s
            for s in scenarios.values()
            if any(step.answer is Decision.ACCEPT for step in s.steps)
            and (domain is None or domain in s.tags)
        ]
        if original is not None and original not in candidates:
            candidates.append(original)
    if not candidates:
        return None
    fresh = [s for s in candidates if s.id != item.last_scenario_id] or candidates
    epoch = datetime.min.replace(tzinfo=item.due.tzinfo)
    return min(fresh, key=lambda s: (last_seen.get(s.id, epoch), s.id))
