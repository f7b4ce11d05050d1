"""The "My progress" dashboard: charts rendered offscreen, their data, and the same numbers
as text.

The answer history is small enough to work out every number by hand (docs/scoring.md):

| play | scenario | answer key | trainee | flags named | conf. | seconds | step score |
| 1 | hard-drop | Reject | Accept | not given | 90 % | 30 | 0 (harmful) |
| 2 | easy-accept | Accept | Accept | none (empty) | 80 % | 20 | 1.0 |
| 3 | hard-drop | Reject | Reject | irreversible | 70 % | 50 | 1 × (1 − 0.2 × 1/3) = 0.9333 |
| 4 | easy-accept | Accept | Reject | not given | 60 % | 10 | 0 (good advice blocked) |

Over-trust 1/2, under-trust 1/2; Brier (0.81 + 0.04 + 0.09 + 0.36) / 4 = 0.325; flag recall
irreversible 1/1, blast-radius 0/1 (only play 3 named flags where flags were present);
time per play: hard-drop (30 + 50) / 2 = 40 s, easy-accept (20 + 10) / 2 = 15 s.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from app.core.judging import StepAnswer
from app.core.model import Decision
from app.ui.charts import elide
from app.ui.dashboard import BASELINE, CALIBRATION, FLAGS, SCORE, TIME, TRUST
from app.ui.main_window import DASHBOARD
from app.ui.style import LIGHT
from tests.ui.test_accessibility import unnamed_controls

HISTORY = [
    ("hard-drop", Decision.ACCEPT, None, 90, 30.0),
    ("easy-accept", Decision.ACCEPT, frozenset(), 80, 20.0),
    ("hard-drop", Decision.REJECT, frozenset({"irreversible"}), 70, 50.0),
    ("easy-accept", Decision.REJECT, None, 60, 10.0),
]


def record(
    workspace: Any, scenario_id: str, decision: Decision, flags: Any, conf: Any, sec: float
) -> None:
    training, profile = workspace.training, workspace.profile
    scenario = workspace.library.scenarios[scenario_id]
    play_id = training.new_play_id()
    for step in scenario.steps:
        revision = step.correct_revision_index if decision is Decision.REVISE else None
        answer = StepAnswer(
            decision, revision_index=revision, flags=flags, confidence=conf, seconds=sec
        )
        training.record_answer(profile, scenario, step, answer, play_id)


def answer_history(workspace: Any) -> None:
    for entry in HISTORY:
        record(workspace, *entry)


def points(series: Any) -> list[float]:
    """The series' points as x1, y1, x2, y2, ... (pytest.approx compares flat lists)."""
    return [value for point in series.points() for value in (point.x(), point.y())]


def flat(pairs: list[tuple[float, float]]) -> list[float]:
    return [value for pair in pairs for value in pair]


def bar_values(chart: Any) -> dict[str, list[float]]:
    (series,) = chart.series()
    return {s.label(): [s.at(i) for i in range(s.count())] for s in series.barSets()}


def categories(chart: Any) -> list[str]:
    from PySide6.QtCharts import QBarCategoryAxis

    (axis,) = [a for a in chart.axes() if isinstance(a, QBarCategoryAxis)]
    return list(axis.categories())


def has_colour(image: Any, colour: str) -> bool:
    wanted = QColor(colour)
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            pixel = image.pixelColor(x, y)
            if (
                abs(pixel.red() - wanted.red()) < 12
                and abs(pixel.green() - wanted.green()) < 12
                and abs(pixel.blue() - wanted.blue()) < 12
            ):
                return True
    return False


def distinct_colours(image: Any) -> int:
    seen = set()
    for y in range(0, image.height(), 4):
        for x in range(0, image.width(), 4):
            seen.add(image.pixel(x, y))
    return len(seen)


@pytest.fixture
def dashboard(workspace: Any) -> Any:
    answer_history(workspace)
    workspace.show_page(DASHBOARD)
    assert workspace.window.current_page_key() == DASHBOARD
    return workspace.dashboard


