"""Each validation rule of the content format, shown with a small broken file.

The default scenario written by ``scenario_text`` has these file lines: 2 id, 3 title,
4 summary, 5 difficulty, 7 lessons, 13 the step id, 14 answer, 15 flags, 16 decoys,
17 the closing '---', 20 '## Situation', 24 '## Suggestion', 28 '## If accepted',
32 '## If rejected' and 36 '## Debrief'.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.core.model import ContentLibrary, ContentProblem

# The fixtures come from conftest.py: make_pack builds a PackBuilder, samples is Samples.
Make = Callable[..., Any]
Load = Callable[..., ContentLibrary]


def problems_of(
    make_pack: Make, load: Load, relative: str, content: str | bytes
) -> tuple[list[ContentProblem], ContentLibrary]:
    pack = make_pack()
    path = pack.write(relative, content)
    library = load()
    return [p for p in library.problems if p.path == path], library


def only_problem(
    make_pack: Make, load: Load, relative: str, content: str | bytes
) -> ContentProblem:
    found, library = problems_of(make_pack, load, relative, content)
    assert len(found) == 1, [str(p) for p in library.problems]
    assert "sample-scenario" in library.scenarios, "the valid files still load"
    return found[0]


def scenario_problem(
    make_pack: Make, load: Load, text: str, name: str = "broken"
) -> ContentProblem:
    return only_problem(make_pack, load, f"scenarios/{name}.md", text)


# --- front matter and YAML ----------------------------------------------------------


def test_unknown_top_level_key(make_pack: Make, load: Load, samples: Any) -> None:
    text = samples.scenario(front=samples.front_with("minutes: 3", "minuts: 3"))
    problem = scenario_problem(make_pack, load, text)
    assert problem.line == 6
    assert problem.message.startswith("unknown key 'minuts'; allowed keys: id, title, summary")


def test_unknown_step_key_names_the_step_and_the_allowed_keys(
    make_pack: Make, load: Load, samples: Any
) -> None:
    text = samples.scenario(front=samples.front_with("    decoys:", "    decoy:"))
    problem = scenario_problem(make_pack, load, text)
    assert problem.line == 16
    assert problem.message == (
        "unknown key 'decoy' in step 'grant'; "
        "allowed keys: id, answer, flags, decoys, revisions, checks"
    )
    assert str(problem).endswith("broken.md:16: " + problem.message)


def test_wrong_type_says_what_was_expected(make_pack: Make, load: Load, samples: Any) -> None:
    text = samples.scenario(front=samples.front_with("difficulty: 2", 'difficulty: "2"'))
    problem = scenario_problem(make_pack, load, text)
    assert problem.line == 5
    assert problem.message == "'difficulty' must be a whole number, not '2'"


def test_yaml_guess_of_a_date_is_explained(make_pack: Make, load: Load, samples: Any) -> None:
    text = samples.scenario(
        front=samples.front_with("title: A grant that is too wide", "title: 2024-05-01")
    )
    problem = scenario_problem(make_pack, load, text)
    assert problem.line == 3
    assert "YAML read 2024-05-01 as a date; put the value in quotes" in problem.message


def test_list_expected(make_pack: Make, load: Load, samples: Any) -> None:
    text = samples.scenario(
        front=samples.front_with("lessons: [least-privilege]", "lessons: least-privilege")
    )
    problem = scenario_problem(make_pack, load, text)
    assert problem.line == 7
    assert problem.message.startswith("'lessons' must be a list")


def test_missing_required_key(make_pack: Make, load: Load, samples: Any) -> None:
    text = samples.scenario(
        front=samples.front_with(
            "summary: A job cannot read a table and an assistant proposes a grant.\n", ""
        )
    )
    problem = scenario_problem(make_pack, load, text)
    assert problem.message == "missing required key 'summary'"
    assert problem.line == 2


def test_missing_front_matter(make_pack: Make, load: Load, samples: Any) -> None:
    problem = scenario_problem(make_pack, load, samples.body)
    assert problem.line == 1
    assert problem.message.startswith("missing front matter")


def test_unclosed_front_matter(make_pack: Make, load: Load, samples: Any) -> None:
    text = "---\n" + samples.front("broken") + samples.body
    problem = scenario_problem(make_pack, load, text)
    assert problem.line == 1
    assert "never closed" in problem.message


def test_empty_file(make_pack: Make, load: Load) -> None:
    problem = scenario_problem(make_pack, load, "")
    assert problem.line == 1
    assert problem.message.startswith("the file is empty")


def test_invalid_yaml_reports_the_yaml_line_in_the_file(
    make_pack: Make, load: Load, samples: Any
) -> None:
    text = samples.scenario(
        front=samples.front_with("tags: [data-platforms]", "tags: [data-platforms")
    )
    problem = scenario_problem(make_pack, load, text)
    assert problem.message.startswith("invalid YAML: ")
    assert problem.line in {8, 9}  # where the flow list is, or where libyaml noticed


def test_duplicate_key_is_refused(make_pack: Make, load: Load, samples: Any) -> None:
    text = samples.scenario(front=samples.front_with("minutes: 3\n", "minutes: 3\nminutes: 4\n"))
    problem = scenario_problem(make_pack, load, text)
    assert problem.line == 7
    assert "'minutes' appears twice" in problem.message


def test_front_matter_that_is_not_a_mapping(make_pack: Make, load: Load, samples: Any) -> None:
    problem = scenario_problem(make_pack, load, "---\n- a\n- b\n---\n" + samples.body)
    assert "must be key: value lines" in problem.message


# --- ids, lengths and ranges ----------------------------------------------------------


def test_file_name_must_match_the_id(make_pack: Make, load: Load, samples: Any) -> None:
    text = samples.scenario("other-name")
    problem = scenario_problem(make_pack, load, text, name="file-name")
    assert problem.line == 2
    assert problem.message.startswith("id 'other-name' does not match the file name 'file-name.md'")


@pytest.mark.parametrize(
    "identifier",
    ["Upper-Case", "under_score", "-leading", "trailing-", "double--hyphen", "a" * 65, "sp ace"],
)
def test_id_must_have_the_word_form(
    make_pack: Make, load: Load, identifier: str, samples: Any
) -> None:
    text = samples.scenario(front=samples.front_with("id: broken", f'id: "{identifier}"'))
    found, _ = problems_of(make_pack, load, "scenarios/broken.md", text)
    assert any("ids must be lowercase words joined by '-'" in p.message for p in found)
    assert all(p.line == 2 for p in found)


def test_id_of_64_characters_is_allowed(make_pack: Make, load: Load) -> None:
    identifier = "a" * 30 + "-" + "b" * 33
    pack = make_pack()
    pack.scenario(identifier)
    library = load()
    assert identifier in library.scenarios, [str(p) for p in library.problems]


def test_step_id_must_have_the_word_form(make_pack: Make, load: Load, samples: Any) -> None:
    text = samples.scenario(front=samples.front_with("  - id: grant", "  - id: Grant_It"))
    problem = scenario_problem(make_pack, load, text)
    assert problem.line == 13
    assert "ids must be lowercase words" in problem.message


def test_title_longer_than_100_characters(make_pack: Make, load: Load, samples: Any) -> None:
    title = "T" * 101
    text = samples.scenario(
        front=samples.front_with("title: A grant that is too wide", f"title: {title}")
    )
    problem = scenario_problem(make_pack, load, text)
    assert problem.line == 3
    assert problem.message == "'title' is 101 characters long; at most 100 are allowed"


def test_title_of_exactly_100_characters_loads(make_pack: Make, load: Load, samples: Any) -> None:
    pack = make_pack()
    pack.scenario(
        "long-title",
        samples.scenario(
            front=samples.front_with(
                "title: A grant that is too wide", "title: " + "T" * 100, "long-title"
            )
        ),
    )
    assert "long-title" in load().scenarios


def test_summary_longer_than_200_characters(make_pack: Make, load: Load, samples: Any) -> None:
    summary = "s" * 201
    old = "summary: A job cannot read a table and an assistant proposes a grant."
    problem = scenario_problem(
        make_pack, load, samples.scenario(front=samples.front_with(old, f"summary: {summary}"))
    )
    assert problem.line == 4
    assert problem.message == "'summary' is 201 characters long; at most 200 are allowed"


@pytest.mark.parametrize("difficulty", [0, 4, -1])
def test_difficulty_outside_1_to_3(
    make_pack: Make, load: Load, difficulty: int, samples: Any
) -> None:
    text = samples.scenario(front=samples.front_with("difficulty: 2", f"difficulty: {difficulty}"))
    problem = scenario_problem(make_pack, load, text)
    assert problem.line == 5
    assert problem.message.startswith("'difficulty' must be 1 (new hire), 2 (working engineer)")


def test_blank_title(make_pack: Make, load: Load, samples: Any) -> None:
    text = samples.scenario(
        front=samples.front_with("title: A grant that is too wide", 'title: "  "')
    )
    problem = scenario_problem(make_pack, load, text)
    assert problem.message == "'title' must not be empty"


def test_based_on_url_must_be_a_web_address(make_pack: Make, load: Load, samples: Any) -> None:
    text = samples.scenario(
        front=samples.front_with("url: https://example.org/report", "url: javascript:alert(1)")
    )
    problem = scenario_problem(make_pack, load, text)
    assert problem.line == 11
    assert "'url' in based_on entry 1 must be a web address" in problem.message


# --- steps ----------------------------------------------------------------------------


def test_scenario_with_no_steps(make_pack: Make, load: Load, samples: Any) -> None:
    text = samples.scenario(front=samples.front("broken").split("steps:")[0] + "steps: []\n")
    problem = scenario_problem(make_pack, load, text)
    assert problem.line == 12
    assert problem.message == "a scenario needs at least one step under 'steps'"


def test_duplicate_step_ids(make_pack: Make, load: Load, samples: Any) -> None:
    text = samples.scenario(
        front=samples.front("broken") + "  - id: grant\n    answer: accept\n",
        body=samples.body_with("## Suggestion", "## Suggestion (grant)"),
    )
    found, _ = problems_of(make_pack, load, "scenarios/broken.md", text)
    assert any(
        p.line == 17 and p.message.startswith("step id 'grant' is used twice") for p in found
    ), [str(p) for p in found]


def test_reject_step_without_flags(make_pack: Make, load: Load, samples: Any) -> None:
    text = samples.scenario(
        front=samples.front_with("flags: [access-broadened, blast-radius]", "flags: []")
    )
    problem = scenario_problem(make_pack, load, text)
    assert problem.line == 14
    assert "has answer 'reject' but no flags" in problem.message


def test_accept_step_without_flags_is_fine(make_pack: Make, load: Load, samples: Any) -> None:
    text = samples.scenario(
        "good-change",
        front=samples.front_with("answer: reject", "answer: accept", "good-change").replace(
            "flags: [access-broadened, blast-radius]", "flags: []"
        ),
    )
    make_pack().scenario("good-change", text)
    library = load()
    assert library.scenarios["good-change"].steps[0].flags == ()


def test_flag_listed_as_flag_and_decoy(make_pack: Make, load: Load, samples: Any) -> None:
    text = samples.scenario(
        front=samples.front_with(
            "decoys: [unverified-premise]", "decoys: [unverified-premise, blast-radius]"
        )
    )
    problem = scenario_problem(make_pack, load, text)
    assert problem.line == 16
    assert problem.message.startswith(
        "'blast-radius' is listed in both 'flags' and 'decoys' of step 'grant'"
    )


def test_flag_listed_twice(make_pack: Make, load: Load, samples: Any) -> None:
    text = samples.scenario(
        front=samples.front_with(
            "flags: [access-broadened, blast-radius]", "flags: [blast-radius, blast-radius]"
        )
    )
    problem = scenario_problem(make_pack, load, text)
    assert problem.message == "'blast-radius' is listed twice in 'flags' of step 'grant'"


REVISIONS_ONE_CORRECT = """\
    revisions:
      - text: Grant SELECT on the one table
        correct: true
      - text: Grant READ on the namespace
