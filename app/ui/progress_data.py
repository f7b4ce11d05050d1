"""The numbers behind the "My progress" dashboard, computed from answers without Qt.

The dashboard's charts and their text alternatives are both drawn from these values, so a
screen-reader user hears exactly the numbers a sighted user sees.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from app.core.guidance import BASELINE, FOLLOW_UP
from app.core.model import ContentLibrary
from app.core.records import AnswerRecord
from app.core.scoring import TrustMetrics, step_score

if TYPE_CHECKING:
    from app.services.training import BaselineComparison

# A flag caught at least this often is a strength; less often than GAP_BELOW, a gap.
STRENGTH_FROM = 0.75
GAP_BELOW = 0.5


@dataclass(frozen=True, slots=True)
class PlayScore:
    """One play of a scenario (the steps answered in it) and its mean step score."""

    number: int
    play_id: str
    scenario_id: str
    scenario_title: str
    finished_at: datetime
    steps: int
    score: float


@dataclass(frozen=True, slots=True)
class ScenarioTime:
    """How long the trainee spends on a scenario: the mean over its plays."""

    scenario_id: str
    title: str
    plays: int
    mean_seconds: float
    last_played: datetime


@dataclass(frozen=True, slots=True)
class FlagStrength:
    """How often a red flag was named when it was present (steps with flags named)."""

    flag_id: str
    title: str
    caught: int
    present: int

    @property
    def recall(self) -> float:
        """Share of the times the flag was present that it was named."""
        return self.caught / self.present if self.present else 0.0

    @property
    def strength(self) -> bool:
        """Caught at least three times in four."""
        return self.recall >= STRENGTH_FROM

    @property
    def gap(self) -> bool:
        """Caught less than half of the time."""
        return self.recall < GAP_BELOW


@dataclass(frozen=True, slots=True)
class ProgressData:
    """Everything the dashboard shows for one trainee."""

    trainee: str
    metrics: TrustMetrics
    plays: tuple[PlayScore, ...]
    times: tuple[ScenarioTime, ...]
    flags: tuple[FlagStrength, ...]
    comparison: BaselineComparison
    has_baseline_track: bool
    has_follow_up_track: bool


def _scenario_title(library: ContentLibrary, scenario_id: str) -> str:
    scenario = library.scenarios.get(scenario_id)
    return scenario.title if scenario is not None else scenario_id


def _plays(answers: Iterable[AnswerRecord]) -> list[list[AnswerRecord]]:
    """Answers grouped by play, plays ordered by their first answer."""
    groups: dict[str, list[AnswerRecord]] = {}
    for record in sorted(answers, key=lambda r: r.answered_at):
        groups.setdefault(record.play_id, []).append(record)
    return list(groups.values())


def play_scores(answers: Iterable[AnswerRecord], library: ContentLibrary) -> tuple[PlayScore, ...]:
    """Each play's mean step score, oldest first (an unfinished play counts its steps)."""
    scores = []
    for number, records in enumerate(_plays(answers), start=1):
        first = records[0]
        scores.append(
            PlayScore(
                number=number,
                play_id=first.play_id,
                scenario_id=first.scenario_id,
                scenario_title=_scenario_title(library, first.scenario_id),
                finished_at=records[-1].answered_at,
                steps=len(records),
                score=sum(step_score(r).total for r in records) / len(records),
            )
        )
    return tuple(scores)


def scenario_times(
    answers: Iterable[AnswerRecord], library: ContentLibrary
) -> tuple[ScenarioTime, ...]:
    """Mean seconds per play of each scenario played, in the order first played."""
    per_scenario: dict[str, list[list[AnswerRecord]]] = {}
    for records in _plays(answers):
        per_scenario.setdefault(records[0].scenario_id, []).append(records)
    times = []
    for scenario_id, plays in per_scenario.items():
        totals = [sum(r.seconds for r in play) for play in plays]
        times.append(
            ScenarioTime(
                scenario_id=scenario_id,
                title=_scenario_title(library, scenario_id),
                plays=len(plays),
                mean_seconds=sum(totals) / len(totals),
                last_played=max(play[-1].answered_at for play in plays),
            )
        )
    return tuple(times)


def flag_strengths(metrics: TrustMetrics, library: ContentLibrary) -> tuple[FlagStrength, ...]:
    """Recall per red flag, best caught first (then by title)."""
    strengths = []
    for recall in metrics.flag_recall:
        flag = library.red_flags.get(recall.flag)
        title = flag.title if flag is not None else recall.flag
        strengths.append(FlagStrength(recall.flag, title, recall.caught, recall.present))
    return tuple(sorted(strengths, key=lambda s: (-s.recall, s.title.casefold())))


def progress_data(
    trainee: str,
    answers: Sequence[AnswerRecord],
    metrics: TrustMetrics,
    comparison: BaselineComparison,
    library: ContentLibrary,
) -> ProgressData:
    """The dashboard's values for one trainee's counted answers."""
    return ProgressData(
        trainee=trainee,
        metrics=metrics,
        plays=play_scores(answers, library),
        times=scenario_times(answers, library),
        flags=flag_strengths(metrics, library),
        comparison=comparison,
        has_baseline_track=BASELINE in library.tracks,
        has_follow_up_track=FOLLOW_UP in library.tracks,
    )
