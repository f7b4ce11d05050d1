"""Translations: loading the compiled catalogue, and a pseudo-locale for testing layouts.

Every user-facing string of the interface goes through Qt's translation functions
(``self.tr`` in QObject subclasses, ``QCoreApplication.translate`` or
``QT_TRANSLATE_NOOP`` elsewhere). ``make translations`` extracts them with
``pyside6-lupdate`` into ``app/ui/translations/thinktwice_en.ts`` and compiles the
``.qm`` next to it. The app loads a catalogue for the user's language when one is
there, and works with the English source strings when none is.

The pseudo-locale turns every translated string into a longer, accented version of
itself (``"Submit"`` becomes ``"[Şûƀɱîţ ··]"``), so a test or a developer can see at a
glance which strings were not routed through the translation functions and which
layouts cannot take longer text.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QObject, QTranslator

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
CATALOGUE = "thinktwice"
SOURCE_LANGUAGE = "en"

PSEUDO_OPEN = "["
PSEUDO_CLOSE = "]"
PSEUDO_PAD = "·"

_ACCENTED = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "àƀçđéƒĝĥîĵķĺɱñöþǫŕşţûṽŵẋýžÀßÇĐÉƑĜĤÎĴĶĹṀÑÖÞǪŔŞŢÛṼŴẊÝŽ",
)
# Parts of a source string that must survive translation unchanged: format fields,
# %-arguments, markup tags and entities, and the letter after a mnemonic "&".


def QT_TRANSLATE_NOOP(context: str, source_text: str) -> str:  # noqa: N802
    """Mark ``source_text`` for ``pyside6-lupdate`` in ``context``; returns it unchanged.

    The same name as Qt's marker, which lupdate looks for, but typed as returning the
    string (PySide6's own is typed as returning ``object``). Translate the value where it
    is shown, with ``QCoreApplication.translate(context, value)``.
    """
    del context
    return source_text


_KEEP = re.compile(r"\{[^{}]*\}|%(?:n|L?\d+)|<[^<>]*>|&(?:[a-zA-Z]+|#\d+);|&&|&.")


def install_translations(
    app: QCoreApplication,
    locale: QLocale | None = None,
    directory: Path = TRANSLATIONS_DIR,
) -> list[QTranslator]:
    """Load Think Twice's catalogue (and Qt's own) for ``locale``, when present.

    Returns the translators installed; none when no catalogue matches, in which case
    the English source strings are shown.
    """
    wanted = locale if locale is not None else QLocale()
    installed: list[QTranslator] = []
    ours = QTranslator(app)
    if ours.load(wanted, CATALOGUE, "_", str(directory)) and app.installTranslator(ours):
        installed.append(ours)
    # Qt's own strings (standard dialog buttons and the like), for other languages.
    if wanted.language() != QLocale.Language.English:
        qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        qt_translator = QTranslator(app)
        if qt_translator.load(wanted, "qtbase", "_", qt_dir) and app.installTranslator(
            qt_translator
        ):
            installed.append(qt_translator)
    return installed


def pseudo_translate(text: str) -> str:
    """``text`` accented, bracketed and padded to at least a third longer.

    Format fields (``{count}``), markup, entities and mnemonic letters stay as they are,
    so the result still formats, renders and keeps its keyboard shortcuts.
    """
    if not text.strip():
        return text
    parts = []
    position = 0
    for match in _KEEP.finditer(text):
        parts.append(text[position : match.start()].translate(_ACCENTED))
        parts.append(match.group(0))
        position = match.end()
    parts.append(text[position:].translate(_ACCENTED))
    # Padding in short runs, so that long text can still wrap between them.
    dots = max(2, math.ceil(len(text) / 3))
    padding = " ".join(PSEUDO_PAD * min(4, dots - start) for start in range(0, dots, 4))
    return f"{PSEUDO_OPEN}{''.join(parts)} {padding}{PSEUDO_CLOSE}"


class PseudoTranslator(QTranslator):
    """Answers every translation with ``pseudo_translate`` of the source string."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)

    def translate(
        self,
        context: str,  # noqa: ARG002
        source_text: str,
        disambiguation: str | None = None,  # noqa: ARG002
        n: int = -1,  # noqa: ARG002
    ) -> str:
        return pseudo_translate(source_text)

    def isEmpty(self) -> bool:  # noqa: N802
        return False


_PSEUDO_SEGMENT = re.compile(
    rf"\{PSEUDO_OPEN}[^\{PSEUDO_OPEN}\{PSEUDO_CLOSE}]*? {PSEUDO_PAD}[{PSEUDO_PAD} ]*\{PSEUDO_CLOSE}"
)


def without_pseudo_text(text: str) -> str:
    """``text`` with every pseudo-translated part removed (innermost first).

    What is left was not translated: content, user data, numbers, or a string that
    missed the translation functions.
    """
    previous = None
    while previous != text:
        previous = text
        text = _PSEUDO_SEGMENT.sub(" ", text)
    return text
