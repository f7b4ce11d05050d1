"""Library statistics and the balance rules, on small handcrafted libraries."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from app.core.model import (
    ContentLibrary,
    Decision,
    Lesson,
    RedFlag,
    Scenario,
    SourceRef,
    Step,
    Track,
    TrackItem,
    TrackItemKind,
)
from app.core.stats import (
    CORE_FLAG_IDS,
    DEFAULT_LESSON_MINUTES,
    DEFAULT_MINUTES_PER_STEP,
    DOMAIN_TAGS,
    LibraryStats,
    always_reject_score,
    library_stats,
)

ACCEPT, REJECT, REVISE = Decision.ACCEPT, Decision.REJECT, Decision.REVISE


def step(
    answer: Decision,
    flags: tuple[str, ...] = ("blast-radius",),
    decoys: tuple[str, ...] = (),
    step_id: str = "s",
) -> Step:
    return Step(
        id=step_id,
        answer=answer,
        suggestion="s",
        if_accepted="a",
        if_rejected="r",
        flags=() if answer is ACCEPT else flags,
        decoys=decoys,
    )


def scenario(
    identifier: str,
    *steps: Step,
    difficulty: int = 1,
    tags: tuple[str, ...] = ("databases",),
    minutes: int | None = None,
    based_on: bool = True,
) -> Scenario:
    numbered = tuple(replace(s, id=f"step-{i}") for i, s in enumerate(steps))
    return Scenario(
        id=identifier,
        title=identifier,
        summary="s",
        difficulty=difficulty,
        situation="s",
        debrief="d",
        steps=numbered,
        pack_id="core",
        path=Path(f"/pack/scenarios/{identifier}.md"),
        minutes=minutes,
        tags=tags,
        based_on=(SourceRef("A report"),) if based_on else (),
    )


def track(identifier: str, *items: tuple[str, str], pass_mark: float = 0.8) -> Track:
    return Track(
        id=identifier,
        title=identifier,
        summary="s",
        items=tuple(TrackItem(TrackItemKind(kind), ref) for kind, ref in items),
        pack_id="core",
        path=Path(f"/pack/lessons/tracks/{identifier}.yaml"),
        pass_mark=pass_mark,
    )


def lesson(identifier: str, minutes: int | None = None) -> Lesson:
    return Lesson(
        id=identifier,
        title=identifier,
        summary="s",
        body="b",
        pack_id="core",
        path=Path(f"/pack/lessons/{identifier}.md"),
        minutes=minutes,
    )


def library(
    *scenarios: Scenario, tracks: tuple[Track, ...] = (), lessons: int = 0
) -> ContentLibrary:
    flags = {flag: RedFlag(flag, flag.title(), "?", "", "core") for flag in CORE_FLAG_IDS}
    return ContentLibrary(
        red_flags=flags,
        scenarios={s.id: s for s in scenarios},
        lessons={f"lesson-{i}": lesson(f"lesson-{i}") for i in range(lessons)},
        tracks={t.id: t for t in tracks},
    )


def rule(stats: LibraryStats, name: str) -> tuple[bool, str]:
    found = [r for r in stats.rules if r.name == name]
    assert len(found) == 1, [r.name for r in stats.rules]
    return found[0].passed, found[0].detail


# --- counts --------------------------------------------------------------------------


def test_counts_by_answer_flag_difficulty_and_domain() -> None:
    first = scenario("a", step(REJECT, ("blast-radius", "irreversible"), ("data-exposure",)))
    second = scenario(
        "b",
        step(ACCEPT, decoys=("blast-radius",)),
        step(REVISE),
        difficulty=3,
        tags=("cloud-iam", "extra-word"),
    )
    lib = library(first, second)
    stats = library_stats(lib)
    assert stats.scenarios == 2
    assert stats.steps == 3
    assert stats.by_answer == {"accept": 1, "revise": 1, "reject": 1}
    assert stats.flag_true["blast-radius"] == 2
    assert stats.flag_true["irreversible"] == 1
    assert stats.flag_decoy["blast-radius"] == 1
    assert stats.flag_decoy["data-exposure"] == 1
    assert stats.flag_true["untrusted-instructions"] == 0
    assert stats.by_difficulty == {1: 1, 2: 0, 3: 1}
    assert stats.by_domain["databases"] == 1
    assert stats.by_domain["cloud-iam"] == 1
    assert set(stats.by_domain) == set(DOMAIN_TAGS)
    assert stats.multi_step_scenarios == 1


def test_track_sizes_and_minutes_with_defaults() -> None:
    lib = library(
        scenario("timed", step(REJECT), minutes=7),
        scenario("untimed", step(REJECT), step(ACCEPT)),
        tracks=(
            track("t", ("lesson", "lesson-0"), ("scenario", "timed"), ("scenario", "untimed")),
        ),
        lessons=1,
    )
    lib.lessons["lesson-0"] = lesson("lesson-0")
    stats = library_stats(lib)
    assert stats.by_track["t"].lessons == 1
    assert stats.by_track["t"].scenarios == 2
    assert stats.track_minutes == {"t": DEFAULT_LESSON_MINUTES + 7 + 2 * DEFAULT_MINUTES_PER_STEP}


def test_lesson_minutes_are_used_when_given() -> None:
    lib = library(tracks=(track("t", ("lesson", "quick")),))
    lib.lessons["quick"] = lesson("quick", minutes=2)
    assert library_stats(lib).track_minutes == {"t": 2}


def test_json_dict_is_serialisable_with_string_keys() -> None:
    stats = library_stats(library(scenario("a", step(REJECT))))
    data = stats.to_json_dict()
    decoded = json.loads(json.dumps(data))
    assert decoded["by_difficulty"] == {"1": 1, "2": 0, "3": 0}
    assert decoded["by_answer"]["reject"] == 1
    assert decoded["all_rules_pass"] is False
    assert {r["name"] for r in decoded["rules"]} >= {"scenario-count", "always-reject-fails"}


# --- rules ---------------------------------------------------------------------------


def test_scenario_and_lesson_counts() -> None:
    small = library_stats(library(scenario("a", step(REJECT)), lessons=16))
    assert rule(small, "scenario-count") == (False, "1 scenarios (at least 72 needed)")
    assert rule(small, "lesson-count")[0] is True
    big = library_stats(library(*(scenario(f"s{i}", step(REJECT)) for i in range(72))))
    assert rule(big, "scenario-count")[0] is True
    assert rule(big, "lesson-count")[0] is False


def test_answer_mix_bounds_are_inclusive() -> None:
    # 20 steps: 7 reject (35 %), 6 revise (30 %), 7 accept (35 %).
    answers = [REJECT] * 7 + [REVISE] * 6 + [ACCEPT] * 7
    stats = library_stats(library(*(scenario(f"s{i}", step(a)) for i, a in enumerate(answers))))
    assert rule(stats, "answer-mix-reject")[0] is True
    assert rule(stats, "answer-mix-revise")[0] is True
    assert rule(stats, "answer-mix-accept")[0] is True


def test_answer_mix_outside_the_band_fails() -> None:
    answers = [REJECT] * 10 + [ACCEPT] * 10
    stats = library_stats(library(*(scenario(f"s{i}", step(a)) for i, a in enumerate(answers))))
    passed, detail = rule(stats, "answer-mix-reject")
    assert passed is False
    assert detail.startswith("10 of 20 steps are reject (50 %")
    assert rule(stats, "answer-mix-revise")[0] is False


def test_flag_coverage_needs_true_and_decoy_counts() -> None:
    steps = []
    for index, flag in enumerate(CORE_FLAG_IDS):
        decoy = CORE_FLAG_IDS[(index + 1) % len(CORE_FLAG_IDS)]
        steps += [step(REJECT, (flag,), (decoy,)) for _ in range(5)]
    stats = library_stats(library(*(scenario(f"s{i}", s) for i, s in enumerate(steps))))
    assert rule(stats, "flag-coverage")[0] is True

    short = library_stats(library(*(scenario(f"s{i}", s) for i, s in enumerate(steps[:-5]))))
    passed, detail = rule(short, "flag-coverage")
    assert passed is False
    assert "safety-signal-overridden (true in 0, decoy in 5)" in detail
    assert "blast-radius (true in 5, decoy in 0)" in detail


def test_each_difficulty_needs_a_fifth() -> None:
    levels = [1] * 4 + [2] * 3 + [3] * 3
    even = library_stats(
        library(*(scenario(f"s{i}", step(REJECT), difficulty=d) for i, d in enumerate(levels)))
    )
    assert rule(even, "difficulty-mix")[0] is True
    levels = [1] * 9 + [2] * 1
    skewed = library_stats(
        library(*(scenario(f"s{i}", step(REJECT), difficulty=d) for i, d in enumerate(levels)))
    )
    passed, detail = rule(skewed, "difficulty-mix")
    assert passed is False
    assert "difficulty 3: 0 (0 %)" in detail


def test_multi_step_rules() -> None:
    many = [scenario(f"m{i}", step(REJECT), step(REJECT)) for i in range(10)]
    harmful_then_good = scenario("hg", step(REJECT), step(ACCEPT))
    good_then_harmful = scenario("gh", step(ACCEPT), step(REVISE))
    stats = library_stats(library(*many, harmful_then_good, good_then_harmful))
    assert rule(stats, "multi-step-count")[0] is True
    assert rule(stats, "multi-step-harmful-then-good") == (
        True,
        "1 scenario(s) with a harmful step followed by an accept step: hg",
    )
    assert rule(stats, "multi-step-good-then-harmful")[0] is True

    only_harmful = library_stats(library(*many))
    assert rule(only_harmful, "multi-step-harmful-then-good")[0] is False
    assert rule(only_harmful, "multi-step-good-then-harmful")[0] is False
    assert rule(library_stats(library(*many[:9])), "multi-step-count")[0] is False


def test_domain_rules() -> None:
    scenarios = [
        scenario(f"{tag}-{i}", step(REJECT), tags=(tag,)) for tag in DOMAIN_TAGS for i in range(5)
    ]
    stats = library_stats(library(*scenarios))
    assert rule(stats, "domain-coverage")[0] is True
    assert rule(stats, "one-domain-each")[0] is True

    fewer = library_stats(library(*scenarios[1:]))
    passed, detail = rule(fewer, "domain-coverage")
    assert passed is False
    assert f"{DOMAIN_TAGS[0]} (4)" in detail

    none = scenario("none", step(REJECT), tags=("free-word",))
    two = scenario("two", step(REJECT), tags=("databases", "cloud-iam"))
    odd = library_stats(library(none, two))
    passed, detail = rule(odd, "one-domain-each")
    assert passed is False
    assert "none (0)" in detail and "two (2)" in detail


def paired_library(follow_up_flags: str = "irreversible") -> ContentLibrary:
    baseline = [scenario(f"b{i}", step(REJECT, ("blast-radius",)), step(ACCEPT)) for i in range(10)]
    follow = [scenario(f"f{i}", step(REVISE, ("blast-radius",))) for i in range(9)]
    follow.append(scenario("f9", step(REJECT, (follow_up_flags,))))
    tracks = (
        track("baseline", *(("scenario", s.id) for s in baseline)),
        track("follow-up", *(("scenario", s.id) for s in follow)),
        track("new-hire", ("scenario", "b0")),
        track("team-session", ("scenario", "b1")),
        track("agent-operators", ("scenario", "b2")),
    )
    return library(*baseline, *follow, tracks=tracks)


def test_required_tracks() -> None:
    assert rule(library_stats(paired_library()), "required-tracks")[0] is True
    passed, detail = rule(library_stats(library()), "required-tracks")
    assert passed is False
    assert detail == "missing tracks: new-hire, team-session, agent-operators, baseline, follow-up"


def test_baseline_and_follow_up_pairs_compare_true_flags() -> None:
    stats = library_stats(paired_library())
    assert rule(stats, "paired-track-size")[0] is True
    passed, detail = rule(stats, "paired-track-flags")
    assert passed is False
    assert detail == "item 10: 'b9' has flags ['blast-radius'], 'f9' has ['irreversible']"

    matching = library_stats(paired_library(follow_up_flags="blast-radius"))
    assert rule(matching, "paired-track-flags")[0] is True


def test_paired_tracks_must_not_reuse_a_scenario() -> None:
    lib = paired_library(follow_up_flags="blast-radius")
    follow = lib.tracks["follow-up"]
    lib.tracks["follow-up"] = track(
        "follow-up", ("scenario", "b0"), *((i.kind.value, i.ref) for i in follow.items[1:])
    )
    passed, detail = rule(library_stats(lib), "paired-track-flags")
    assert passed is False
    assert "item 1: the same scenario 'b0' in both" in detail


def test_paired_track_size_bounds() -> None:
    lib = paired_library()
    lib.tracks["baseline"] = track("baseline", *(("scenario", f"b{i}") for i in range(9)))
    passed, detail = rule(library_stats(lib), "paired-track-size")
    assert passed is False
    assert detail.startswith("baseline: 9; follow-up: 10 scenarios")


def test_every_scenario_needs_based_on() -> None:
    stats = library_stats(
        library(scenario("a", step(REJECT)), scenario("b", step(REJECT), based_on=False))
    )
    assert rule(stats, "based-on") == (False, "1 scenario(s) without a based_on entry: b")


def test_always_reject_score_is_the_mean_share_of_reject_steps() -> None:
    lib = library(
        scenario("all-reject", step(REJECT), step(REJECT)),
        scenario("half", step(REJECT), step(ACCEPT)),
        scenario("none", step(REVISE)),
        tracks=(
            track("t", ("scenario", "all-reject"), ("scenario", "half"), ("scenario", "none")),
        ),
    )
    assert always_reject_score(lib.tracks["t"], lib) == pytest.approx((1 + 0.5 + 0) / 3)
    assert always_reject_score(track("empty", ("lesson", "x")), lib) is None


def test_always_reject_must_stay_below_every_pass_mark() -> None:
    scenarios = (scenario("r", step(REJECT)), scenario("a", step(ACCEPT)))
    failing = library(
        *scenarios, tracks=(track("t", ("scenario", "r"), ("scenario", "a"), pass_mark=0.5),)
    )
    passed, detail = rule(library_stats(failing), "always-reject-fails")
    assert passed is False
    assert detail == "always rejecting passes: t (50 % >= pass mark 50 %)"
    fine = library(
        *scenarios, tracks=(track("t", ("scenario", "r"), ("scenario", "a"), pass_mark=0.6),)
    )
    assert rule(library_stats(fine), "always-reject-fails")[0] is True


def test_a_balanced_library_passes_every_rule() -> None:
    stats = library_stats(balanced_library())
    failed = [f"{r.name}: {r.detail}" for r in stats.rules if not r.passed]
    assert failed == []
    assert stats.all_rules_pass


def balanced_library() -> ContentLibrary:
    """72 scenarios and 16 lessons that meet every rule, built deterministically."""
    flags = list(CORE_FLAG_IDS)
    scenarios: list[Scenario] = []
    # Ten baseline and ten follow-up scenarios, pairwise with the same true flags, each a
    # harmful step followed by a good one: 20 reject and 20 accept steps.
    for index in range(10):
        for prefix in ("base", "follow"):
            scenarios.append(
                scenario(
                    f"{prefix}-{index}",
                    step(REJECT, (flags[index],), (flags[(index + 5) % 13],)),
                    step(ACCEPT),
                    difficulty=1 + index % 3,
                    tags=(DOMAIN_TAGS[index % 9],),
                )
            )
    scenarios.append(
        scenario("good-first", step(ACCEPT), step(REVISE, ("irreversible",)), difficulty=2)
    )
    # 51 single steps bring the 93 steps to 37 reject, 23 revise and 33 accept.
    answers = [REJECT] * 17 + [REVISE] * 22 + [ACCEPT] * 12
    for index, answer in enumerate(answers):
        true_flags = (flags[index % 13], flags[(index + 1) % 13])
        scenarios.append(
            scenario(
                f"single-{index}",
                step(answer, true_flags, (flags[(index + 5) % 13],)),
                difficulty=1 + index % 3,
                tags=(DOMAIN_TAGS[index % 9],),
            )
        )
    tracks = (
        track("baseline", *(("scenario", f"base-{i}") for i in range(10))),
        track("follow-up", *(("scenario", f"follow-{i}") for i in range(10))),
        track("new-hire", ("scenario", "base-0"), ("scenario", "base-1")),
        track("team-session", ("scenario", "good-first")),
        track("agent-operators", ("scenario", "base-2"), ("scenario", "good-first")),
    )
    return library(*scenarios, tracks=tracks, lessons=16)
