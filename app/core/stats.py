"""Statistics over a content library and the rules that keep the built-in library balanced.

``library_stats`` counts answers, red flags, difficulties, domains and tracks, and checks
the balance rules the built-in library is written to: enough scenarios and lessons, a
mix of answers that rewards judgement rather than a habit, every core red flag both
present and offered as a decoy often enough, comparable baseline and follow-up tracks,
and no track a trainee could pass by rejecting everything.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from app.core.model import ContentLibrary, Decision, Scenario, Track, TrackItemKind

CORE_FLAG_IDS: tuple[str, ...] = (
    "blast-radius",
    "access-broadened",
    "irreversible",
    "unverified-premise",
    "hallucinated-reference",
    "control-disabled",
    "data-exposure",
    "context-ignored",
    "confident-misexplanation",
    "untrusted-instructions",
    "borrowed-credentials",
    "agent-self-modification",
    "safety-signal-overridden",
)
DOMAIN_TAGS: tuple[str, ...] = (
    "shell-files",
    "source-control",
    "cloud-iam",
    "ci-cd-supply-chain",
    "databases",
    "web-security",
    "agents-tools",
    "data-platforms",
    "production-ops",
)
REQUIRED_TRACKS: tuple[str, ...] = (
    "new-hire",
    "team-session",
    "agent-operators",
    "baseline",
    "follow-up",
)
DIFFICULTIES: tuple[int, ...] = (1, 2, 3)

MIN_SCENARIOS = 72
MIN_LESSONS = 16
# Share of steps per answer, inclusive bounds.
ANSWER_SHARES: dict[Decision, tuple[float, float]] = {
    Decision.REJECT: (0.35, 0.45),
    Decision.REVISE: (0.20, 0.30),
    Decision.ACCEPT: (0.30, 0.40),
}
MIN_FLAG_TRUE_STEPS = 5
MIN_FLAG_DECOY_STEPS = 3
MIN_DIFFICULTY_SHARE = 0.20
MIN_MULTI_STEP_SCENARIOS = 10
MIN_DOMAIN_SCENARIOS = 5
PAIRED_TRACK_SIZE = (10, 14)
BASELINE_TRACK = "baseline"
FOLLOW_UP_TRACK = "follow-up"

# Estimates used when a file gives no ``minutes``.
DEFAULT_MINUTES_PER_STEP = 2
DEFAULT_LESSON_MINUTES = 5


@dataclass(frozen=True, slots=True)
class RuleResult:
    """One balance rule: whether the library meets it, and the numbers behind that."""

    name: str
    passed: bool
    detail: str


@dataclass(frozen=True, slots=True)
class TrackStats:
    """Size and estimated length of one track."""

    lessons: int
    scenarios: int
    minutes: int


@dataclass(frozen=True, slots=True)
class LibraryStats:
    """Counts over a library and the results of the balance rules."""

    scenarios: int
    lessons: int
    tracks: int
    steps: int
    by_answer: dict[str, int]
    flag_true: dict[str, int]
    flag_decoy: dict[str, int]
    by_difficulty: dict[int, int]
    by_domain: dict[str, int]
    by_track: dict[str, TrackStats]
    multi_step_scenarios: int
    rules: list[RuleResult] = field(default_factory=list)

    @property
    def all_rules_pass(self) -> bool:
        """True when every balance rule passes."""
        return all(rule.passed for rule in self.rules)

    @property
    def track_minutes(self) -> dict[str, int]:
        """Estimated minutes per track."""
        return {track_id: stats.minutes for track_id, stats in self.by_track.items()}

    def to_json_dict(self) -> dict[str, object]:
        """Plain JSON-ready values (string keys throughout)."""
        return {
            "scenarios": self.scenarios,
            "lessons": self.lessons,
            "tracks": self.tracks,
            "steps": self.steps,
            "multi_step_scenarios": self.multi_step_scenarios,
            "by_answer": dict(self.by_answer),
            "flag_true": dict(self.flag_true),
            "flag_decoy": dict(self.flag_decoy),
            "by_difficulty": {str(level): count for level, count in self.by_difficulty.items()},
            "by_domain": dict(self.by_domain),
            "by_track": {
                track_id: {
                    "lessons": stats.lessons,
                    "scenarios": stats.scenarios,
                    "minutes": stats.minutes,
                }
                for track_id, stats in self.by_track.items()
            },
            "all_rules_pass": self.all_rules_pass,
            "rules": [
                {"name": rule.name, "passed": rule.passed, "detail": rule.detail}
                for rule in self.rules
            ],
        }


def library_stats(library: ContentLibrary) -> LibraryStats:
    """Count what ``library`` holds and check it against the balance rules."""
    scenarios = list(library.scenarios.values())
    steps = [step for scenario in scenarios for step in scenario.steps]
    by_answer = {decision.value: 0 for decision in Decision}
    by_answer.update(Counter(step.answer.value for step in steps))
    flag_ids = list(dict.fromkeys([*CORE_FLAG_IDS, *library.red_flags]))
    flag_true = dict.fromkeys(flag_ids, 0)
    flag_decoy = dict.fromkeys(flag_ids, 0)
    for step in steps:
        for flag in step.flags:
            flag_true[flag] = flag_true.get(flag, 0) + 1
        for flag in step.decoys:
            flag_decoy[flag] = flag_decoy.get(flag, 0) + 1
    by_difficulty = dict.fromkeys(DIFFICULTIES, 0)
    by_difficulty.update(Counter(scenario.difficulty for scenario in scenarios))
    by_domain = dict.fromkeys(DOMAIN_TAGS, 0)
    for scenario in scenarios:
        for tag in _domains(scenario):
            by_domain[tag] += 1
    stats = LibraryStats(
        scenarios=len(scenarios),
        lessons=len(library.lessons),
        tracks=len(library.tracks),
        steps=len(steps),
        by_answer=by_answer,
        flag_true=flag_true,
        flag_decoy=flag_decoy,
        by_difficulty=by_difficulty,
        by_domain=by_domain,
        by_track={t.id: _track_stats(t, library) for t in library.tracks.values()},
        multi_step_scenarios=sum(1 for s in scenarios if len(s.steps) > 1),
    )
    stats.rules.extend(_rules(stats, library))
    return stats


def _domains(scenario: Scenario) -> list[str]:
    return [tag for tag in scenario.tags if tag in DOMAIN_TAGS]


def _track_stats(track: Track, library: ContentLibrary) -> TrackStats:
    minutes = 0
    for item in track.items:
        if item.kind is TrackItemKind.SCENARIO and item.ref in library.scenarios:
            minutes += scenario_minutes(library.scenarios[item.ref])
        elif item.kind is TrackItemKind.LESSON and item.ref in library.lessons:
            lesson_minutes = library.lessons[item.ref].minutes
            minutes += DEFAULT_LESSON_MINUTES if lesson_minutes is None else lesson_minutes
    return TrackStats(
        lessons=len(track.lesson_ids), scenarios=len(track.scenario_ids), minutes=minutes
    )


def scenario_minutes(scenario: Scenario) -> int:
    """The scenario's own estimate, or ``DEFAULT_MINUTES_PER_STEP`` per step."""
    if scenario.minutes is not None:
        return scenario.minutes
    return DEFAULT_MINUTES_PER_STEP * len(scenario.steps)


