"""The scenario player: situation, the assistant's suggestion, the decision, the outcome.

Every step follows the same loop: the trainee may first run the step's costed checks
(simulated minutes) or take a hint, then decides (Accept, Revise with a revision, or
Reject), may mark red flags and a confidence, and submits; the answer is recorded
(committed) before the consequence and the step's score are shown. After the last step
comes the debrief. Everything works from the keyboard: A, V, R, 1-9, C (next check),
H (hint) and Enter, with Tab for the rest.
"""

from __future__ import annotations

import functools
import itertools
import random
import time
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QResizeEvent, QShortcut, QTextDocumentFragment
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.content.render import render_markdown
from app.core.judging import StepAnswer, StepOutcome
from app.core.model import Check, ContentLibrary, Decision, Scenario, Step
from app.core.records import AnswerRecord, Profile
from app.core.scoring import (
    FLAG_WEIGHT,
    FLAGS_NOT_GIVEN_QUALITY,
    HINT_PENALTY,
    StepScore,
    step_score,
)
from app.services.outbox import RecordedAnswer
from app.ui.feedback import (
    bubble_markdown,
    choice_text,
    consequence_markdown,
    debrief_markdown,
    decision_label,
    right_call_text,
    score_sentence,
    step_summary,
    verdict_style,
    verdict_text,
)
from app.ui.i18n import QT_TRANSLATE_NOOP
from app.ui.markdown_view import SafeMarkdownView, UrlOpener, open_in_browser
from app.ui.models import catalogue_order, difficulty_name, flag_choices
from app.ui.notices import call_service
from app.ui.outbox_status import queued_note
from app.ui.style import repolish, set_text_role
from app.ui.widgets import ButtonRow, ClickableLabel, ConfidenceBox, FlagChecklist, card

if TYPE_CHECKING:
    from app.services.outbox import AnswerRecorder
    from app.services.training import TrainingService

DECISION_KEYS = {Decision.ACCEPT: "A", Decision.REVISE: "V", Decision.REJECT: "R"}
DECISION_HINTS = {
    Decision.ACCEPT: QT_TRANSLATE_NOOP("PlayerPage", "Apply the suggestion as it stands."),
    Decision.REVISE: QT_TRANSLATE_NOOP(
        "PlayerPage", "Apply it only in a safer form: pick the safe revision."
    ),
    Decision.REJECT: QT_TRANSLATE_NOOP("PlayerPage", "Do not apply it."),
}
MAX_NUMBERED_REVISIONS = 9
CHECK_KEY = "C"
HINT_KEY = "H"
MINUS = "\N{MINUS SIGN}"


class Phase(StrEnum):
    """Where the player is in a scenario."""

    IDLE = "idle"
    DECIDING = "deciding"
    FEEDBACK = "feedback"
    DEBRIEF = "debrief"


def initials(name: str) -> str:
    """Up to three letters for an avatar: ``"Internal forum agent"`` gives ``"IF"``."""
    words = [w for w in name.replace("-", " ").split() if w[:1].isalnum()]
    if not words:
        return "AI"
    if words[0].isupper() and len(words[0]) <= 3:
        return words[0]  # an acronym, as in "AI assistant"
    if len(words) == 1:
        return words[0][:2].upper()
    return (words[0][0] + words[1][0]).upper()


