"""The look of Think Twice: a light palette, a restrained stylesheet and text roles.

Colours live in one ``Theme`` so that a dark or high-contrast theme is another value of
it. Type sizes are never fixed in the stylesheet: widgets carry a text role and get a
point size relative to the application font, so scaling the application font scales
everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory, QWidget

TEXT_ROLE_PROPERTY = "textRole"

# Point size of each text role relative to the application font.
TEXT_ROLE_SCALE: dict[str, tuple[float, bool]] = {
    "title": (1.55, True),
    "heading": (1.2, True),
    "subheading": (1.0, True),
    "verdict": (1.3, True),
    "body": (1.0, False),
    "caption": (0.9, False),
    "avatar": (0.95, True),
    "badge": (0.9, True),
}


@dataclass(frozen=True, slots=True)
class Theme:
    """The colours of one theme; the stylesheet is built from them."""

    window: str = "#f4f5f7"
    surface: str = "#ffffff"
    surface_alt: str = "#eef1f5"
    text: str = "#1d232b"
    muted_text: str = "#535d6b"
    border: str = "#cfd5dd"
    accent: str = "#2b5f8f"
    accent_text: str = "#ffffff"
    accent_soft: str = "#d3e2f0"
    progress: str = "#a9c4de"
    focus: str = "#c2410c"
    bubble: str = "#f1f5fa"
    bubble_border: str = "#b8c8da"
    avatar: str = "#3d6f99"
    right: str = "#1e6b34"
    right_soft: str = "#e5f3e8"
    wrong: str = "#a3261c"
    wrong_soft: str = "#fbe9e7"
    caution: str = "#805300"
    caution_soft: str = "#fdf3dc"


LIGHT = Theme()


def build_palette(theme: Theme) -> QPalette:
    """A QPalette matching ``theme``, so unstyled widgets agree with the stylesheet."""
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: theme.window,
        QPalette.ColorRole.WindowText: theme.text,
        QPalette.ColorRole.Base: theme.surface,
        QPalette.ColorRole.AlternateBase: theme.surface_alt,
        QPalette.ColorRole.Text: theme.text,
        QPalette.ColorRole.Button: theme.surface,
        QPalette.ColorRole.ButtonText: theme.text,
        QPalette.ColorRole.Highlight: theme.accent,
        QPalette.ColorRole.HighlightedText: theme.accent_text,
        QPalette.ColorRole.ToolTipBase: theme.surface,
        QPalette.ColorRole.ToolTipText: theme.text,
        QPalette.ColorRole.PlaceholderText: theme.muted_text,
        QPalette.ColorRole.Link: theme.accent,
        QPalette.ColorRole.Mid: theme.border,
    }
    for role, colour in roles.items():
        palette.setColor(role, QColor(colour))
    disabled = QPalette.ColorGroup.Disabled
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(disabled, role, QColor(theme.muted_text))
    palette.setColor(disabled, QPalette.ColorRole.WindowText, QColor(theme.muted_text))
    return palette


def build_stylesheet(theme: Theme) -> str:
    """The application stylesheet: colours, borders and spacing; no font sizes."""
    t = theme
    return f"""
