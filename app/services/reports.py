"""Plain-JSON forms of the measures and records, for ``progress --json`` and the exports.

Every number is a finite float or ``None`` (JSON has no NaN or infinity), every time is
ISO 8601 in UTC with a ``Z``. The keys are documented in docs/scoring.md ("progress
--json") and docs/records-schema.md.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from app.core.completion import TrackOutcome
from app.core.model import ContentLibrary
from app.core.scoring import TrustMetrics

if TYPE_CHECKING:
    from app.services.history import TraineeHistory
    from app.services.training import BaselineComparison, ReviewSuggestion

DECIMALS = 6


def number(value: float | None) -> float | None:
    """``value`` rounded to 6 decimals, or ``None`` when missing or not finite."""
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), DECIMALS)


def iso_time(moment: datetime | None) -> str | None:
    """``2026-11-24T10:15:03.120000Z`` (UTC, microseconds), or ``None``."""
    if moment is None:
        return None
    if moment.utcoffset() is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def metrics_json(metrics: TrustMetrics, library: ContentLibrary | None = None) -> dict[str, Any]:
    """All measures of ``metrics`` as JSON values."""
    flags = library.red_flags if library is not None else {}
    return {
        "answers": metrics.answers,
        "right": metrics.right,
        "score": number(metrics.score),
        "over_trust_rate": number(metrics.over_trust_rate),
        "harmful_seen": metrics.harmful_seen,
        "harmful_accepted": metrics.harmful_accepted,
        "under_trust_rate": number(metrics.under_trust_rate),
        "good_seen": metrics.good_seen,
        "good_rejected": metrics.good_rejected,
        "brier": number(metrics.brier),
        "reliability": [
            {
                "band": f"{band.low}-{band.high}",
                "low": band.low,
                "high": band.high,
                "count": band.count,
                "mean_confidence": number(band.mean_confidence),
                "accuracy": number(band.accuracy),
            }
            for band in metrics.reliability
        ],
        "d_prime": number(metrics.d_prime),
        "criterion": number(metrics.criterion),
        "flag_recall": [
            {
                "flag": recall.flag,
                "title": flags[recall.flag].title if recall.flag in flags else recall.flag,
                "caught": recall.caught,
                "present": recall.present,
                "recall": number(recall.recall),
            }
            for recall in metrics.flag_recall
        ],
        "steps_checked": metrics.steps_checked,
        "hints_taken": metrics.hints_taken,
        "mean_seconds": number(metrics.mean_seconds),
    }


def _short_metrics(metrics: TrustMetrics | None) -> dict[str, Any] | None:
    if metrics is None:
        return None
    return {
        "answers": metrics.answers,
        "score": number(metrics.score),
        "over_trust_rate": number(metrics.over_trust_rate),
        "under_trust_rate": number(metrics.under_trust_rate),
        "brier": number(metrics.brier),
    }


def outcome_json(outcome: TrackOutcome, library: ContentLibrary) -> dict[str, Any]:
    """A track outcome as JSON values."""
    track = library.tracks.get(outcome.track_id)
    return {
        "track_id": outcome.track_id,
        "title": track.title if track is not None else outcome.track_id,
        "status": outcome.status.value,
        "items_done": outcome.items_done,
        "items_total": outcome.items_total,
        "score": number(outcome.score),
        "over_trust_rate": number(outcome.over_trust_rate),
        "under_trust_rate": number(outcome.under_trust_rate),
        "first_started": iso_time(outcome.first_started),
        "completed_at": iso_time(outcome.completed_at),
        "seconds_spent": number(outcome.seconds_spent),
        "content_hash": outcome.content_hash,
    }


def progress_report(
    history: TraineeHistory,
    library: ContentLibrary,
    *,
    metrics: TrustMetrics,
    outcomes: list[TrackOutcome],
    comparison: BaselineComparison,
    review: list[ReviewSuggestion],
) -> dict[str, Any]:
    """The ``progress --json`` document for one trainee."""
    profile = history.profile
    counted = history.counted_answers()
    return {
        "trainee": {
            "uid": profile.uid,
            "name": profile.display_name,
            "email_or_id": profile.email_or_id,
            "team": profile.team,
        },
        **metrics_json(metrics, library),
        "check_minutes": sum(a.check_minutes for a in counted),
        "tracks": [outcome_json(outcome, library) for outcome in outcomes],
        "review_due": [
            {
                "key": suggestion.item.key,
                "flag": suggestion.item.flag,
                "due": iso_time(suggestion.item.due),
                "scenario_id": suggestion.scenario.id,
                "scenario_title": suggestion.scenario.title,
            }
            for suggestion in review
        ],
        "baseline_follow_up": {
            "baseline": _short_metrics(comparison.baseline),
            "follow_up": _short_metrics(comparison.follow_up),
            "change": {change.name: number(change.change) for change in comparison.changes},
        },
    }


def _percent(value: Any) -> str:
    return "n/a" if value is None else f"{value * 100:.1f} %"


def _plain(value: Any, decimals: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{decimals}f}"


def format_progress(report: dict[str, Any]) -> str:
    """The ``progress`` report as text for a terminal."""
    trainee = report["trainee"]
    lines = [
        f"Progress of {trainee['name']}",
        "",
        f"Steps answered:   {report['answers']} ({report['right']} right)",
        f"Score:            {_percent(report['score'])}",
        f"Over-trust:       {_percent(report['over_trust_rate'])} "
        f"({report['harmful_accepted']} of {report['harmful_seen']} harmful suggestions "
        "accepted as they stood)",
        f"Under-trust:      {_percent(report['under_trust_rate'])} "
        f"({report['good_rejected']} of {report['good_seen']} good suggestions rejected)",
        f"Brier score:      {_plain(report['brier'])} (0 is perfect; always 50 % scores 0.250)",
        f"Sensitivity d':   {_plain(report['d_prime'])}",
        f"Criterion c:      {_plain(report['criterion'])} (above 0 leans to accepting)",
        f"Steps checked:    {report['steps_checked']} ({report['check_minutes']} simulated min)",
        f"Hints taken:      {report['hints_taken']}",
        "",
        "Calibration (stated confidence against accuracy):",
    ]
    for band in report["reliability"]:
        stated = band["mean_confidence"]
        lines.append(
            f"  {band['band']:>6} %  {band['count']:>4} answer(s)  "
            f"mean confidence {'n/a' if stated is None else f'{stated:.1f} %'}"
            f"  right {_percent(band['accuracy'])}"
        )
    lines += ["", "Red-flag recall (when flags were named):"]
    if not report["flag_recall"]:
        lines.append("  none yet")
    for flag in report["flag_recall"]:
        lines.append(
            f"  {flag['title']}: {flag['caught']} of {flag['present']} ({_percent(flag['recall'])})"
        )
    lines += ["", "Tracks:"]
    for track in report["tracks"]:
        lines.append(
            f"  {track['title']}: {track['status']}, {track['items_done']}/{track['items_total']}"
            f" items, score {_percent(track['score'])}"
        )
    comparison = report["baseline_follow_up"]
    lines += ["", "Baseline against follow-up:"]
    for name, label in (
        ("score", "score"),
        ("over_trust_rate", "over-trust"),
        ("under_trust_rate", "under-trust"),
        ("brier", "Brier score"),
    ):
        before = (comparison["baseline"] or {}).get(name)
        after = (comparison["follow_up"] or {}).get(name)
        change = comparison["change"][name]
        lines.append(
            f"  {label:<12} {_plain(before)} -> {_plain(after)}"
            f"  (change {'n/a' if change is None else f'{change:+.3f}'})"
        )
    if report["review_due"]:
        lines += ["", f"Review due: {len(report['review_due'])} item(s)"]
        for item in report["review_due"]:
            lines.append(f"  {item['flag'] or item['key']}: practise with {item['scenario_title']}")
    return "\n".join(lines)
