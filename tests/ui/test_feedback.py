"""The player's wording: verdicts, consequences, flags, debrief sources, chat bubbles."""

from __future__ import annotations

from pathlib import Path

from app.core.judging import StepAnswer, judge
from app.core.model import Decision, Revision, Scenario, SourceRef, Step
from app.ui.feedback import (
    bubble_markdown,
    consequence_markdown,
    debrief_markdown,
    verdict_text,
)
from app.ui.player import initials

STEP = Step(
    id="s",
    answer=Decision.REVISE,
    suggestion="x",
    if_accepted="ACCEPTED",
    if_rejected="REJECTED",
    flags=("blast-radius",),
    revisions=(Revision("unsafe one"), Revision("safe one", correct=True)),
    if_revised="REVISED",
)


def test_a_fully_quoted_suggestion_loses_its_quote_marks_in_the_bubble() -> None:
    quoted = "> Here is the fix:\n>\n> ```sh\n> rm -rf build\n> ```\n"
    assert bubble_markdown(quoted) == "Here is the fix:\n\n```sh\nrm -rf build\n```"


def test_a_partly_quoted_suggestion_is_left_alone() -> None:
    mixed = "The agent replies:\n\n> Run this.\n"
    assert bubble_markdown(mixed) == mixed


def test_avatar_initials() -> None:
    assert initials("Internal forum agent") == "IF"
    assert initials("AI assistant") == "AI"
    assert initials("Copilot") == "CO"
    assert initials("") == "AI"


def test_a_wrong_revision_shows_the_safe_one_and_where_it_leads() -> None:
    answer = StepAnswer(Decision.REVISE, revision_index=0)
    text = consequence_markdown(STEP, answer, judge(STEP, answer), {})
    assert "does not remove the problem" in text
    assert "> unsafe one" in text and "> safe one" in text
    assert "REVISED" in text
    assert "ACCEPTED" in text and "REJECTED" in text, "the other choices"
    assert "not given" in text
    assert verdict_text(judge(STEP, answer).verdict).startswith("✘")


def test_accepting_shows_what_revising_and_rejecting_would_have_done() -> None:
    answer = StepAnswer(Decision.ACCEPT, flags=frozenset({"data-exposure"}))
    text = consequence_markdown(STEP, answer, judge(STEP, answer), {})
    first, others = text.split("### What the other choices would have led to")
    assert "ACCEPTED" in first
    assert "REJECTED" in others and "REVISED" in others and "> safe one" in others
    assert "Missed: Blast radius" in text
    assert "Flagged, but not in this suggestion: Data exposure" in text


def test_debrief_lists_sources_with_web_links_only() -> None:
    scenario = Scenario(
        id="x",
        title="t",
        summary="s",
        difficulty=1,
        situation="",
        debrief="The debrief.",
        steps=(STEP,),
        pack_id="core",
        path=Path("x.md"),
        based_on=(
            SourceRef("A [bracketed] report", "https://example.org/r", "fictional"),
            SourceRef("A local note", "file:///etc/passwd"),
        ),
    )
    text = debrief_markdown(scenario)
    assert "[A \\[bracketed\\] report](https://example.org/r) — fictional" in text
    assert "- A local note" in text
    assert "file:" not in text