QMainWindow, QDialog {{ background: {t.window}; }}
QToolBar#navigation {{
    background: {t.surface}; border: none; border-bottom: 1px solid {t.border};
    spacing: 4px; padding: 4px 8px;
}}
QToolBar#navigation QToolButton {{
    padding: 6px 12px; border-radius: 6px; border: 2px solid transparent;
    color: {t.text};
}}
QToolBar#navigation QToolButton:checked {{ background: {t.accent_soft}; }}
QToolBar#navigation QToolButton:hover {{ background: {t.surface_alt}; }}
QToolBar#navigation QToolButton:focus {{ border-color: {t.focus}; }}
QToolBar#navigation QToolButton#qt_toolbar_ext_button {{ padding: 0; }}
QStatusBar {{ background: {t.surface}; border-top: 1px solid {t.border}; color: {t.muted_text}; }}
QStatusBar QLabel {{ color: {t.muted_text}; padding: 0 8px; }}
QFrame#card {{
    background: {t.surface}; border: 1px solid {t.border}; border-radius: 10px;
}}
QFrame#bubble {{
    background: {t.bubble}; border: 1px solid {t.bubble_border}; border-radius: 12px;
}}
QLabel#avatar {{
    background: {t.avatar}; color: {t.accent_text}; border-radius: 8px;
    padding: 6px 4px;
}}
QLabel[textRole="caption"] {{ color: {t.muted_text}; }}
QLabel#errorText {{ color: {t.wrong}; }}
QLabel#hint {{
    background: {t.accent_soft}; color: {t.text}; border-radius: 6px; padding: 6px 8px;
}}
QLabel#badge {{
    background: {t.caution_soft}; color: {t.caution}; border: 1px solid {t.caution};
    border-radius: 6px; padding: 1px 6px;
}}
QFrame#verdict[verdict="right"] {{
    background: {t.right_soft}; border: 1px solid {t.right}; border-radius: 10px;
}}
QFrame#verdict[verdict="wrong"] {{
    background: {t.wrong_soft}; border: 1px solid {t.wrong}; border-radius: 10px;
}}
QFrame#verdict[verdict="caution"] {{
    background: {t.caution_soft}; border: 1px solid {t.caution}; border-radius: 10px;
}}
QFrame#verdict[verdict="right"] QLabel {{ color: {t.right}; }}
QFrame#verdict[verdict="wrong"] QLabel {{ color: {t.wrong}; }}
QFrame#verdict[verdict="caution"] QLabel {{ color: {t.caution}; }}
QFrame#verdict QLabel[textRole="body"] {{ color: {t.text}; }}
QPushButton {{
    background: {t.surface}; color: {t.text}; border: 1px solid {t.border};
    border-radius: 6px; padding: 6px 14px;
}}
QPushButton:hover {{ background: {t.surface_alt}; }}
QPushButton:checked {{
    background: {t.accent}; color: {t.accent_text}; border-color: {t.accent};
}}
QPushButton:disabled {{ color: {t.muted_text}; background: {t.surface_alt}; }}
QPushButton:checked:disabled {{
    background: {t.accent_soft}; color: {t.text}; border: 1px solid {t.accent};
}}
QPushButton:focus {{ border: 2px solid {t.focus}; padding: 5px 13px; }}
QPushButton#primary {{
    background: {t.accent}; color: {t.accent_text}; border-color: {t.accent};
}}
QPushButton#primary:disabled {{
    background: {t.surface_alt}; color: {t.muted_text}; border-color: {t.border};
}}
QPushButton#primary:focus {{ border: 2px solid {t.focus}; padding: 5px 13px; }}
QComboBox, QLineEdit {{
    background: {t.surface}; border: 1px solid {t.border}; border-radius: 6px;
    padding: 4px 8px;
}}
QComboBox:focus, QLineEdit:focus {{ border: 2px solid {t.focus}; padding: 3px 7px; }}
QComboBox::drop-down {{
    subcontrol-origin: padding; subcontrol-position: center right; width: 18px; border: none;
}}
QTreeView, QListView, QTableView, QTextBrowser, QTextEdit, QPlainTextEdit {{
    background: {t.surface}; border: 1px solid {t.border}; border-radius: 8px;
}}
QTreeView:focus, QListView:focus, QTableView:focus, QTextBrowser:focus, QTextEdit:focus,
QPlainTextEdit:focus {{ border: 2px solid {t.focus}; }}
QTreeView::item, QListView::item {{ padding: 4px 2px; }}
QHeaderView::section {{
    background: {t.surface_alt}; color: {t.muted_text}; border: none;
    border-bottom: 1px solid {t.border}; padding: 4px 6px;
}}
QGraphicsView {{ background: {t.surface}; border: 1px solid transparent; }}
QGraphicsView:focus {{ border: 2px solid {t.focus}; }}
QPlainTextEdit#numbers {{ background: transparent; border: 2px solid transparent; }}
QPlainTextEdit#numbers:focus {{ border: 2px dotted {t.focus}; }}
QTextBrowser#embedded {{ background: transparent; border: none; }}
QTextBrowser#embedded:focus {{ border: 2px dotted {t.focus}; }}
QRadioButton, QCheckBox {{ border: 2px solid transparent; border-radius: 4px; padding: 1px; }}
QRadioButton:focus, QCheckBox:focus {{ border-color: {t.focus}; }}
QToolButton:focus {{ border: 2px solid {t.focus}; border-radius: 6px; }}
QAbstractSpinBox {{
    background: {t.surface}; color: {t.text}; border: 1px solid {t.border};
    border-radius: 6px; padding: 3px 6px;
}}
QAbstractSpinBox:focus {{ border: 2px solid {t.focus}; padding: 2px 5px; }}
QTabWidget::pane {{ border: 1px solid {t.border}; border-radius: 6px; top: -1px; }}
QTabBar::tab {{
    background: {t.surface_alt}; color: {t.text}; border: 2px solid transparent;
    border-top-left-radius: 6px; border-top-right-radius: 6px; padding: 5px 12px;
}}
QTabBar::tab:selected {{ background: {t.surface}; border-color: {t.border}; }}
QTabBar::tab:selected:focus {{ border-color: {t.focus}; }}
QProgressBar {{
    background: {t.surface_alt}; border: 1px solid {t.border}; border-radius: 5px;
    text-align: center; color: {t.text};
}}
QProgressBar::chunk {{ background: {t.progress}; border-radius: 4px; }}
QScrollArea {{ background: transparent; border: none; }}
QScrollArea > QWidget#qt_scrollarea_viewport {{ background: transparent; }}
QWidget#conversation, QWidget#decisionPanel, QWidget#sideColumn {{
    background: transparent;
}}
QScrollBar:vertical {{ background: transparent; width: 12px; margin: 0; }}
QScrollBar::handle:vertical {{
    background: {t.border}; border-radius: 5px; min-height: 32px; margin: 2px;
}}
QScrollBar::handle:vertical:hover {{ background: {t.muted_text}; }}
QScrollBar::add-line:vertical, QScrollBar::sub-line:vertical {{ height: 0; }}
QScrollBar::add-page:vertical, QScrollBar::sub-page:vertical {{ background: transparent; }}
"""


def markdown_css(theme: Theme) -> str:
    """CSS for rendered Markdown (Qt's rich-text subset); goes after Pygments' own."""
    t = theme
    return f"""
body {{ color: {t.text}; }}
p, li {{ line-height: 125%; }}
a {{ color: {t.accent}; }}
h1, h2, h3, h4 {{ color: {t.text}; }}
code {{ background-color: {t.surface_alt}; font-family: monospace; }}
pre {{
    background-color: {t.surface_alt}; font-family: monospace; line-height: 100%;
    white-space: pre-wrap;
}}
pre code {{ background-color: transparent; }}
th {{ background-color: {t.surface_alt}; }}
td, th {{ padding: 3px 6px; }}
blockquote {{ color: {t.muted_text}; }}
"""


def apply_theme(app: QApplication, theme: Theme = LIGHT) -> None:
    """Give the whole application the Fusion style, ``theme``'s palette and stylesheet."""
    fusion = QStyleFactory.create("Fusion")
    if fusion is not None:
        app.setStyle(fusion)
    app.setPalette(build_palette(theme))
    app.setStyleSheet(build_stylesheet(theme))


def role_font(role: str, base: QFont | None = None) -> QFont:
    """The font for a text role, relative to ``base`` (default: the application font)."""
    font = QFont(base if base is not None else QGuiApplication.font())
    scale, bold = TEXT_ROLE_SCALE.get(role, (1.0, False))
    size = font.pointSizeF()
    if size > 0:
        font.setPointSizeF(size * scale)
    font.setBold(bold)
    return font


def set_text_role(widget: QWidget, role: str) -> None:
    """Mark ``widget`` with a text role and give it the matching font now."""
    widget.setProperty(TEXT_ROLE_PROPERTY, role)
    widget.setFont(role_font(role))


def refresh_text_roles(root: QWidget) -> None:
    """Re-derive every text-role font under ``root`` after the application font changed."""
    for widget in [root, *root.findChildren(QWidget)]:
        role = widget.property(TEXT_ROLE_PROPERTY)
        if isinstance(role, str):
            widget.setFont(role_font(role))


def repolish(widget: QWidget) -> None:
    """Re-apply the stylesheet after a dynamic property used in selectors changed."""
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.update()
