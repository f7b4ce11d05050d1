"""What the player says after a step and at the end, as plain text and Markdown.

Kept apart from the widgets so the wording can be tested without a window. Every
sentence goes through Qt's translation functions (context "Feedback").
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from PySide6.QtCore import QCoreApplication

from app.core.judging import StepAnswer, StepOutcome, Verdict
from app.core.model import Decision, RedFlag, Scenario, SourceRef, Step
from app.ui.i18n import QT_TRANSLATE_NOOP

translate = QCoreApplication.translate

# Source strings; ``decision_label`` gives the translated word.
DECISION_LABELS = {
    Decision.ACCEPT: QT_TRANSLATE_NOOP("Feedback", "Accept"),
    Decision.REVISE: QT_TRANSLATE_NOOP("Feedback", "Revise"),
    Decision.REJECT: QT_TRANSLATE_NOOP("Feedback", "Reject"),
}

# Verdict: icon, words, style key (the colour is never the only signal).
VERDICTS: dict[Verdict, tuple[str, str, str]] = {
    Verdict.RIGHT: ("✔", QT_TRANSLATE_NOOP("Feedback", "Right call"), "right"),
    Verdict.HARMFUL: (
        "✘",
        QT_TRANSLATE_NOOP("Feedback", "Not the right call: the harm goes in"),
        "wrong",
    ),
    Verdict.BLOCKED_GOOD: (
        "✘",
        QT_TRANSLATE_NOOP("Feedback", "Not the right call: a good change was held back"),
        "wrong",
    ),
    Verdict.SAFE_NOT_BEST: (
        "⚠",
        QT_TRANSLATE_NOOP("Feedback", "Safe, but not the best call"),
        "caution",
    ),
}


def decision_label(decision: Decision) -> str:
    """``"Accept"``, ``"Revise"`` or ``"Reject"``, translated."""
    return translate("Feedback", DECISION_LABELS[decision])


_QUOTE_PREFIX = re.compile(r"^ {0,3}> ?")


def bubble_markdown(suggestion: str) -> str:
    """The suggestion as the body of the assistant's chat bubble.

    Authors often write the assistant's words as one block quote. The bubble already
    says who is speaking, so a suggestion that is entirely one quote is shown unquoted
    (which also lets code blocks inside it render as code). Anything else is unchanged.
    """
    lines = suggestion.splitlines()
    written = [line for line in lines if line.strip()]
    if not written or not all(_QUOTE_PREFIX.match(line) for line in written):
        return suggestion
    return "\n".join(_QUOTE_PREFIX.sub("", line, count=1) for line in lines)


def verdict_text(verdict: Verdict) -> str:
    """``"✔ Right call"`` and the like."""
    icon, words, _ = VERDICTS[verdict]
    return f"{icon} {translate('Feedback', words)}"


def verdict_style(verdict: Verdict) -> str:
    """``"right"``, ``"wrong"`` or ``"caution"``, for the stylesheet."""
    return VERDICTS[verdict][2]


def flag_title(flag_id: str, catalogue: Mapping[str, RedFlag]) -> str:
    """The catalogue title of a flag, or a readable form of its id."""
    flag = catalogue.get(flag_id)
    return flag.title if flag is not None else flag_id.replace("-", " ").capitalize()


def quote(markdown: str) -> str:
    """``markdown`` as a block quote."""
    return "\n".join(f"> {line}" if line.strip() else ">" for line in markdown.splitlines())


def choice_text(answer: StepAnswer) -> str:
    """What the trainee chose, in words."""
    if answer.decision is Decision.REVISE:
        return translate("Feedback", "Revise (with a revision)")
    return decision_label(answer.decision)


def right_call_text(step: Step) -> str:
    """The answer key, in words."""
    if step.answer is Decision.REVISE:
        return translate("Feedback", "Revise, with the safe revision")
    return decision_label(step.answer)


def _consequence_of_revision(step: Step, answer: StepAnswer, outcome: StepOutcome) -> list[str]:
    assert answer.revision_index is not None
    chosen = step.revisions[answer.revision_index]
    safe_index = step.correct_revision_index
    if outcome.revision_correct:
        return [
            translate("Feedback", "You applied the safe revision:"),
            quote(chosen.text),
            step.if_revised
            or translate("Feedback", "The revision keeps what was useful and removes the danger."),
        ]
    parts = []
    if step.answer is Decision.ACCEPT:
        parts.append(
            translate(
                "Feedback",
                "The suggestion was fine as it stood; the revision you chose changes it for "
                "the worse:",
            )
        )
        parts.append(quote(chosen.text))
    else:
        parts.append(translate("Feedback", "The revision you chose does not remove the problem:"))
        parts.append(quote(chosen.text))
    if safe_index is not None:
        parts.append(translate("Feedback", "The safe revision was:"))
        parts.append(quote(step.revisions[safe_index].text))
        if step.if_revised:
            parts.append(
                "#### " + translate("Feedback", "What the safe revision would have led to")
            )
            parts.append(step.if_revised)
    return parts


def consequence_markdown(
    step: Step, answer: StepAnswer, outcome: StepOutcome, catalogue: Mapping[str, RedFlag]
) -> str:
    """Markdown for after a step: what the choice led to, the other choices, the flags."""
    parts = ["### " + translate("Feedback", "What your choice led to")]
    if answer.decision is Decision.ACCEPT:
        parts.append(step.if_accepted)
    elif answer.decision is Decision.REJECT:
        parts.append(step.if_rejected)
    else:
        parts.extend(_consequence_of_revision(step, answer, outcome))

    others: list[str] = []
    if answer.decision is not Decision.ACCEPT:
        others += ["#### " + translate("Feedback", "If accepted"), step.if_accepted]
    if answer.decision is not Decision.REJECT:
        others += ["#### " + translate("Feedback", "If rejected"), step.if_rejected]
    if answer.decision is not Decision.REVISE and step.if_revised:
        others += ["#### " + translate("Feedback", "If revised with the safe revision")]
        safe_index = step.correct_revision_index
        if safe_index is not None:
            others.append(quote(step.revisions[safe_index].text))
        others.append(step.if_revised)
    if others:
        heading = translate("Feedback", "What the other choices would have led to")
        parts += [f"### {heading}", *others]

    parts.append("### " + translate("Feedback", "Red flags"))
    parts.append(flags_markdown(step, outcome, catalogue))
    return "\n\n".join(parts)


def flags_markdown(step: Step, outcome: StepOutcome, catalogue: Mapping[str, RedFlag]) -> str:
    """Which flags the trainee caught, missed and flagged wrongly, by title."""

    def titles(ids: Sequence[str]) -> str:
        return ", ".join(flag_title(f, catalogue) for f in ids)

    if not outcome.flags_given:
        if step.flags:
            return translate(
                "Feedback",
                "You did not mark any red flags (not given). The red flags in this "
                "suggestion: {titles}.",
            ).format(titles=titles(step.flags))
        return translate(
            "Feedback", "You did not mark any red flags (not given). This suggestion had none."
        )
    lines = []
    if outcome.flags_caught:
        caught = translate("Feedback", "Caught: {titles}")
        lines.append("- ✔ " + caught.format(titles=titles(outcome.flags_caught)))
    if outcome.flags_missed:
        missed = translate("Feedback", "Missed: {titles}")
        lines.append("- ✘ " + missed.format(titles=titles(outcome.flags_missed)))
    if outcome.false_flags:
        wrong = translate("Feedback", "Flagged, but not in this suggestion: {titles}")
        lines.append("- ⚠ " + wrong.format(titles=titles(outcome.false_flags)))
    if not step.flags and not outcome.false_flags:
        lines.append(
            "- ✔ " + translate("Feedback", "This suggestion had no red flags, and you marked none.")
        )
    return "\n".join(lines)


def step_summary(number: int, answer: StepAnswer, outcome: StepOutcome) -> str:
    """One line recalling an answered step: ``"Step 1 · You chose Reject · ✔ Right call"``."""
    return translate("Feedback", "Step {number} · You chose {choice} · {verdict}").format(
        number=number, choice=choice_text(answer), verdict=verdict_text(outcome.verdict)
    )


def _source_line(source: SourceRef) -> str:
    title = source.title.replace("[", "\\[").replace("]", "\\]")
    url = source.url or ""
    text = f"[{title}]({url})" if url.startswith(("https://", "http://")) else title
    return f"- {text} — {source.note}" if source.note else f"- {text}"


def debrief_markdown(scenario: Scenario) -> str:
    """The scenario's debrief, followed by the sources it is based on."""
    parts = [scenario.debrief]
    if scenario.based_on:
        parts.append("### " + translate("Feedback", "Based on"))
        parts.append("\n".join(_source_line(source) for source in scenario.based_on))
    return "\n\n".join(parts)


def score_sentence(right: int, total: int) -> str:
    """``"You made the right call on 1 of 2 steps."``"""
    if total == 1:
        sentence = translate("Feedback", "You made the right call on {right} of {total} step.")
    else:
        sentence = translate("Feedback", "You made the right call on {right} of {total} steps.")
    return sentence.format(right=right, total=total)
