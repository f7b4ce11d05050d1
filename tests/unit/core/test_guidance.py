"""The learning path: baseline first, onboarding next, follow-up only after onboarding."""

from __future__ import annotations

from pathlib import Path

from app.core.guidance import next_item, ordered_tracks
from app.core.model import (
    ContentLibrary,
    Decision,
    Lesson,
    Scenario,
    Step,
    Track,
    TrackItem,
    TrackItemKind,
)
from app.core.records import ScenarioProgress, TrackProgress, TraineeProgress


def scenario(sid: str) -> Scenario:
    step = Step(id="s", answer=Decision.ACCEPT, suggestion="x", if_accepted="a", if_rejected="r")
    return Scenario(
        id=sid,
        title=sid.title(),
        summary="s",
        difficulty=1,
        situation="x",
        debrief="d",
        steps=(step,),
        pack_id="core",
        path=Path(f"{sid}.md"),
    )


def track(tid: str, *refs: str) -> Track:
    items = tuple(TrackItem(TrackItemKind.SCENARIO, ref) for ref in refs)
    return Track(id=tid, title=tid, summary="s", items=items, pack_id="core", path=Path(tid))


def library() -> ContentLibrary:
    lib = ContentLibrary()
    for sid in ("a", "b", "c", "d"):
        lib.scenarios[sid] = scenario(sid)
    lib.lessons["intro"] = Lesson("intro", "Intro", "s", "body", "core", Path("intro.md"))
    # Alphabetical order would put agent-operators and follow-up first.
    for t in (
        track("agent-operators", "d"),
        track("follow-up", "c"),
        track("new-hire", "b"),
        track("baseline", "a"),
    ):
        lib.tracks[t.id] = t
    return lib


def done(*ids: str) -> TraineeProgress:
    progress = TraineeProgress()
    for sid in ids:
        progress.scenarios[sid] = ScenarioProgress(sid, 1, plays_completed=1, best_score=1.0)
    return progress


def states(lib: ContentLibrary, progress: TraineeProgress) -> list[TrackProgress]:
    result = []
    for t in lib.tracks.values():
        finished = sum(progress.scenario_done(ref) for ref in t.scenario_ids)
        result.append(TrackProgress(t.id, finished, len(t.items), None))
    return result


def test_tracks_are_offered_in_the_learning_path_order() -> None:
    assert [t.id for t in ordered_tracks(library())] == [
        "baseline",
        "new-hire",
        "follow-up",
        "agent-operators",
    ]


def test_baseline_comes_first_then_onboarding() -> None:
    lib = library()
    first = next_item(lib, done(), states(lib, done()))
    assert first is not None and (first.track_id, first.ref) == ("baseline", "a")
    after_baseline = done("a")
    second = next_item(lib, after_baseline, states(lib, after_baseline))
    assert second is not None and second.track_id == "new-hire"


def test_follow_up_waits_for_onboarding() -> None:
    lib = library()
    progress = done("a", "d")
    item = next_item(lib, progress, states(lib, progress))
    assert item is not None and item.track_id == "new-hire"
    progress = done("a", "b")
    item = next_item(lib, progress, states(lib, progress))
    assert item is not None and item.track_id == "follow-up"