"""


def revise_scenario(samples: Any, revisions: str, answer: str = "revise") -> str:
    return samples.scenario(
        front=samples.front_with("answer: reject", f"answer: {answer}") + revisions,
        body=samples.body_with(
            "## Debrief", "## If revised\n\nOnly the job can read it.\n\n## Debrief"
        ),
    )


def test_revise_step_without_revisions(make_pack: Make, load: Load, samples: Any) -> None:
    problem = scenario_problem(make_pack, load, revise_scenario(samples, ""))
    assert problem.line == 14
    assert "has answer 'revise' but no 'revisions'" in problem.message


def test_revise_step_with_no_correct_revision(make_pack: Make, load: Load, samples: Any) -> None:
    revisions = REVISIONS_ONE_CORRECT.replace("        correct: true\n", "")
    problem = scenario_problem(make_pack, load, revise_scenario(samples, revisions))
    assert problem.line == 17
    assert (
        problem.message
        == "no revision of step 'grant' is marked 'correct: true'; exactly one must be"
    )


def test_more_than_one_correct_revision_in_any_step(
    make_pack: Make, load: Load, samples: Any
) -> None:
    revisions = REVISIONS_ONE_CORRECT + "        correct: true\n"
    problem = scenario_problem(
        make_pack, load, revise_scenario(samples, revisions, answer="reject")
    )
    assert problem.line == 21
    assert problem.message.startswith(
        "more than one revision of step 'grant' is marked 'correct: true' (revisions 1, 2)"
    )


def test_revise_step_with_one_correct_revision_loads(
    make_pack: Make, load: Load, samples: Any
) -> None:
    make_pack().scenario(
        "revised",
        revise_scenario(samples, REVISIONS_ONE_CORRECT).replace("id: broken", "id: revised"),
    )
    library = load()
    step = library.scenarios["revised"].steps[0]
    assert step.correct_revision_index == 0
    assert step.if_revised == "Only the job can read it."


def test_answer_must_be_one_of_three(make_pack: Make, load: Load, samples: Any) -> None:
    problem = scenario_problem(
        make_pack,
        load,
        samples.scenario(front=samples.front_with("answer: reject", "answer: approve")),
    )
    assert problem.line == 14
    assert problem.message == (
        "'answer' in step 'grant' must be one of accept, reject or revise, not 'approve'"
    )


# --- checks (content extension) -----------------------------------------------------

CHECKS = """\
    checks:
      - label: Run terraform plan and read it
        minutes: 2
        reveals: "`Plan: 0 to add, 0 to change, 143 to destroy.`"