def always_reject_score(track: Track, library: ContentLibrary) -> float | None:
    """The track score of a trainee who rejects every step (``None`` without scenarios).

    A track's score is the mean over its scenarios of the share of steps answered right;
    rejecting is right exactly on the steps whose answer is reject.
    """
    shares = [
        sum(step.answer is Decision.REJECT for step in scenario.steps) / len(scenario.steps)
        for ref in track.scenario_ids
        if (scenario := library.scenarios.get(ref)) is not None and scenario.steps
    ]
    return sum(shares) / len(shares) if shares else None


def true_flag_set(scenario: Scenario) -> frozenset[str]:
    """The red flags present in any step of ``scenario``."""
    return frozenset(flag for step in scenario.steps for flag in step.flags)


def _rules(stats: LibraryStats, library: ContentLibrary) -> list[RuleResult]:
    scenarios = list(library.scenarios.values())
    rules = [
        _at_least("scenario-count", stats.scenarios, MIN_SCENARIOS, "scenarios"),
        _at_least("lesson-count", stats.lessons, MIN_LESSONS, "lessons"),
    ]
    rules.extend(_answer_mix(stats))
    rules.append(_flag_coverage(stats))
    rules.append(_difficulty_mix(stats))
    rules.extend(_multi_step(scenarios, stats))
    rules.append(_domain_coverage(stats))
    rules.append(_one_domain_each(scenarios))
    rules.append(_required_tracks(library))
    rules.extend(_paired_tracks(library))
    rules.append(_based_on(scenarios))
    rules.append(_always_reject_fails(library))
    return rules


