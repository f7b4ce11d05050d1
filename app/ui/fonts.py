"""The fonts bundled with Think Twice, for output that must not depend on the system.

PDF certificates and reports print names from anywhere: DejaVu Sans covers Latin, Greek
and Cyrillic scripts, and Droid Sans Fallback adds Chinese, Japanese and Korean. Both live
in the built-in content's ``assets/fonts`` (copied into a frozen bundle with the rest of
the content) and are registered with Qt once per process.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtGui import QFont, QFontDatabase

from app.content.locations import builtin_pack_root

_log = logging.getLogger(__name__)

FONT_FOLDER = Path("assets") / "fonts"
FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DroidSansFallbackFull.ttf")
# Qt tries the families in this order for each character.
FAMILIES = ("DejaVu Sans", "Droid Sans Fallback")

_registered: set[Path] = set()


def font_folder() -> Path:
    """Where the bundled fonts are, from a source checkout or a frozen bundle."""
    return builtin_pack_root() / FONT_FOLDER


def load_bundled_fonts(folder: Path | None = None) -> list[str]:
    """Register the bundled fonts with Qt (once per file); returns the families known.

    Needs a ``QGuiApplication``. A missing or unreadable file is logged and skipped, so
    output falls back to the system's fonts rather than failing.
    """
    where = folder or font_folder()
    for name in FONT_FILES:
        path = (where / name).resolve()
        if path in _registered:
            continue
        if QFontDatabase.addApplicationFont(str(path)) < 0:
            _log.warning("could not load the bundled font %s", path)
            continue
        _registered.add(path)
    known = set(QFontDatabase.families())
    return [family for family in FAMILIES if family in known]


def document_font(point_size: float = 11.0, *, bold: bool = False) -> QFont:
    """A font with the bundled families in fallback order, at ``point_size``."""
    load_bundled_fonts()
    font = QFont()
    font.setFamilies(list(FAMILIES))
    font.setPointSizeF(point_size)
    font.setBold(bold)
    # Outlines, not bitmaps or hinting tricks: the PDF is printed at any size.
    font.setHintingPreference(QFont.HintingPreference.PreferNoHinting)
    font.setStyleStrategy(QFont.StyleStrategy.PreferOutline)
    # No "fi" or "fl" ligatures: text read back from the PDF must match what was written.
    for tag in ("liga", "clig"):
        font.setFeature(QFont.Tag(tag), 0)
    return font