"""


def test_checks_load_into_the_step(make_pack: Make, load: Load, samples: Any) -> None:
    text = samples.scenario(front=samples.front("checked") + CHECKS)
    make_pack().scenario("checked", text)
    check = load().scenarios["checked"].steps[0].checks[0]
    assert check.label == "Run terraform plan and read it"
    assert check.minutes == 2
    assert check.reveals == "`Plan: 0 to add, 0 to change, 143 to destroy.`"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("minutes: 2", "minutes: -1", "'minutes' in check 1 of step 'grant' must be at least 0"),
        (
            "minutes: 2",
            "minutes: two",
            "'minutes' in check 1 of step 'grant' must be a whole number",
        ),
        ("        minutes: 2\n", "", "missing required key 'minutes' in check 1 of step 'grant'"),
        ("label:", "lable:", "unknown key 'lable' in check 1 of step 'grant'; allowed keys: label"),
    ],
)
def test_broken_checks(
    make_pack: Make, load: Load, old: str, new: str, expected: str, samples: Any
) -> None:
    text = samples.scenario(front=samples.front("broken") + CHECKS.replace(old, new))
    found, _ = problems_of(make_pack, load, "scenarios/broken.md", text)
    assert any(p.message.startswith(expected) for p in found), [str(p) for p in found]


# --- references -----------------------------------------------------------------------


def test_unknown_flag_suggests_the_close_one(make_pack: Make, load: Load, samples: Any) -> None:
    text = samples.scenario(
        front=samples.front_with(
            "flags: [access-broadened, blast-radius]", "flags: [access-broadend]"
        )
    )
    problem = scenario_problem(make_pack, load, text)
    assert problem.line == 15
    assert problem.message == (
        "unknown red flag 'access-broadend' in 'flags' of step 'grant'; "
        "did you mean 'access-broadened'?"
    )


def test_unknown_decoy(make_pack: Make, load: Load, samples: Any) -> None:
    text = samples.scenario(
        front=samples.front_with("decoys: [unverified-premise]", "decoys: [zzz-nothing]")
    )
    problem = scenario_problem(make_pack, load, text)
    assert problem.line == 16
    assert problem.message.startswith("unknown red flag 'zzz-nothing' in 'decoys' of step 'grant'")


def test_unknown_lesson(make_pack: Make, load: Load, samples: Any) -> None:
    text = samples.scenario(
        front=samples.front_with("lessons: [least-privilege]", "lessons: [zzz-no-lesson]")
    )
    problem = scenario_problem(make_pack, load, text)
    assert problem.line == 7
    assert problem.message.startswith("unknown lesson 'zzz-no-lesson' in 'lessons'")


# --- sections -------------------------------------------------------------------------


def test_missing_section(make_pack: Make, load: Load, samples: Any) -> None:
    text = samples.scenario(
        body=samples.body_with(
            "## If rejected\n\nYou ask the data owner for a narrow grant.\n\n", ""
        )
    )
    problem = scenario_problem(make_pack, load, text)
    assert problem.line == 13  # the step in the front matter
    assert problem.message == "missing section '## If rejected' for step 'grant'"


def test_missing_situation(make_pack: Make, load: Load, samples: Any) -> None:
    text = samples.scenario(
        body=samples.body_with(
            "## Situation\n\nThe nightly job fails with `permission denied`.\n\n", ""
        )
    )
    problem = scenario_problem(make_pack, load, text)
    assert problem.message.startswith("missing section '## Situation'")


def test_missing_debrief(make_pack: Make, load: Load, samples: Any) -> None:
    text = samples.scenario(body=samples.body.split("## Debrief")[0])
    problem = scenario_problem(make_pack, load, text)
    assert problem.message.startswith("missing section '## Debrief'")


def test_unknown_section_suggests_the_right_title(
    make_pack: Make, load: Load, samples: Any
) -> None:
    text = samples.scenario(body=samples.body_with("## If accepted", "## If acepted"))
    problem = scenario_problem(make_pack, load, text)
    assert problem.line == 28
    assert problem.message.startswith("unknown section '## If acepted'")
    assert "did you mean '## If accepted'?" in problem.message


def test_duplicated_section(make_pack: Make, load: Load, samples: Any) -> None:
    text = samples.scenario(
        body=samples.body_with("## If rejected", "## If accepted\n\nTwice.\n\n## If rejected")
    )
    problem = scenario_problem(make_pack, load, text)
    assert problem.line == 32
    assert problem.message == "section '## If accepted' appears twice (first at line 28); keep one"


def test_situation_must_come_first(make_pack: Make, load: Load, samples: Any) -> None:
    moved = samples.body_with(
        "## Situation\n\nThe nightly job fails with `permission denied`.\n\n", ""
    )
    moved = moved.replace("## If accepted", "## Situation\n\nLate.\n\n## If accepted")
    problem = scenario_problem(make_pack, load, samples.scenario(body=moved))
    assert problem.message.startswith("'## Situation' must be the first section")


def test_debrief_must_come_last(make_pack: Make, load: Load, samples: Any) -> None:
    moved = samples.body_with("## Debrief\n\nThe grant was far wider than the problem.\n", "")
    moved = moved.replace("## If rejected", "## Debrief\n\nEarly.\n\n## If rejected")
    problem = scenario_problem(make_pack, load, samples.scenario(body=moved))
    assert problem.message.startswith("'## Debrief' must be the last section")


def test_if_revised_for_a_step_without_revisions(make_pack: Make, load: Load, samples: Any) -> None:
    text = samples.scenario(
        body=samples.body_with("## Debrief", "## If revised\n\nSomething.\n\n## Debrief")
    )
    problem = scenario_problem(make_pack, load, text)
    assert problem.line == 36
    assert problem.message.startswith("'## If revised' is for a step with revisions")


def test_step_with_revisions_needs_if_revised(make_pack: Make, load: Load, samples: Any) -> None:
    text = samples.scenario(front=samples.front("broken") + REVISIONS_ONE_CORRECT)
    problem = scenario_problem(make_pack, load, text)
    assert problem.line == 17
    assert "needs a section '## If revised'" in problem.message


def test_headings_inside_code_blocks_are_not_sections(
    make_pack: Make, load: Load, samples: Any
) -> None:
    fenced = samples.body_with(
        "Grant `READ` on the whole warehouse.",
        "```markdown\n## Debrief\n## Notes\n```\n\n~~~\n## Situation\n~~~",
    )
    make_pack().scenario("fenced", samples.scenario("fenced", body=fenced))
    library = load()
    assert "## Notes" in library.scenarios["fenced"].steps[0].suggestion


def test_level_three_headings_are_content(make_pack: Make, load: Load, samples: Any) -> None:
    deeper = samples.body_with(
        "Everyone can read every table.", "### What follows\n\nEveryone can read."
    )
    make_pack().scenario("deeper", samples.scenario("deeper", body=deeper))
    assert load().scenarios["deeper"].steps[0].if_accepted.startswith("### What follows")


def test_text_before_situation_is_an_error(make_pack: Make, load: Load, samples: Any) -> None:
    problem = scenario_problem(make_pack, load, samples.scenario(body="Notes.\n\n" + samples.body))
    assert problem.line == 18
    assert problem.message.startswith("text before '## Situation' is not shown")


def test_multi_step_sections_must_name_their_step(
    make_pack: Make, load: Load, samples: Any
) -> None:
    two_steps = samples.front("broken") + "  - id: follow-up\n    answer: accept\n"
    found, _ = problems_of(
        make_pack, load, "scenarios/broken.md", samples.scenario(front=two_steps)
    )
    assert (found[0].line, found[0].message) == (
        26,
        "'## Suggestion' must name its step in a scenario with several steps, "
        "e.g. '## Suggestion (grant)'",
    )
    assert len(found) == 3  # Suggestion, If accepted and If rejected; nothing else


def test_section_naming_an_unknown_step(make_pack: Make, load: Load, samples: Any) -> None:
    text = samples.scenario(body=samples.body_with("## If accepted", "## If accepted (grnat)"))
    found, _ = problems_of(make_pack, load, "scenarios/broken.md", text)
    assert any(
        p.line == 28 and p.message.startswith("'## If accepted (grnat)' names no step")
        for p in found
    )


def test_two_step_scenario_loads_with_step_sections(
    make_pack: Make, load: Load, samples: Any
) -> None:
    two_steps = samples.front("two-steps") + "  - id: narrow\n    answer: accept\n"
    sections = (
        "## Situation\n\nA job fails.\n\n"
        "## Suggestion (grant)\n\nGrant everything.\n\n## If accepted (grant)\n\nToo wide.\n\n"
        "## If rejected (grant)\n\nStill broken.\n\n"
        "## Suggestion (narrow)\n\nGrant one table.\n\n## If accepted (narrow)\n\nFixed.\n\n"
        "## If rejected (narrow)\n\nStill broken.\n\n## Debrief\n\nNarrow wins.\n"
    )
    make_pack().scenario("two-steps", samples.scenario(front=two_steps, body=sections))
    scenario = load().scenarios["two-steps"]
    assert [s.id for s in scenario.steps] == ["grant", "narrow"]
    assert scenario.step("narrow").suggestion == "Grant one table."
    assert scenario.debrief == "Narrow wins."


# --- lessons, tracks, red flags -------------------------------------------------------


def test_lesson_unknown_flag(make_pack: Make, load: Load) -> None:
    text = "---\nid: extra-lesson\ntitle: T\nsummary: S\nflags: [zzz-flag]\n---\nBody.\n"
    problem = only_problem(make_pack, load, "lessons/extra-lesson.md", text)
    assert problem.line == 5
    assert problem.message.startswith("unknown red flag 'zzz-flag' in 'flags'")


def test_lesson_file_name_must_match(make_pack: Make, load: Load) -> None:
    text = "---\nid: another\ntitle: T\nsummary: S\n---\nBody.\n"
    problem = only_problem(make_pack, load, "lessons/extra-lesson.md", text)
    assert problem.message.startswith("id 'another' does not match the file name 'extra-lesson.md'")


TRACK = "id: {id}\ntitle: T\nsummary: S\n{extra}items:\n{items}"


@pytest.mark.parametrize("pass_mark", ["1.5", "-0.1"])
def test_pass_mark_outside_0_to_1(make_pack: Make, load: Load, pass_mark: str) -> None:
    text = TRACK.format(
        id="t", extra=f"pass_mark: {pass_mark}\n", items="  - lesson: least-privilege\n"
    )
    problem = only_problem(make_pack, load, "lessons/tracks/t.yaml", text)
    assert problem.line == 4
    assert problem.message.startswith("'pass_mark' must be a share between 0 and 1")


def test_whole_number_pass_mark_is_a_share(make_pack: Make, load: Load) -> None:
    make_pack().write(
        "lessons/tracks/t.yaml",
        TRACK.format(id="t", extra="pass_mark: 1\n", items="  - lesson: least-privilege\n"),
    )
    assert load().tracks["t"].pass_mark == 1.0


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ("  - quiz: pop\n", "unknown key 'quiz' in item 1; allowed keys: lesson, scenario"),
        ("  - least-privilege\n", "item 1 must be 'lesson: ID' or 'scenario: ID'"),
        ("  - {}\n", "item 1 must be either 'lesson: ID' or 'scenario: ID'"),
        (
            "  - lesson: least-privilege\n    scenario: sample-scenario\n",
            "item 1 must be either 'lesson: ID' or 'scenario: ID'",
        ),
    ],
)
def test_track_item_neither_lesson_nor_scenario(
    make_pack: Make, load: Load, items: str, expected: str
) -> None:
    problem = only_problem(
        make_pack, load, "lessons/tracks/t.yaml", TRACK.format(id="t", extra="", items=items)
    )
    assert problem.line == 5
    assert problem.message == expected


def test_track_unknown_references(make_pack: Make, load: Load) -> None:
    items = "  - lesson: least-privilege\n  - scenario: sample-scenaro\n  - lesson: zzz-none\n"
    found, library = problems_of(
        make_pack, load, "lessons/tracks/t.yaml", TRACK.format(id="t", extra="", items=items)
    )
    assert [(p.line, p.message) for p in found] == [
        (6, "unknown scenario 'sample-scenaro' (item 2); did you mean 'sample-scenario'?"),
        (
            7,
            "unknown lesson 'zzz-none' (item 3); "
            "each lesson is a file lessons/ID.md in a loaded pack",
        ),
    ]
    assert "t" not in library.tracks


def test_red_flag_with_unknown_lesson_is_left_out(make_pack: Make, load: Load) -> None:
    pack = make_pack()
    path = pack.write(
        "scenarios/red-flags.yaml",
        (pack.root / "scenarios/red-flags.yaml").read_text(encoding="utf-8")
        + "- id: extra-flag\n  title: T\n  question: Q?\n  lesson: zzz-none\n",
    )
    library = load()
    found = [p for p in library.problems if p.path == path]
    assert [(p.line, p.message) for p in found] == [
        (
            17,
            "unknown lesson 'zzz-none' in flag 'extra-flag'; "
            "each lesson is a file lessons/ID.md in a loaded pack",
        )
    ]
    assert "extra-flag" not in library.red_flags
    assert "blast-radius" in library.red_flags


def test_red_flags_file_must_be_a_list(make_pack: Make, load: Load) -> None:
    make_pack()
    extra = make_pack("extra", defaults=False)
    path = extra.write("scenarios/red-flags.yaml", "id: extra-flag\ntitle: T\n")
    library = load("extra")
    assert [(p.path, p.line, p.message) for p in library.problems] == [
        (
            path,
            1,
            "red-flags.yaml must be a list of flags, each starting with '- id: ...'",
        )
    ]
    assert "blast-radius" in library.red_flags


def test_missing_reference_after_a_skipped_file_says_so(make_pack: Make, load: Load) -> None:
    pack = make_pack()
    pack.write("lessons/least-privilege.md", "---\nid: least-privilege\n---\n")
    library = load()
    messages = [p.message for p in library.problems]
    assert "missing required key 'title'" in messages
    assert any(
        m.startswith("lesson 'least-privilege' in 'lessons' did not load (see the problem")
        for m in messages
    )
    # The flag pointing at the lesson, and the scenario and track using both, drop out too.
    assert "access-broadened" not in library.red_flags
    assert library.scenarios == {}
    assert library.tracks == {}


def test_every_problem_names_a_file_inside_the_pack(
    make_pack: Make, load: Load, tmp_path: Path, samples: Any
) -> None:
    _, library = problems_of(
        make_pack,
        load,
        "scenarios/broken.md",
        samples.scenario(front=samples.front_with("difficulty: 2", "difficulty: 9")),
    )
    assert library.problems
    for problem in library.problems:
        assert problem.path.is_relative_to(tmp_path.resolve())
        assert problem.line is not None and problem.line >= 1