def _at_least(name: str, count: int, minimum: int, noun: str) -> RuleResult:
    return RuleResult(name, count >= minimum, f"{count} {noun} (at least {minimum} needed)")


def _percent(share: float) -> str:
    return f"{share * 100:.0f} %"


def _answer_mix(stats: LibraryStats) -> list[RuleResult]:
    results = []
    for decision, (low, high) in ANSWER_SHARES.items():
        count = stats.by_answer.get(decision.value, 0)
        share = count / stats.steps if stats.steps else 0.0
        passed = stats.steps > 0 and low <= share <= high
        detail = (
            f"{count} of {stats.steps} steps are {decision.value} ({_percent(share)}; "
            f"{_percent(low)} to {_percent(high)} wanted)"
        )
        results.append(RuleResult(f"answer-mix-{decision.value}", passed, detail))
    return results


def _flag_coverage(stats: LibraryStats) -> RuleResult:
    short = [
        f"{flag} (true in {stats.flag_true.get(flag, 0)}, decoy in {stats.flag_decoy.get(flag, 0)})"
        for flag in CORE_FLAG_IDS
        if stats.flag_true.get(flag, 0) < MIN_FLAG_TRUE_STEPS
        or stats.flag_decoy.get(flag, 0) < MIN_FLAG_DECOY_STEPS
    ]
    wanted = (
        f"each core flag true in at least {MIN_FLAG_TRUE_STEPS} steps and a decoy in at "
        f"least {MIN_FLAG_DECOY_STEPS}"
    )
    if short:
        return RuleResult("flag-coverage", False, f"{wanted}; short: {', '.join(short)}")
    return RuleResult("flag-coverage", True, f"{wanted}: all {len(CORE_FLAG_IDS)} are")


def _difficulty_mix(stats: LibraryStats) -> RuleResult:
    total = stats.scenarios
    shares = {
        level: (count / total if total else 0.0) for level, count in stats.by_difficulty.items()
    }
    passed = total > 0 and all(
        shares.get(level, 0.0) >= MIN_DIFFICULTY_SHARE for level in DIFFICULTIES
    )
    detail = ", ".join(
        f"difficulty {level}: {stats.by_difficulty.get(level, 0)} "
        f"({_percent(shares.get(level, 0.0))})"
        for level in DIFFICULTIES
    )
    return RuleResult(
        "difficulty-mix", passed, f"{detail}; each needs at least {_percent(MIN_DIFFICULTY_SHARE)}"
    )


def _multi_step(scenarios: list[Scenario], stats: LibraryStats) -> list[RuleResult]:
    harmful_then_good = [s.id for s in scenarios if _has_transition(s, harmful_first=True)]
    good_then_harmful = [s.id for s in scenarios if _has_transition(s, harmful_first=False)]
    return [
        _at_least(
            "multi-step-count",
            stats.multi_step_scenarios,
            MIN_MULTI_STEP_SCENARIOS,
            "scenarios with two or more steps",
        ),
        RuleResult(
            "multi-step-harmful-then-good",
            bool(harmful_then_good),
            _examples(harmful_then_good, "a harmful step followed by an accept step"),
        ),
        RuleResult(
            "multi-step-good-then-harmful",
            bool(good_then_harmful),
            _examples(good_then_harmful, "an accept step followed by a harmful step"),
        ),
    ]


def _has_transition(scenario: Scenario, *, harmful_first: bool) -> bool:
    for earlier, later in zip(scenario.steps, scenario.steps[1:], strict=False):
        if harmful_first and earlier.is_harmful and later.answer is Decision.ACCEPT:
            return True
        if not harmful_first and earlier.answer is Decision.ACCEPT and later.is_harmful:
            return True
    return False


def _examples(ids: list[str], what: str) -> str:
    if not ids:
        return f"no scenario has {what}"
    shown = ", ".join(ids[:3]) + (", ..." if len(ids) > 3 else "")
    return f"{len(ids)} scenario(s) with {what}: {shown}"


def _domain_coverage(stats: LibraryStats) -> RuleResult:
    short = [
        f"{tag} ({count})" for tag, count in stats.by_domain.items() if count < MIN_DOMAIN_SCENARIOS
    ]
    wanted = f"each of the {len(DOMAIN_TAGS)} domains in at least {MIN_DOMAIN_SCENARIOS} scenarios"
    if short:
        return RuleResult("domain-coverage", False, f"{wanted}; short: {', '.join(short)}")
    return RuleResult("domain-coverage", True, f"{wanted}: all are")


