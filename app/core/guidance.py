"""What a trainee should do next, and in which order the tracks are offered.

The baseline check comes before onboarding so that a trainee's starting point is
measured, and the follow-up check only once onboarding is complete, so that the change
between them can be reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.core.model import ContentLibrary, Track, TrackItemKind
from app.core.records import TrackProgress, TraineeProgress

BASELINE = "baseline"
ONBOARDING = "new-hire"
FOLLOW_UP = "follow-up"
TRACK_ORDER = (BASELINE, ONBOARDING, FOLLOW_UP, "team-session", "agent-operators")


@dataclass(frozen=True, slots=True)
class NextItem:
    """What the trainee should do next: one lesson or scenario, maybe within a track."""

    kind: TrackItemKind
    ref: str
    title: str
    track_id: str | None = None
    track_title: str | None = None


def ordered_tracks(library: ContentLibrary) -> list[Track]:
    """The built-in learning path first (baseline, onboarding, follow-up, ...), then the
    rest by title."""
    rank = {track_id: position for position, track_id in enumerate(TRACK_ORDER)}
    return sorted(
        library.tracks.values(),
        key=lambda t: (rank.get(t.id, len(TRACK_ORDER)), t.title.casefold(), t.id),
    )


def next_item(
    library: ContentLibrary, progress: TraineeProgress, tracks: Sequence[TrackProgress]
) -> NextItem | None:
    """The next unfinished item of the first unfinished track in the learning path; else
    the first unplayed scenario of the catalogue; ``None`` when everything is done.

    The follow-up check waits until onboarding is complete.
    """
    complete = {t.track_id for t in tracks if t.complete}
    for track in ordered_tracks(library):
        if track.id in complete:
            continue
        if track.id == FOLLOW_UP and ONBOARDING in library.tracks and ONBOARDING not in complete:
            continue
        for item in track.items:
            if item.kind is TrackItemKind.LESSON:
                lesson = library.lessons.get(item.ref)
                if lesson is not None and item.ref not in progress.lessons_read:
                    return NextItem(item.kind, item.ref, lesson.title, track.id, track.title)
            else:
                scenario = library.scenarios.get(item.ref)
                if scenario is not None and not progress.scenario_done(item.ref):
                    return NextItem(item.kind, item.ref, scenario.title, track.id, track.title)
    for scenario in library.scenarios.values():
        if not progress.scenario_done(scenario.id):
            return NextItem(TrackItemKind.SCENARIO, scenario.id, scenario.title)
    return None
