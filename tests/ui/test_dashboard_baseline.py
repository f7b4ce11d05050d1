"""Baseline against follow-up on the dashboard: grouped bars, the change in words, and what
to do while either check is not taken.

This module's pack adds a ``baseline`` track (hard-drop, easy-accept) and a ``follow-up``
track (two-step-grant). Worked out by hand (docs/scoring.md):

- baseline, the four answers of test_dashboard.HISTORY: score (0 + 1 + 0.9333 + 0) / 4 =
  0.4833, over-trust 1/2, under-trust 1/2, Brier 0.325;
- follow-up, two-step-grant answered right: the grant rejected with both true flags named
  at 90 % (1.0), the safe revision without flags at 80 % (0.9): score 0.95, over-trust 0/2,
  under-trust not measured (no good suggestion), Brier (0.01 + 0.04) / 2 = 0.025.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.core.judging import StepAnswer
from app.core.model import Decision
from app.ui.dashboard import BASELINE
from app.ui.main_window import DASHBOARD
from tests.ui.conftest import write_pack
from tests.ui.test_dashboard import answer_history, bar_values, categories

TRACKS = {
    "baseline": ["hard-drop", "easy-accept"],
    "follow-up": ["two-step-grant"],
}


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    root = write_pack(tmp_path / "pack")
    for track_id, scenario_ids in TRACKS.items():
        items = "".join(f"  - scenario: {s}\n" for s in scenario_ids)
        (root / "lessons" / "tracks" / f"{track_id}.yaml").write_text(
            f"id: {track_id}\ntitle: {track_id.title()} check\nsummary: A check.\nitems:\n{items}",
            encoding="utf-8",
        )
    return root


def answer_follow_up(workspace: Any) -> None:
    training, profile = workspace.training, workspace.profile
    scenario = workspace.library.scenarios["two-step-grant"]
    grant, narrow = scenario.steps
    play_id = training.new_play_id()
    training.record_answer(
        profile,
        scenario,
        grant,
        StepAnswer(
            Decision.REJECT,
            flags=frozenset({"access-broadened", "blast-radius"}),
            confidence=90,
            seconds=40.0,
        ),
        play_id,
    )
    training.record_answer(
        profile,
        scenario,
        narrow,
        StepAnswer(
            Decision.REVISE,
            revision_index=narrow.correct_revision_index,
            confidence=80,
            seconds=30.0,
        ),
        play_id,
    )


def baseline_card(workspace: Any) -> Any:
    workspace.show_page(DASHBOARD)
    return workspace.dashboard.cards[BASELINE]


def test_before_either_check_the_card_says_to_take_the_baseline_first(workspace: Any) -> None:
    card = baseline_card(workspace)
    assert not card.view.isVisible()
    text = card.text.text()
    assert "You have not taken the baseline check yet." in text
    assert "You have not taken the follow-up check yet." in text


def test_after_the_baseline_only_its_bars_show_and_the_follow_up_is_announced(
    workspace: Any,
) -> None:
    answer_history(workspace)
    card = baseline_card(workspace)
    assert card.view.isVisible()
    assert bar_values(card.chart) == {"Baseline": pytest.approx([145 / 3, 50.0, 50.0, 32.5])}
    text = card.text.text()
    assert "Score: 48 % → not measured" in text
    assert "You have not taken the follow-up check yet." in text
    assert "baseline check yet" not in text


def test_baseline_against_follow_up_in_grouped_bars_and_in_words(workspace: Any) -> None:
    answer_history(workspace)
    answer_follow_up(workspace)
    card = baseline_card(workspace)
    chart = card.chart
    assert categories(chart) == ["Score (%)", "Over-trust (%)", "Under-trust (%)", "Brier × 100"]
    values = bar_values(chart)
    assert values["Baseline"] == pytest.approx([145 / 3, 50.0, 50.0, 32.5])
    assert values["Follow-up"] == pytest.approx([95.0, 0.0, 0.0, 2.5])
    text = card.text.text()
    assert "Score: 48 % → 95 % (+47 points, better)" in text
    assert "Over-trust: 50 % → 0 % (−50 points, better)" in text
    assert "Under-trust: 50 % → not measured" in text
    assert "Calibration (Brier score, lower is better): 0.325 → 0.025 (−0.300, better)" in text
    assert "A measure not yet measured is drawn as 0 in the chart." in text
    assert "not taken" not in text
    assert card.view.accessibleDescription() == text
