"""A view that fits its content takes its document's height, however it was filled.

The view is fitted when it is shown and whenever its width or text changes, never while
hidden (its width is not final then); these tests check the height it ends with.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.ui.markdown_view import SafeMarkdownView, document_css
from app.ui.style import Theme

TEXT = "\n\n".join(
    f"Paragraph {number}: the assistant suggests widening the role to fix the deploy, "
    "which touches far more than the failing job needs."
    for number in range(6)
)


def _fitted(view: SafeMarkdownView) -> bool:
    document = view.document()
    expected = math.ceil(document.size().height()) + 2 * view.frameWidth() + 2
    return document.textWidth() == view.viewport().width() and view.height() == expected


def _page(qtbot: Any, width: int) -> tuple[QWidget, QVBoxLayout]:
    page = QWidget()
    qtbot.addWidget(page)
    layout = QVBoxLayout(page)
    page.resize(width, 900)
    return page, layout


def test_a_view_filled_while_hidden_fits_when_shown(qtbot: Any) -> None:
    page, layout = _page(qtbot, 700)
    view = SafeMarkdownView(fit_content=True)
    view.set_markdown(TEXT)
    layout.addWidget(view)
    layout.addStretch(1)
    page.show()
    qtbot.waitExposed(page)
    assert _fitted(view)
    assert view.verticalScrollBar().maximum() == 0, "no line is hidden"


def test_a_narrower_view_grows_taller(qtbot: Any) -> None:
    page, layout = _page(qtbot, 900)
    view = SafeMarkdownView(fit_content=True)
    layout.addWidget(view)
    layout.addStretch(1)
    page.show()
    qtbot.waitExposed(page)
    view.set_markdown(TEXT)
    assert _fitted(view)
    wide = view.height()
    page.resize(400, 900)
    qtbot.waitUntil(lambda: view.viewport().width() < 400)
    assert _fitted(view)
    assert view.height() > wide


def test_new_text_in_a_shown_view_refits_it(qtbot: Any) -> None:
    page, layout = _page(qtbot, 700)
    view = SafeMarkdownView(fit_content=True)
    layout.addWidget(view)
    layout.addStretch(1)
    page.show()
    qtbot.waitExposed(page)
    view.set_markdown("One line.")
    short = view.height()
    view.set_markdown(TEXT)
    assert _fitted(view)
    assert view.height() > short
    view.set_markdown("One line.")
    assert view.height() == short


def test_the_style_sheet_is_built_once_per_theme() -> None:
    light, dark = Theme(), Theme(window="#101010", surface="#181818", text="#f0f0f0")
    assert document_css(light) is document_css(light)
    assert document_css(dark) != document_css(light)


def test_text_set_while_hidden_fits_when_shown_again(qtbot: Any) -> None:
    page, layout = _page(qtbot, 700)
    view = SafeMarkdownView(fit_content=True)
    layout.addWidget(view)
    layout.addStretch(1)
    page.show()
    qtbot.waitExposed(page)
    view.set_markdown("One line.")
    view.hide()
    view.set_markdown(TEXT)
    view.show()
    assert _fitted(view)
    assert view.verticalScrollBar().maximum() == 0