class Avatar(QLabel):
    """The assistant's initials in a square that grows with the text size."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setObjectName("avatar")
        set_text_role(self, "avatar")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._fit()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit()

    def _fit(self) -> None:
        side = self.fontMetrics().height() * 2 + 8
        self.setFixedSize(side, side)


def plain_text(markdown: str) -> str:
    """``markdown`` rendered, then flattened to plain text (for accessible names)."""
    return QTextDocumentFragment.fromHtml(render_markdown(markdown)).toPlainText().strip()


class PlayerPage(QWidget):
    """Plays one scenario, step by step, and records each answer.

    Signals:
        home_requested(): the trainee wants the home page.
        scenario_requested(str, str): play this scenario (id) next, within a track (id or "").
        answer_recorded(str, str): an answer to a scenario's step (ids) was committed.
    """

    home_requested = Signal()
    scenario_requested = Signal(str, str)
    answer_recorded = Signal(str, str)

    def __init__(
        self,
        library: ContentLibrary,
        training: TrainingService,
        *,
        open_url: UrlOpener = open_in_browser,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        recorder: AnswerRecorder | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """``recorder`` keeps answers (in the outbox when the team server is out of
        reach); without it answers go straight to ``training``."""
        super().__init__(parent)
        self._library = library
        self._training = training
        self._recorder = recorder
        self.queued_label: QLabel | None = None
        self._open_url = open_url
        self._rng = rng if rng is not None else random.Random()
        self._clock = clock
        self._scenario: Scenario | None = None
        self._profile: Profile | None = None
        self._track_id = ""
        self._play_id = ""
        self._step_index = 0
        self._phase = Phase.IDLE
        self._started_at = 0.0
        self._revision_order: list[int] = []
        self._results: list[tuple[Step, StepAnswer, StepOutcome]] = []
        self._records: list[AnswerRecord] = []
        self._checks_made: list[str] = []
        self._check_minutes = 0
        self._hint_taken = False
        self.check_buttons: list[QPushButton] = []
        self.check_views: list[SafeMarkdownView] = []
        self.score_label: QLabel | None = None
        self.play_score_label: QLabel | None = None
        self._step_feedback: list[QWidget] = []
        self._shortcuts: list[QShortcut] = []
        self.revision_buttons: list[QRadioButton] = []
        self.continue_button: QPushButton | None = None
        self.next_scenario_button: QPushButton | None = None
        self.feedback_view: SafeMarkdownView | None = None
        self.debrief_view: SafeMarkdownView | None = None
        self.verdict_label: QLabel | None = None

        self._build()
        self._install_shortcuts()

    # Building

    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(20, 14, 20, 14)
        root.setSpacing(12)

        header = QHBoxLayout()
        titles = QVBoxLayout()
        titles.setSpacing(2)
        self.title_label = QLabel()
        set_text_role(self.title_label, "title")
        self.title_label.setWordWrap(True)
        self.meta_label = QLabel()
        set_text_role(self.meta_label, "caption")
        self.meta_label.setWordWrap(True)
        titles.addWidget(self.title_label)
        titles.addWidget(self.meta_label)
        header.addLayout(titles, 1)
        self.home_button = QPushButton(self.tr("Back to &home"))
        self.home_button.setAccessibleName(self.tr("Back to home"))
        self.home_button.clicked.connect(self.home_requested)
        header.addWidget(self.home_button, 0, Qt.AlignmentFlag.AlignTop)
        root.addLayout(header)

        body = QHBoxLayout()
        body.setSpacing(16)
        self.conversation = QWidget()
        self.conversation.setObjectName("conversation")
        self.conversation_layout = QVBoxLayout(self.conversation)
        self.conversation_layout.setContentsMargins(0, 0, 8, 8)
        self.conversation_layout.setSpacing(14)
        self.conversation_layout.addStretch(1)
        self.conversation_scroll = QScrollArea()
        self.conversation_scroll.setWidgetResizable(True)
        self.conversation_scroll.setWidget(self.conversation)
        self.conversation_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.conversation_scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        body.addWidget(self.conversation_scroll, 1)

        self.panel = self._build_decision_panel()
        self.panel_scroll = QScrollArea()
        self.panel_scroll.setWidgetResizable(True)
        self.panel_scroll.setWidget(self.panel)
        self.panel_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.panel_scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.panel_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # The panel's controls change with each step (its checks): fit the width again.
        self.panel.installEventFilter(self)
        self._fit_panel_width()
        body.addWidget(self.panel_scroll, 0)
        root.addLayout(body, 1)

    def _build_decision_panel(self) -> QWidget:
        panel = QWidget()
        panel.setObjectName("decisionPanel")
        outer = QVBoxLayout(panel)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(12)
        outer.addWidget(self._build_before_card())
        frame, layout = card(self.tr("Your call"))
        question = QLabel(self.tr("Would you apply this suggestion?"))
        question.setWordWrap(True)
        set_text_role(question, "caption")
        self._build_hint(layout, question)

        self.decision_group = QButtonGroup(self)
        self.decision_group.setExclusive(True)
        self.decision_buttons: dict[Decision, QPushButton] = {}
        # Side by side, or one under the other when large text does not fit.
        buttons = ButtonRow(spacing=6)
        self.decision_row = buttons
        for decision in (Decision.ACCEPT, Decision.REVISE, Decision.REJECT):
            label = decision_label(decision)
            key = DECISION_KEYS[decision]
            hint = self.tr(DECISION_HINTS[decision])
            button = QPushButton(f"{label}  ({key})")
            button.setCheckable(True)
            button.setAccessibleName(
                self.tr("{decision} (key {key})").format(decision=label, key=key)
            )
            button.setAccessibleDescription(hint)
            button.setToolTip(self.tr("{hint} Key: {key}").format(hint=hint, key=key))
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            self.decision_group.addButton(button)
            self.decision_buttons[decision] = button
            buttons.add_button(button)
        self.decision_group.buttonToggled.connect(self._on_decision_toggled)
        layout.addWidget(buttons)

        self.revision_box = QWidget()
        revision_layout = QVBoxLayout(self.revision_box)
        revision_layout.setContentsMargins(0, 4, 0, 0)
        revision_layout.setSpacing(8)
        revision_heading = QLabel(self.tr("Which revision is safe? (keys 1–9)"))
        set_text_role(revision_heading, "subheading")
        revision_heading.setWordWrap(True)
        revision_layout.addWidget(revision_heading)
        self.revision_rows = QVBoxLayout()
        self.revision_rows.setSpacing(8)
        revision_layout.addLayout(self.revision_rows)
        self.revision_group = QButtonGroup(self)
        self.revision_group.setExclusive(True)
        self.revision_group.idToggled.connect(lambda *_: self._update_submit())
        self.revision_box.hide()
        layout.addWidget(self.revision_box)

        self.flags_label = QLabel(self.tr("Red &flags you spotted (optional)"))
        set_text_role(self.flags_label, "subheading")
        self.flags_label.setWordWrap(True)
        self.flag_list = FlagChecklist()
        self.flag_list.setAccessibleName(self.tr("Red flags you spotted (optional)"))
        layout.addWidget(self.flags_label)
        layout.addWidget(self.flag_list)

        self.confidence_label = QLabel(self.tr("&Confidence (optional)"))
        set_text_role(self.confidence_label, "subheading")
        self.confidence_label.setWordWrap(True)
        self.confidence_box = ConfidenceBox()
        self.confidence_box.setAccessibleName(self.tr("Confidence (optional)"))
        self.confidence_box.setAccessibleDescription(
            self.tr("How sure you are that your call is right, from 50 to 100 percent.")
        )
        self.confidence_box.popup_shown.connect(self._pause_shortcuts)
        self.confidence_label.setBuddy(self.confidence_box)
        confidence_row = QHBoxLayout()
        confidence_row.addWidget(self.confidence_label, 1)
        confidence_row.addWidget(self.confidence_box, 0)
        layout.addLayout(confidence_row)

        self.submit_button = QPushButton(self.tr("&Submit  (Enter)"))
        self.submit_button.setObjectName("primary")
        self.submit_button.setAccessibleName(self.tr("Submit answer"))
        self.submit_button.setEnabled(False)
        self.submit_button.clicked.connect(self.submit)
        layout.addWidget(self.submit_button)
        self.submit_hint = QLabel(self.tr("Choose Accept, Revise or Reject first."))
        self.submit_hint.setWordWrap(True)
        set_text_role(self.submit_hint, "caption")
        layout.addWidget(self.submit_hint)
        keys = QLabel(
            self.tr(
                "Keys: A accept · V revise · R reject · 1–9 revision · C next check "
                "(Space or Enter runs it) · H hint · Tab to flags and confidence · "
                "Enter submit, then continue"
            )
        )
        keys.setWordWrap(True)
        set_text_role(keys, "caption")
        layout.addWidget(keys)
        outer.addWidget(frame)
        outer.addStretch(1)
        return panel

    def _build_before_card(self) -> QFrame:
        frame, layout = card(self.tr("Check before you decide"))
        self.checks_box = frame
        caption = QLabel(
            self.tr(
                "Optional. A careful engineer verifies before acting; each check costs "
                "simulated minutes, worth it when the change is risky."
            )
        )
        caption.setWordWrap(True)
        set_text_role(caption, "caption")
        layout.addWidget(caption)
        self.check_rows = QVBoxLayout()
        self.check_rows.setSpacing(6)
        layout.addLayout(self.check_rows)
        self.check_time_label = QLabel()
        self.check_time_label.setWordWrap(True)
        set_text_role(self.check_time_label, "caption")
        layout.addWidget(self.check_time_label)
        return frame

    def _build_hint(self, layout: QVBoxLayout, question: QLabel) -> None:
        self.hint_button = QPushButton(self.tr("Hint (H)"))
        self.hint_button.setAccessibleName(self.tr("Hint (key H)"))
        self.hint_button.setAccessibleDescription(
            self.tr(
                "Shows the question to ask about one of the red flags; costs {penalty}."
            ).format(penalty=f"{HINT_PENALTY:g}")
        )
        self.hint_button.setToolTip(
            self.tr("Show a question that points at a red flag (costs {penalty}). Key: H").format(
                penalty=f"{HINT_PENALTY:g}"
            )
        )
        self.hint_button.clicked.connect(self.take_hint)
        row = QHBoxLayout()
        row.addWidget(question, 1)
        row.addWidget(self.hint_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(row)
        self.hint_label = QLabel()
        self.hint_label.setObjectName("hint")
        self.hint_label.setWordWrap(True)
        self.hint_label.setTextFormat(Qt.TextFormat.PlainText)
        set_text_role(self.hint_label, "body")
        self.hint_label.hide()
        layout.addWidget(self.hint_label)

    def _install_shortcuts(self) -> None:
        def add(sequence: QKeySequence, slot: Callable[[], object]) -> None:
            shortcut = QShortcut(sequence, self)
            # Only while the focus is inside the player: typing on other pages is untouched.
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
            self._shortcuts.append(shortcut)

        for decision, key in DECISION_KEYS.items():
            add(QKeySequence(key), functools.partial(self.choose_decision, decision))
        for number in range(1, MAX_NUMBERED_REVISIONS + 1):
            digit = Qt.Key(Qt.Key.Key_0.value + number)
            add(QKeySequence(digit), functools.partial(self.choose_revision, number))
            keypad = Qt.KeyboardModifier.KeypadModifier.value | digit.value
            add(QKeySequence(keypad), functools.partial(self.choose_revision, number))
        add(QKeySequence(CHECK_KEY), self.focus_next_check)
        add(QKeySequence(HINT_KEY), self.take_hint)
        add(QKeySequence(Qt.Key.Key_Return), self.press_enter)
        add(
            QKeySequence(Qt.KeyboardModifier.KeypadModifier.value | Qt.Key.Key_Enter.value),
            self.press_enter,
        )
        add(QKeySequence(Qt.Key.Key_Enter), self.press_enter)

    def _pause_shortcuts(self, paused: bool) -> None:
        # While a drop-down list is open, Enter and letters belong to it.
        for shortcut in self._shortcuts:
            shortcut.setEnabled(not paused)

    def _fit_panel_width(self) -> None:
        bar = self.panel_scroll.verticalScrollBar().sizeHint().width()
        preferred = self.fontMetrics().averageCharWidth() * 56 + bar
        # At most half the page, so that the conversation keeps room with large text;
        # never narrower than the panel's own controls need.
        half = self.width() // 2 if self.isVisible() else preferred
        needed = self.panel.minimumSizeHint().width() + bar
        self.panel_scroll.setFixedWidth(max(needed, min(preferred, half)))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fit_panel_width()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_panel_width()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.panel and event.type() == QEvent.Type.LayoutRequest:
            self._fit_panel_width()
        return super().eventFilter(watched, event)

    # State, for the workspace and tests

    @property
    def phase(self) -> Phase:
        """Where the player is."""
        return self._phase

    @property
    def scenario(self) -> Scenario | None:
        """The scenario being played."""
        return self._scenario

    @property
    def step(self) -> Step | None:
        """The step on screen, if any."""
        if self._scenario is None or self._phase is Phase.DEBRIEF:
            return None
        return self._scenario.steps[self._step_index]

    @property
    def play_id(self) -> str:
        """The id grouping this play's answers."""
        return self._play_id

    @property
    def records(self) -> list[AnswerRecord]:
        """The answers of this play recorded (committed) so far, oldest first."""
        return list(self._records)

    @property
    def revision_order(self) -> list[int]:
        """The file index of the revision shown as number 1, 2, ..."""
        return list(self._revision_order)

    def chosen_decision(self) -> Decision | None:
        """The decision button that is down, if any."""
        for decision, button in self.decision_buttons.items():
            if button.isChecked():
                return decision
        return None

    @property
    def checks_made(self) -> list[str]:
        """Labels of the checks made on this step, in the order made."""
        return list(self._checks_made)

    @property
    def check_minutes(self) -> int:
        """Simulated minutes spent on this step's checks."""
        return self._check_minutes

    @property
    def hint_taken(self) -> bool:
        """Whether the hint was shown on this step."""
        return self._hint_taken

    def chosen_revision_number(self) -> int | None:
        """The on-screen number (1-based) of the chosen revision."""
        checked = self.revision_group.checkedId()
        return checked + 1 if checked >= 0 else None

    # Playing

    def start(self, scenario: Scenario, profile: Profile, track_id: str | None = None) -> None:
        """Play ``scenario`` from its first step for ``profile``."""
        self._scenario = scenario
        self._profile = profile
        self._track_id = track_id or ""
        self._play_id = self._training.new_play_id()
        self._step_index = 0
        self._results = []
        self._records = []
        self._clear_conversation()
        self.title_label.setText(scenario.title)
        self.panel_scroll.show()
        situation_frame, situation_layout = card(self.tr("Situation"))
        situation = self._markdown_view(scenario.situation, self.tr("Situation"))
        situation_layout.addWidget(situation)
        self._show_step(lead=situation_frame)

    def _markdown_view(self, markdown: str, name: str) -> SafeMarkdownView:
        assert self._scenario is not None
        view = SafeMarkdownView(
            self._library.pack_root(self._scenario.pack_id),
            open_url=self._open_url,
            fit_content=True,
        )
        view.setAccessibleName(name)
        # Text is reachable with the mouse and screen readers; Tab stays on the controls.
        view.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        view.set_markdown(markdown)
        return view

    def _append(self, widget: QWidget) -> None:
        self.conversation_layout.insertWidget(self.conversation_layout.count() - 1, widget)
        # Children added to a visible parent are otherwise shown only on the next loop turn.
        if self.conversation.isVisible():
            widget.show()

    def _clear_conversation(self) -> None:
        while self.conversation_layout.count() > 1:
            item = self.conversation_layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()
                widget.deleteLater()
        self._step_feedback = []
        self.continue_button = None
        self.next_scenario_button = None
        self.feedback_view = None
        self.debrief_view = None
        self.verdict_label = None
        self.score_label = None
        self.check_views = []

    def _scroll_to(self, widget: QWidget) -> None:
        def scroll() -> None:
            # The widget may be gone by then (the trainee moved on); skip it if so.
            if shiboken6.isValid(widget) and widget.parent() is not None:
                bar = self.conversation_scroll.verticalScrollBar()
                bar.setValue(max(0, widget.y() - 12))

        QTimer.singleShot(0, scroll)

    def _show_step(self, lead: QWidget | None = None) -> None:
        """Show the current step; ``lead`` (the situation) goes above its suggestion."""
        scenario = self._scenario
        assert scenario is not None
        step = scenario.steps[self._step_index]
        total = len(scenario.steps)
        level = difficulty_name(scenario.difficulty).lower()
        meta = [
            self.tr("Step {number} of {total}").format(number=self._step_index + 1, total=total),
            self.tr("Difficulty: {level}").format(level=level),
        ]
        if scenario.minutes:
            meta.append(self.tr("about {minutes} min").format(minutes=scenario.minutes))
        self.meta_label.setText(" · ".join(meta))

        # The panel first: its width sets the conversation's, so the texts added below
        # are laid out once, at their final width, when they are shown.
        self._reset_decision_panel(step)
        self._fit_panel_width()
        root = self.layout()
        if root is not None and self.isVisible():
            root.activate()
        if lead is not None:
            self._append(lead)
        bubble = self._suggestion_bubble(scenario, step)
        self._append(bubble)
        if self._step_index:
            self._scroll_to(bubble)

        self._phase = Phase.DECIDING
        self._started_at = self._clock()
        self.decision_buttons[Decision.ACCEPT].setFocus(Qt.FocusReason.OtherFocusReason)

    def _suggestion_bubble(self, scenario: Scenario, step: Step) -> QFrame:
        bubble = QFrame()
        bubble.setObjectName("bubble")
        from_assistant = self.tr("Suggestion from {assistant}").format(assistant=scenario.assistant)
        bubble.setAccessibleName(from_assistant)
        row = QHBoxLayout(bubble)
        row.setContentsMargins(14, 12, 14, 12)
        row.setSpacing(12)
        avatar = Avatar(initials(scenario.assistant))
        avatar.setAccessibleName(
            self.tr("{assistant} (assistant)").format(assistant=scenario.assistant)
        )
        row.addWidget(avatar, 0, Qt.AlignmentFlag.AlignTop)
        column = QVBoxLayout()
        column.setSpacing(4)
        name = QLabel(scenario.assistant)
        set_text_role(name, "subheading")
        where = QLabel(
            self.tr("suggests:")
            if len(scenario.steps) == 1
            else self.tr("suggests (step {number} of {total}):").format(
                number=self._step_index + 1, total=len(scenario.steps)
            )
        )
        set_text_role(where, "caption")
        where.setWordWrap(True)
        name_row = QHBoxLayout()
        name_row.setSpacing(6)
        name_row.addWidget(name, 0, Qt.AlignmentFlag.AlignTop)
        name_row.addWidget(where, 1)
        column.addLayout(name_row)
        view = self._markdown_view(bubble_markdown(step.suggestion), from_assistant)
        column.addWidget(view)
        row.addLayout(column, 1)
        self.suggestion_view = view
        return bubble

    def _reset_decision_panel(self, step: Step) -> None:
        self.panel.setEnabled(True)
        self.decision_group.setExclusive(False)
        for button in self.decision_buttons.values():
            button.setChecked(False)
        self.decision_group.setExclusive(True)

        for radio in self.revision_buttons:
            self.revision_group.removeButton(radio)
        while self.revision_rows.count():
            item = self.revision_rows.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.revision_buttons = []
        self._revision_order = list(range(len(step.revisions)))
        self._rng.shuffle(self._revision_order)
        for position, file_index in enumerate(self._revision_order):
            self.revision_rows.addWidget(
                self._revision_row(position, step.revisions[file_index].text)
            )
        self.decision_buttons[Decision.REVISE].setEnabled(bool(step.revisions))
        self.revision_box.hide()

        offered = list(step.flags) + [d for d in step.decoys if d not in step.flags]
        self._rng.shuffle(offered)
        self.flag_list.set_choices(flag_choices(offered, self._library.red_flags))
        has_flags = bool(offered)
        self.flags_label.setVisible(has_flags)
        self.flag_list.setVisible(has_flags)
        if self.flag_list.checkboxes:
            self.flags_label.setBuddy(self.flag_list.checkboxes[0])
        self.confidence_box.setCurrentIndex(0)
        self._reset_checks_and_hint(step)
        self._update_submit()
        self._update_tab_order()

    def _reset_checks_and_hint(self, step: Step) -> None:
        self._checks_made = []
        self._check_minutes = 0
        self._hint_taken = False
        self.check_views = []
        for button in self.check_buttons:
            self.check_rows.removeWidget(button)
            button.hide()
            button.deleteLater()
        self.check_buttons = []
        for check in step.checks:
            button = QPushButton(self._check_button_text(check, made=False))
            button.setAccessibleName(
                self.tr("Run check: {label}, {minutes} simulated minutes").format(
                    label=plain_text(check.label), minutes=check.minutes
                )
            )
            button.setToolTip(
                self.tr("Costs {minutes} simulated minutes. Key C moves here.").format(
                    minutes=check.minutes
                )
            )
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            button.clicked.connect(functools.partial(self.run_check, check))
            self.check_rows.addWidget(button)
            self.check_buttons.append(button)
        self.checks_box.setVisible(bool(step.checks))
        self._update_check_time()
        # Every step offers the hint: offering it only where red flags exist would tell
        # the trainee which suggestions are harmless before they decide.
        self.hint_button.setEnabled(True)
        self.hint_button.setText(self.tr("Hint (H)"))
        self.hint_label.clear()
        self.hint_label.hide()

    def _check_button_text(self, check: Check, *, made: bool) -> str:
        # Labels may carry Markdown code spans; a button shows them as plain words.
        label = plain_text(check.label)
        if made:
            return self.tr("✓ Ran: {label} ({minutes} min)").format(
                label=label, minutes=check.minutes
            )
        return self.tr("Run: {label} ({minutes} min)").format(label=label, minutes=check.minutes)

    def _update_check_time(self) -> None:
        self.check_time_label.setText(
            self.tr("Simulated time spent checking: {minutes} min").format(
                minutes=self._check_minutes
            )
        )

    def run_check(self, check: Check) -> None:
        """Make one of the step's checks (once): show what it reveals, count its minutes."""
        step = self.step
        if self._phase is not Phase.DECIDING or step is None or check not in step.checks:
            return
        if check.label in self._checks_made:
            return
        self._checks_made.append(check.label)
        self._check_minutes += check.minutes
        self._update_check_time()
        button = self.check_buttons[step.checks.index(check)]
        button.setText(self._check_button_text(check, made=True))
        button.setAccessibleName(
            self.tr("Check made: {label}").format(label=plain_text(check.label))
        )
        # A disabled button would hand the focus on by itself; choose where it goes.
        self._focus_after_check(button)
        button.setEnabled(False)

        frame, layout = card()
        heading = QLabel(self.tr("Check: {label}").format(label=plain_text(check.label)))
        heading.setTextFormat(Qt.TextFormat.PlainText)  # content text is never markup here
        heading.setWordWrap(True)
        set_text_role(heading, "heading")
        layout.addWidget(heading)
        cost = QLabel(
            self.tr("{minutes} simulated min · what you found:").format(minutes=check.minutes)
        )
        set_text_role(cost, "caption")
        cost.setWordWrap(True)
        layout.addWidget(cost)
        view = self._markdown_view(
            check.reveals,
            self.tr("What the check revealed: {label}").format(label=plain_text(check.label)),
        )
        layout.addWidget(view)
        self._append(frame)
        self._scroll_to(frame)
        self.check_views.append(view)

    def _focus_after_check(self, made: QPushButton) -> None:
        remaining = [b for b in self.check_buttons if b.isEnabled() and b is not made]
        if remaining:
            position = self.check_buttons.index(made)
            later = [b for b in remaining if self.check_buttons.index(b) > position]
            target = (later or remaining)[0]
        else:
            target = self.decision_buttons[Decision.ACCEPT]
        target.setFocus(Qt.FocusReason.OtherFocusReason)

    def focus_next_check(self) -> None:
        """Move the focus to the next check not made yet (what C does); Space runs it."""
        if self._phase is not Phase.DECIDING:
            return
        open_checks = [b for b in self.check_buttons if b.isEnabled()]
        if not open_checks:
            return
        focused = QApplication.focusWidget()
        if isinstance(focused, QPushButton) and focused in open_checks:
            position = open_checks.index(focused)
            target = open_checks[(position + 1) % len(open_checks)]
        else:
            target = open_checks[0]
        target.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def hint_text(self, step: Step) -> str:
        """The hint for ``step``: the catalogue question of its first true red flag."""
        for flag_id in step.flags:
            flag = self._library.red_flags.get(flag_id)
            if flag is not None:
                return flag.question
        return self.tr(
            "Is there a real reason to doubt this suggestion? Not every suggestion is "
            "dangerous: check what it touches and what it rests on, then decide."
        )

    def take_hint(self) -> None:
        """Show the hint (what H does); taking it costs a little of the step's score."""
        step = self.step
        if self._phase is not Phase.DECIDING or step is None or self._hint_taken:
            return
        self._hint_taken = True
        self.hint_label.setText(self.tr("Hint: {question}").format(question=self.hint_text(step)))
        self.hint_label.show()
        self.hint_button.setText(
            self.tr("Hint taken ({minus}{penalty})").format(
                minus=MINUS, penalty=f"{HINT_PENALTY:g}"
            )
        )
        if self.hint_button.hasFocus():
            self.decision_buttons[Decision.ACCEPT].setFocus(Qt.FocusReason.OtherFocusReason)
        self.hint_button.setEnabled(False)

    def _revision_row(self, position: int, text: str) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        number = position + 1
        button = QRadioButton(str(number) if number <= MAX_NUMBERED_REVISIONS else "")
        button.setAccessibleName(
            self.tr("Revision {number}: {text}").format(number=number, text=plain_text(text))
        )
        self.revision_group.addButton(button, position)
        label = ClickableLabel()
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setText(render_markdown(text))
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        label.clicked.connect(button.click)
        label.setBuddy(button)
        label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        layout.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(label, 1)
        self.revision_buttons.append(button)
        return row

    def _update_tab_order(self) -> None:
        chain: list[QWidget] = [*self.check_buttons, self.hint_button]
        chain += self.decision_buttons.values()
        chain += self.revision_buttons
        chain += [*self.flag_list.focus_chain(), self.confidence_box, self.submit_button]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)

    def choose_decision(self, decision: Decision) -> None:
        """Press a decision button (what A, V and R do)."""
        if self._phase is not Phase.DECIDING:
            return
        button = self.decision_buttons[decision]
        if button.isEnabled():
            button.setChecked(True)

    def choose_revision(self, number: int) -> None:
        """Choose the revision shown as ``number`` (what 1-9 do) while revising."""
        if self._phase is not Phase.DECIDING or self.chosen_decision() is not Decision.REVISE:
            return
        if 1 <= number <= len(self.revision_buttons):
            button = self.revision_buttons[number - 1]
            button.setChecked(True)
            button.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _on_decision_toggled(self, _button: object, _checked: bool) -> None:
        for decision, button in self.decision_buttons.items():
            # A tick as well as the colour shows which call is chosen.
            mark = "✓ " if button.isChecked() else ""
            button.setText(f"{mark}{decision_label(decision)}  ({DECISION_KEYS[decision]})")
        revising = self.chosen_decision() is Decision.REVISE
        self.revision_box.setVisible(revising)
        if not revising and self.revision_group.checkedButton() is not None:
            self.revision_group.setExclusive(False)
            for radio in self.revision_buttons:
                radio.setChecked(False)
            self.revision_group.setExclusive(True)
        self._update_submit()

    def _update_submit(self) -> None:
        decision = self.chosen_decision()
        if decision is None:
            ready, hint = False, self.tr("Choose Accept, Revise or Reject first.")
        elif decision is Decision.REVISE and self.revision_group.checkedId() < 0:
            ready, hint = False, self.tr("Pick the revision you would apply.")
        else:
            ready = True
            hint = self.tr("Ready: press Enter or Submit. Flags and confidence are optional.")
        self.submit_button.setEnabled(ready and self._phase is Phase.DECIDING)
        self.submit_hint.setText(hint)

    def press_enter(self) -> None:
        """Enter: submit while deciding, then continue, then go to the next scenario.

        On any other button with the focus (a check, the hint, "Back to home"), Enter
        presses that button instead, as a keyboard user expects.
        """
        focused = QApplication.focusWidget()
        if (
            isinstance(focused, QPushButton)
            and self.isAncestorOf(focused)
            and focused.isEnabled()
            and focused not in self.decision_buttons.values()
        ):
            focused.click()
            return
        if self._phase is Phase.DECIDING:
            if self.submit_button.isEnabled():
                self.submit()
        elif self._phase is Phase.FEEDBACK:
            self.continue_()
        elif self._phase is Phase.DEBRIEF:
            if self.next_scenario_button is not None and self.next_scenario_button.isEnabled():
                self.next_scenario_button.click()
            else:
                self.home_requested.emit()

    def current_answer(self) -> StepAnswer | None:
        """The answer the panel holds now, or ``None`` when it is not complete."""
        decision = self.chosen_decision()
        if decision is None:
            return None
        revision_index = None
        if decision is Decision.REVISE:
            position = self.revision_group.checkedId()
            if position < 0:
                return None
            revision_index = self._revision_order[position]
        return StepAnswer(
            decision,
            revision_index=revision_index,
            # Nothing ticked means the trainee did not say; the record keeps "not given".
            flags=self.flag_list.stated_flags(),
            confidence=self.confidence_box.confidence(),
            seconds=max(0.0, self._clock() - self._started_at),
            checks_made=tuple(self._checks_made),
            check_minutes=self._check_minutes,
            hint_taken=self._hint_taken,
        )

    def submit(self) -> None:
        """Record the answer (committed), then show what it led to."""
        scenario, profile, step = self._scenario, self._profile, self.step
        if self._phase is not Phase.DECIDING or scenario is None or profile is None or step is None:
            return
        answer = self.current_answer()
        if answer is None:
            return
        recorded = call_service(
            self,
            "save your answer",
            lambda: self._record(profile, scenario, step, answer),
        )
        if recorded is None:
            return  # nothing was saved; the trainee can submit again
        record, outcome = recorded.record, recorded.outcome
        self._results.append((step, answer, outcome))
        self._records.append(record)
        self._phase = Phase.FEEDBACK
        self.panel.setEnabled(False)
        self.submit_button.setEnabled(False)
        self.answer_recorded.emit(scenario.id, step.id)
        self._show_feedback(step, answer, outcome, record)
        if recorded.queued:
            self._note_queued()

    def _record(
        self, profile: Profile, scenario: Scenario, step: Step, answer: StepAnswer
    ) -> RecordedAnswer:
        if self._recorder is not None:
            return self._recorder.record(profile, scenario, step, answer, self._play_id)
        record, outcome = self._training.record_answer(
            profile, scenario, step, answer, self._play_id
        )
        return RecordedAnswer(record, outcome)

    def _note_queued(self) -> None:
        """Say, under the verdict, that the answer waits on this computer for the server."""
        self.queued_label = queued_note()
        frame_layout = self._step_feedback[0].layout() if self._step_feedback else None
        if frame_layout is not None:
            frame_layout.addWidget(self.queued_label)
            self.queued_label.show()  # else shown only on the next turn of the event loop
        else:
            self._append(self.queued_label)

    def score_lines(self, score: StepScore, record: AnswerRecord) -> list[str]:
        """The step's score and its parts, in words."""
        lines = [self.tr("Step score: {total} of 1").format(total=f"{score.total:.2f}")]
        credit = score.decision_credit
        if credit >= 1.0:
            lines.append(self.tr("Decision: full credit (1)."))
        elif credit > 0:
            lines.append(
                self.tr("Decision: half credit ({credit:g}): safe, but not the best call.").format(
                    credit=credit
                )
            )
        else:
            lines.append(self.tr("Decision: no credit (0), so the red flags do not count."))
        if credit > 0:
            quality = FLAGS_NOT_GIVEN_QUALITY if score.flag_quality is None else score.flag_quality
            cost = credit * FLAG_WEIGHT * (1 - quality)
            if score.flag_quality is None:
                lines.append(
                    self.tr("Red flags: not given, counted as half right: {minus}{cost}.").format(
                        minus=MINUS, cost=f"{cost:.2f}"
                    )
                )
            elif cost > 0:
                lines.append(
                    self.tr(
                        "Red flags: {quality} of 1 for the flags you named: {minus}{cost}."
                    ).format(quality=f"{score.flag_quality:.2f}", minus=MINUS, cost=f"{cost:.2f}")
                )
            else:
                lines.append(self.tr("Red flags: all right, nothing taken off."))
        if score.check_adjustment > 0:
            lines.append(
                self.tr("Checks: +{bonus} for checking before blocking a harmful change.").format(
                    bonus=f"{score.check_adjustment:.2f}"
                )
            )
        elif score.check_adjustment < 0:
            lines.append(
                self.tr(
                    "Checks: {minus}{cost} for {minutes} simulated min spent checking a "
                    "good change."
                ).format(
                    minus=MINUS, cost=f"{-score.check_adjustment:.2f}", minutes=record.check_minutes
                )
            )
        elif record.checks_made:
            lines.append(
                self.tr("Checks: no change (checking earns credit only before a right call).")
            )
        if score.hint_penalty:
            lines.append(
                self.tr("Hint taken: {minus}{penalty}").format(
                    minus=MINUS, penalty=f"{score.hint_penalty:g}"
                )
            )
        return lines

    def _show_feedback(
        self, step: Step, answer: StepAnswer, outcome: StepOutcome, record: AnswerRecord
    ) -> None:
        scenario = self._scenario
        assert scenario is not None
        verdict = QFrame()
        verdict.setObjectName("verdict")
        verdict.setProperty("verdict", verdict_style(outcome.verdict))
        verdict_layout = QVBoxLayout(verdict)
        verdict_layout.setContentsMargins(16, 12, 16, 12)
        verdict_layout.setSpacing(4)
        self.verdict_label = QLabel(verdict_text(outcome.verdict))
        set_text_role(self.verdict_label, "verdict")
        self.verdict_label.setWordWrap(True)
        details = [
            self.tr("You chose {choice}.").format(choice=choice_text(answer)),
            self.tr("The right call: {answer}.").format(answer=right_call_text(step)),
        ]
        confidence = (
            self.tr("{percent} %").format(percent=answer.confidence)
            if answer.confidence is not None
            else self.tr("not given")
        )
        details.append(self.tr("Confidence: {confidence}.").format(confidence=confidence))
        detail_label = QLabel(" ".join(details))
        detail_label.setWordWrap(True)
        set_text_role(detail_label, "body")
        self.score_label = QLabel("\n".join(self.score_lines(step_score(record), record)))
        self.score_label.setWordWrap(True)
        self.score_label.setTextFormat(Qt.TextFormat.PlainText)
        set_text_role(self.score_label, "body")
        verdict_layout.addWidget(self.verdict_label)
        verdict_layout.addWidget(detail_label)
        verdict_layout.addWidget(self.score_label)
        repolish(verdict)

        consequence_frame, consequence_layout = card()
        self.feedback_view = self._markdown_view(
            consequence_markdown(step, answer, outcome, self._library.red_flags),
            self.tr("What your choice led to"),
        )
        consequence_layout.addWidget(self.feedback_view)

        last = self._step_index == len(scenario.steps) - 1
        continue_row = QWidget()
        row_layout = QHBoxLayout(continue_row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.addStretch(1)
        self.continue_button = QPushButton(
            self.tr("See the &debrief  (Enter)") if last else self.tr("&Next step  (Enter)")
        )
        self.continue_button.setObjectName("primary")
        self.continue_button.setAccessibleName(
            self.tr("See the debrief") if last else self.tr("Next step")
        )
        self.continue_button.clicked.connect(self.continue_)
        row_layout.addWidget(self.continue_button)

        for widget in (verdict, consequence_frame, continue_row):
            self._append(widget)
        self._step_feedback = [verdict, consequence_frame, continue_row]
        self._scroll_to(verdict)
        self.continue_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def continue_(self) -> None:
        """After the feedback: the next step, or the debrief after the last one."""
        scenario = self._scenario
        if self._phase is not Phase.FEEDBACK or scenario is None:
            return
        _step, answer, outcome = self._results[-1]
        for widget in self._step_feedback:
            self.conversation_layout.removeWidget(widget)
            widget.hide()
            widget.deleteLater()
        self._step_feedback = []
        self.continue_button = None
        summary = QLabel(step_summary(self._step_index + 1, answer, outcome))
        set_text_role(summary, "caption")
        summary.setWordWrap(True)
        self._append(summary)
        if self._step_index + 1 < len(scenario.steps):
            self._step_index += 1
            self._show_step()
        else:
            self._show_debrief()

    def _show_debrief(self) -> None:
        scenario = self._scenario
        assert scenario is not None
        self._phase = Phase.DEBRIEF
        self.meta_label.setText(self.tr("Debrief"))
        self.panel_scroll.hide()
        self._clear_conversation()

        right = sum(outcome.correct for _, _, outcome in self._results)
        frame, layout = card(self.tr("Debrief"))
        score = QLabel(score_sentence(right, len(self._results)))
        set_text_role(score, "subheading")
        score.setWordWrap(True)
        layout.addWidget(score)
        if self._records:
            mean = sum(step_score(r).total for r in self._records) / len(self._records)
            self.play_score_label = QLabel(
                self.tr("Score for this play: {score} %").format(score=round(mean * 100))
            )
            set_text_role(self.play_score_label, "body")
            layout.addWidget(self.play_score_label)
        for number, (_step, answer, outcome) in enumerate(self._results, start=1):
            line = QLabel(step_summary(number, answer, outcome))
            set_text_role(line, "caption")
            line.setWordWrap(True)
            layout.addWidget(line)
        self.debrief_view = self._markdown_view(debrief_markdown(scenario), self.tr("Debrief"))
        # The debrief holds the source links, so keyboard users must be able to reach it.
        self.debrief_view.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        layout.addWidget(self.debrief_view)

        buttons = QHBoxLayout()
        # The header's "Back to &home" owns the mnemonic; this one is reached by Tab.
        home = QPushButton(self.tr("Back to home"))
        home.clicked.connect(self.home_requested)
        next_id = self.next_scenario_id()
        self.next_scenario_button = None
        if next_id is not None:
            title = self._library.scenarios[next_id].title
            upcoming = QLabel(self.tr("Next: {title}").format(title=title))
            self.next_scenario_button = QPushButton(self.tr("&Next scenario  (Enter)"))
            self.next_scenario_button.setToolTip(title)
            self.next_scenario_button.setAccessibleName(
                self.tr("Next scenario: {title}").format(title=title)
            )
            self.next_scenario_button.setObjectName("primary")
            self.next_scenario_button.clicked.connect(
                lambda: self.scenario_requested.emit(next_id, self._track_id)
            )
            focus: QPushButton = self.next_scenario_button
        else:
            upcoming = QLabel(self.tr("That was the last scenario here."))
            focus = home
        set_text_role(upcoming, "caption")
        upcoming.setWordWrap(True)
        buttons.addWidget(upcoming, 1)
        buttons.addWidget(home)
        if self.next_scenario_button is not None:
            buttons.addWidget(self.next_scenario_button)
        layout.addLayout(buttons)
        self._append(frame)
        if self.next_scenario_button is not None:
            QWidget.setTabOrder(home, self.next_scenario_button)
        self.conversation_scroll.verticalScrollBar().setValue(0)
        focus.setFocus(Qt.FocusReason.OtherFocusReason)

    def next_scenario_id(self) -> str | None:
        """The scenario after this one: in the current track, else in the catalogue."""
        scenario = self._scenario
        if scenario is None:
            return None
        track = self._library.tracks.get(self._track_id)
        if track is not None:
            order = [s for s in track.scenario_ids if s in self._library.scenarios]
        else:
            order = catalogue_order(self._library)
        if scenario.id not in order:
            return None
        position = order.index(scenario.id)
        return order[position + 1] if position + 1 < len(order) else None

    def leave(self) -> None:
        """Stop playing (the answers given so far are already kept)."""
        self._phase = Phase.IDLE