def test_ctrl_4_opens_my_progress(workspace: Any, press_key: Any) -> None:
    workspace.home.tree.setFocus()
    press_key(Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    assert workspace.window.current_page_key() == DASHBOARD
    assert workspace.dashboard.title_label.text() == "My progress: Ada Example"


def test_every_chart_renders_offscreen_and_is_not_blank(dashboard: Any) -> None:
    # The colour each chart draws its data in: the line, the points, the bars.
    data_colours = {
        SCORE: LIGHT.accent,
        TRUST: LIGHT.accent,
        CALIBRATION: LIGHT.accent,
        FLAGS: LIGHT.accent,
        TIME: LIGHT.avatar,
    }
    for key, colour in data_colours.items():
        view = dashboard.cards[key].view
        assert view is not None and view.isVisible(), key
        image = view.grab().toImage()
        assert not image.isNull() and image.width() > 200 and image.height() > 200, key
        assert distinct_colours(image) > 8, f"{key} looks blank"
        assert has_colour(image, colour), f"{key} does not draw its data"


def test_score_over_time_is_one_point_per_play(dashboard: Any) -> None:
    (line,) = dashboard.cards[SCORE].chart.series()
    assert points(line) == pytest.approx(flat([(1, 0), (2, 100), (3, 280 / 3), (4, 0)]))
    text = dashboard.cards[SCORE].text.text()
    assert "Play 1 · " in text and "Cleaning up the old tables: 0 %" in text
    assert "Play 3 · " in text and "Cleaning up the old tables: 93 %" in text
    assert "A typo in a log message: 100 %" in text
    # (0 + 1 + 0.9333 + 0) / 4 = 0.4833
    assert "Mean step score: 48 %" in text


def test_over_and_under_trust_bars(dashboard: Any) -> None:
    chart = dashboard.cards[TRUST].chart
    assert categories(chart) == ["Over-trust", "Under-trust"]
    assert bar_values(chart) == {"Rate (%)": pytest.approx([50.0, 50.0])}
    text = dashboard.cards[TRUST].text.text()
    assert "Over-trust: 50 % (1 of 2 harmful suggestions accepted as they stood)." in text
    assert "Under-trust: 50 % (1 of 2 good suggestions rejected)." in text


def test_calibration_plots_bands_against_the_diagonal(dashboard: Any) -> None:
    from PySide6.QtCharts import QScatterSeries

    chart = dashboard.cards[CALIBRATION].chart
    series = {s.name(): s for s in chart.series()}
    diagonal = series["Perfectly calibrated"]
    assert points(diagonal) == flat([(50, 50), (100, 100)])
    answers = series["Your answers, by confidence band"]
    assert isinstance(answers, QScatterSeries)
    # One answer in each band from 60 to 100: right at 70 and 80, wrong at 60 and 90.
    assert points(answers) == pytest.approx(flat([(60, 0), (70, 100), (80, 100), (90, 0)]))
    text = dashboard.cards[CALIBRATION].text.text()
    assert "Brier score: 0.325" in text
    assert "50–59 %: no answers" in text
    assert "60–69 %: 1 answer, mean confidence 60 %, right 0 %" in text
    assert "70–79 %: 1 answer, mean confidence 70 %, right 100 %" in text
    assert "90–100 %: 1 answer, mean confidence 90 %, right 0 %" in text


def test_red_flag_recall_shows_strengths_and_gaps(dashboard: Any) -> None:
    chart = dashboard.cards[FLAGS].chart
    # Best caught on top; a horizontal chart lists its categories from the bottom.
    assert categories(chart) == [
        elide("Blast radius larger than the problem"),
        "Irreversible or destructive action",
    ]
    assert bar_values(chart) == {"Recall (%)": pytest.approx([0.0, 100.0])}
    text = dashboard.cards[FLAGS].text.text()
    assert "Irreversible or destructive action: caught 1 of 1 (100 %)" in text
    assert "Blast radius larger than the problem: caught 0 of 1 (0 %)" in text
    assert "Strengths: Irreversible or destructive action." in text
    assert "Gaps to practise: Blast radius larger than the problem." in text


def test_time_per_scenario_is_the_mean_per_play(dashboard: Any) -> None:
    chart = dashboard.cards[TIME].chart
    # Latest played on top: easy-accept was played last, so it is the last category.
    assert categories(chart) == ["Cleaning up the old tables", "A typo in a log message"]
    assert bar_values(chart) == {"Seconds per play": pytest.approx([40.0, 15.0])}
    text = dashboard.cards[TIME].text.text()
    assert "Cleaning up the old tables: 40 s per play (2 plays)" in text
    assert "A typo in a log message: 15 s per play (2 plays)" in text


def test_summary_and_missing_baseline_track_are_said_in_words(dashboard: Any) -> None:
    summary = dashboard.summary_label.text()
    assert summary.startswith("4 steps answered · score 48 % · over-trust 50 %")
    assert "Brier score 0.325" in summary
    card = dashboard.cards[BASELINE]
    assert not card.view.isVisible()
    assert "The loaded content has no baseline track." in card.text.text()


def test_charts_carry_accessible_names_and_their_numbers_as_description(dashboard: Any) -> None:
    for key, card in dashboard.cards.items():
        assert card.view.accessibleName().startswith("Chart: "), key
        assert card.view.accessibleDescription() == card.text.text(), key
        assert card.text.accessibleName().startswith("Numbers: "), key
    assert unnamed_controls(dashboard.window()) == []


def test_empty_states_say_what_to_do(workspace: Any) -> None:
    workspace.show_page(DASHBOARD)
    dashboard = workspace.dashboard
    assert dashboard.summary_label.text().startswith("Answer a few scenarios to see your progress")
    expected = {
        SCORE: "Answer a few scenarios to see your score over time.",
        TRUST: "Answer a few scenarios to see how often you accept harmful advice",
        CALIBRATION: "Give a confidence with your answers",
        FLAGS: "Mark the red flags you spot",
        TIME: "Play a scenario to see how long each one takes you.",
    }
    for key, start in expected.items():
        card = dashboard.cards[key]
        assert not card.view.isVisible(), key
        assert card.text.text().startswith(start), key


def test_the_dashboard_refreshes_after_a_play(workspace: Any) -> None:
    workspace.show_page(DASHBOARD)
    assert not workspace.dashboard.cards[SCORE].view.isVisible()
    workspace.open_scenario("easy-accept")
    workspace.player.choose_decision(Decision.ACCEPT)
    workspace.player.submit()
    workspace.show_page(DASHBOARD)
    (line,) = workspace.dashboard.cards[SCORE].chart.series()
    assert points(line) == pytest.approx([1, 90.0])  # right, flags not given


def test_qtcharts_is_not_imported_at_start_up() -> None:
    code = (
        "import sys\n"
        "import app.ui.launch, app.ui.workspace, app.ui.dashboard\n"
        "print('PySide6.QtCharts' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "False"