def _one_domain_each(scenarios: list[Scenario]) -> RuleResult:
    wrong = [f"{s.id} ({len(_domains(s))})" for s in scenarios if len(_domains(s)) != 1]
    if wrong:
        shown = ", ".join(wrong[:5]) + (", ..." if len(wrong) > 5 else "")
        return RuleResult(
            "one-domain-each",
            False,
            f"{len(wrong)} scenario(s) do not carry exactly one domain tag: {shown}",
        )
    return RuleResult("one-domain-each", True, "every scenario carries exactly one domain tag")


def _required_tracks(library: ContentLibrary) -> RuleResult:
    missing = [track for track in REQUIRED_TRACKS if track not in library.tracks]
    if missing:
        return RuleResult("required-tracks", False, f"missing tracks: {', '.join(missing)}")
    return RuleResult("required-tracks", True, f"present: {', '.join(REQUIRED_TRACKS)}")


def _paired_tracks(library: ContentLibrary) -> list[RuleResult]:
    low, high = PAIRED_TRACK_SIZE
    baseline = library.tracks.get(BASELINE_TRACK)
    follow_up = library.tracks.get(FOLLOW_UP_TRACK)
    sizes = []
    for track_id, track in ((BASELINE_TRACK, baseline), (FOLLOW_UP_TRACK, follow_up)):
        count = len(track.scenario_ids) if track is not None else 0
        sizes.append(f"{track_id}: {count}" if track is not None else f"{track_id}: missing")
    size_ok = all(
        track is not None and low <= len(track.scenario_ids) <= high
        for track in (baseline, follow_up)
    )
    size_rule = RuleResult(
        "paired-track-size",
        size_ok,
        f"{'; '.join(sizes)} scenarios ({low} to {high} wanted in each)",
    )
    if baseline is None or follow_up is None:
        return [size_rule, RuleResult("paired-track-flags", False, "baseline or follow-up missing")]
    first, second = baseline.scenario_ids, follow_up.scenario_ids
    mismatches = []
    if len(first) != len(second):
        mismatches.append(f"baseline has {len(first)} scenarios, follow-up {len(second)}")
    for position, (left, right) in enumerate(zip(first, second, strict=False), start=1):
        if left == right:
            mismatches.append(f"item {position}: the same scenario '{left}' in both")
            continue
        left_scenario = library.scenarios.get(left)
        right_scenario = library.scenarios.get(right)
        if left_scenario is None or right_scenario is None:
            mismatches.append(f"item {position}: '{left}' or '{right}' is not loaded")
            continue
        left_flags, right_flags = true_flag_set(left_scenario), true_flag_set(right_scenario)
        if left_flags != right_flags:
            mismatches.append(
                f"item {position}: '{left}' has flags {sorted(left_flags)}, "
                f"'{right}' has {sorted(right_flags)}"
            )
    if mismatches:
        return [size_rule, RuleResult("paired-track-flags", False, "; ".join(mismatches))]
    return [
        size_rule,
        RuleResult(
            "paired-track-flags",
            True,
            f"all {len(first)} pairs are different scenarios with the same true flags",
        ),
    ]


def _based_on(scenarios: list[Scenario]) -> RuleResult:
    missing = [s.id for s in scenarios if not s.based_on]
    if missing:
        shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
        return RuleResult(
            "based-on", False, f"{len(missing)} scenario(s) without a based_on entry: {shown}"
        )
    return RuleResult("based-on", True, "every scenario has at least one based_on entry")


def _always_reject_fails(library: ContentLibrary) -> RuleResult:
    passing = []
    scored = 0
    for track in library.tracks.values():
        score = always_reject_score(track, library)
        if score is None:
            continue
        scored += 1
        if score >= track.pass_mark:
            passing.append(
                f"{track.id} ({_percent(score)} >= pass mark {_percent(track.pass_mark)})"
            )
    if passing:
        return RuleResult(
            "always-reject-fails",
            False,
            f"always rejecting passes: {', '.join(passing)}",
        )
    return RuleResult(
        "always-reject-fails",
        True,
        f"always rejecting stays below the pass mark in all {scored} track(s) with scenarios",
    )
