"""A read-only Markdown view that never loads anything from outside its own pack.

Its colours follow the application's theme: when the theme changes, the document is
styled again and re-rendered.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from pathlib import Path

from pygments.formatters import HtmlFormatter  # type: ignore[import-untyped]
from PySide6.QtCore import QEvent, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QImage, QResizeEvent, QShowEvent, QTextDocument
from PySide6.QtWidgets import QFrame, QSizePolicy, QTextBrowser, QWidget

from app.content.render import (
    HIGHLIGHT_CLASS,
    highlight_css,
    render_markdown,
    resolve_pack_resource,
)
from app.ui.style import Theme, markdown_css
from app.ui.themes import application_theme, is_dark

UrlOpener = Callable[[QUrl], object]

WEB_SCHEMES = frozenset({"http", "https"})
# Code on a dark ground: a dark highlighting style, and diff lines shaded to match.
DARK_CODE_STYLE = "github-dark"
_DARK_DIFF_CSS = f"""
.{HIGHLIGHT_CLASS} .gi {{ background-color: #12361f; color: #aff5b4; }}
.{HIGHLIGHT_CLASS} .gd {{ background-color: #4a1a1f; color: #ffdcd7; }}
"""


def code_css(theme: Theme) -> str:
    """CSS for highlighted code that reads well on ``theme``'s colours."""
    css = highlight_css()
    if is_dark(theme):
        dark = HtmlFormatter(style=DARK_CODE_STYLE).get_style_defs(f".{HIGHLIGHT_CLASS}")
        background = f".{HIGHLIGHT_CLASS} {{ background-color: {theme.surface_alt}; }}"
        css += str(dark) + _DARK_DIFF_CSS + background
    return css


@functools.lru_cache(maxsize=8)
def document_css(theme: Theme) -> str:
    """The default style sheet of a view's document on ``theme`` (code, then Markdown).

    Kept per theme: building Pygments' style rules takes longer than rendering a block.
    """
    return code_css(theme) + markdown_css(theme)


def open_in_browser(url: QUrl) -> bool:
    """The default opener: hand the link to the desktop's web browser."""
    return QDesktopServices.openUrl(url)


class SafeMarkdownView(QTextBrowser):
    """Shows rendered, sanitised Markdown.

    Resources (images) load only from inside ``pack_root``; nothing remote or outside
    the pack is ever read. Links are not followed by the view: a web link is handed to
    ``open_url`` when clicked, an in-page anchor scrolls, anything else is ignored.

    With ``fit_content`` the view has no scroll bar of its own and takes the height of
    its document, for use inside a scrolling page.

    Signals:
        link_opened(QUrl): a web link was clicked and handed to the opener.
    """

    link_opened = Signal(QUrl)

    def __init__(
        self,
        pack_root: Path | None = None,
        *,
        open_url: UrlOpener = open_in_browser,
        fit_content: bool = False,
        max_line_chars: int | None = None,
        theme: Theme | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """``theme`` fixes the colours; without it they follow the application's theme."""
        super().__init__(parent)
        self._fixed_theme = theme
        self._styled_with: Theme | None = None
        self._markdown: str | None = None
        self._pack_root = pack_root
        self._open_url = open_url
        self._fit_content = fit_content
        self._max_line_chars = max_line_chars
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setReadOnly(True)
        self._style_document()
        self.document().setDocumentMargin(2 if fit_content else 10)
        self.anchorClicked.connect(self._on_anchor_clicked)
        if fit_content:
            self.setObjectName("embedded")
            self.setFrameShape(QFrame.Shape.NoFrame)
            self.setVerticalScrollBarPolicy(self.verticalScrollBarPolicy().ScrollBarAlwaysOff)
            self.setHorizontalScrollBarPolicy(self.horizontalScrollBarPolicy().ScrollBarAlwaysOff)
            self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            self.document().documentLayout().documentSizeChanged.connect(self._fit_height)

    @property
    def pack_root(self) -> Path | None:
        """The folder resources may load from; ``None`` allows no resources at all."""
        return self._pack_root

    def set_pack_root(self, pack_root: Path | None) -> None:
        """Change the folder that resources may load from."""
        self._pack_root = pack_root

    def set_markdown(self, text: str, pack_root: Path | None = None) -> None:
        """Render ``text`` (Markdown) safely and show it; optionally switch pack first."""
        if pack_root is not None:
            self._pack_root = pack_root
        self._markdown = text
        self.setHtml(render_markdown(text))
        if self._fit_content:
            self._fit_height()

    @property
    def theme(self) -> Theme:
        """The theme whose colours the document is styled with."""
        return self._fixed_theme or application_theme()

    def _style_document(self) -> None:
        theme = self.theme
        self._styled_with = theme
        self.document().setDefaultStyleSheet(document_css(theme))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        changed = event.type() in (QEvent.Type.PaletteChange, QEvent.Type.StyleChange)
        if changed and self.theme != self._styled_with:
            self._style_document()
            if self._markdown is not None:
                # The default style sheet applies to new HTML only: render it again.
                position = self.verticalScrollBar().value()
                self.set_markdown(self._markdown)
                self.verticalScrollBar().setValue(position)

    def loadResource(self, resource_type: int, name: QUrl | str) -> object:
        """Load only relative resources that resolve inside the pack; refuse the rest."""
        url = name if isinstance(name, QUrl) else QUrl(name)
        if self._pack_root is None or url.scheme() or url.host() or url.isLocalFile():
            return None
        path = url.path()
        if not path or path.startswith("/"):
            return None
        resolved = resolve_pack_resource(self._pack_root, path)
        if resolved is None:
            return None
        try:
            data = resolved.read_bytes()
        except OSError:
            return None
        if resource_type == QTextDocument.ResourceType.ImageResource.value:
            image = QImage()
            return image if image.loadFromData(data) else None
        # Style sheets, nested HTML and anything else are never taken from content.
        return None

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._max_line_chars:
            # Long lines are hard to read: cap the measure, never wider than the view.
            cap = self.fontMetrics().averageCharWidth() * self._max_line_chars
            self.setLineWrapMode(QTextBrowser.LineWrapMode.FixedPixelWidth)
            self.setLineWrapColumnOrWidth(min(cap, self.viewport().width()))
        if self._fit_content:
            self._fit_height()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._fit_content:
            self._fit_height()

    def _fit_height(self, *_: object) -> None:
        if not self.isVisible():
            # Fitted when shown: a hidden view's width is not final yet, and every
            # layout of the document at a passing width is wasted.
            return
        document = self.document()
        width = self.viewport().width()
        if document.textWidth() != width:
            # Lays the whole document out again, so only when the width changed.
            document.setTextWidth(width)
        height = math.ceil(document.size().height()) + 2 * self.frameWidth() + 2
        if height != self.height():
            self.setFixedHeight(height)

    def _on_anchor_clicked(self, url: QUrl) -> None:
        scheme = url.scheme().lower()
        if scheme in WEB_SCHEMES:
            self._open_url(url)
            self.link_opened.emit(url)
        elif not scheme and not url.path() and url.fragment():
            self.scrollToAnchor(url.fragment())
        # Every other scheme (file, javascript, mailto, data, ...) is ignored on purpose.
