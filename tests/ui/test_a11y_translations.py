"""Every interface string goes through Qt's translation functions, and longer text fits."""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from PySide6.QtCore import QCoreApplication, QLocale
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QWidget

from app import APP_NAME
from app.ui.i18n import PseudoTranslator, install_translations, pseudo_translate
from app.ui.themes import Appearance
from tests.ui.a11y_support import (
    appearance_for,
    clipped_texts,
    content_words,
    main_screens,
    profile_dialogs,
    save_screenshot,
    settle,
    untranslated_texts,
)

UI = Path(__file__).resolve().parents[2] / "app" / "ui"
TOOLS = Path(sys.executable).parent

# One string or more from each screen and shared module, by translation context.
KNOWN = {
    ("HomePage", "What next"),
    ("HomePage", "&Clear filters"),
    ("LessonPage", "Choose a lesson"),
    ("ProblemsPage", "Content &problems"),
    ("PlayerPage", "Submit answer"),
    ("PlayerPage", "Would you apply this suggestion?"),
    ("PlayerPage", "Apply the suggestion as it stands."),
    ("DashboardPage", "Score over time"),
    ("ProfileDialog", "&Create profile"),
    ("SwitchProfileDialog", "&Use this profile"),
    ("ProfileForm", "Enter a display name: it labels your answers and progress."),
    ("Feedback", "Right call"),
    ("Feedback", "What your choice led to"),
    ("Models", "not started"),
    ("Models", "Working engineer"),
    ("ConfidenceBox", "Not given"),
    ("FlagChecklist", "None of these: I see no red flag"),
    ("Appearance", "&High contrast"),
}


def catalogue(ts_file: Path) -> set[tuple[str, str]]:
    root = ElementTree.parse(ts_file).getroot()
    return {
        (context.findtext("name") or "", message.findtext("source") or "")
        for context in root.iter("context")
        for message in context.iter("message")
    }


def run_lupdate(target: Path) -> None:
    sources = sorted(str(path) for path in UI.glob("*.py"))
    subprocess.run(
        [str(TOOLS / "pyside6-lupdate"), *sources, "-ts", str(target)],
        check=True,
        capture_output=True,
    )


def test_the_english_catalogue_holds_the_strings_of_every_screen(tmp_path: Path) -> None:
    ts_file = tmp_path / "thinktwice_en.ts"
    run_lupdate(ts_file)
    found = catalogue(ts_file)
    assert KNOWN - found == set()
    assert len(found) > 300


def test_a_compiled_catalogue_is_loaded_and_the_app_works_without_one(
    qapp: QApplication, tmp_path: Path
) -> None:
    ts_file = tmp_path / "thinktwice_de.ts"
    run_lupdate(ts_file)
    tree = ElementTree.parse(ts_file)
    for context in tree.getroot().iter("context"):
        if context.findtext("name") != "HomePage":
            continue
        for message in context.iter("message"):
            if message.findtext("source") == "What next":
                translation = message.find("translation")
                assert translation is not None
                translation.text = "Was nun"
                translation.attrib.pop("type", None)
    tree.write(ts_file, encoding="utf-8", xml_declaration=True)
    subprocess.run(
        [str(TOOLS / "pyside6-lrelease"), str(ts_file), "-qm", str(tmp_path / "thinktwice_de.qm")],
        check=True,
        capture_output=True,
    )

    assert install_translations(qapp, QLocale("en_GB"), tmp_path / "none") == []
    assert QCoreApplication.translate("HomePage", "What next") == "What next"
    installed = install_translations(qapp, QLocale("de_DE"), tmp_path)
    try:
        assert installed
        assert QCoreApplication.translate("HomePage", "What next") == "Was nun"
        assert QCoreApplication.translate("HomePage", "Tracks") == "Tracks"
    finally:
        for translator in installed:
            qapp.removeTranslator(translator)


def test_pseudo_text_is_a_third_longer_and_keeps_fields_markup_and_mnemonics() -> None:
    for text in ("Submit", "Next step  (Enter)", "{count} steps answered", "C&ontinue"):
        pseudo = pseudo_translate(text)
        assert len(pseudo) >= len(text) * 4 / 3
        assert pseudo.startswith("[") and pseudo.endswith("]")
    assert "{count}" in pseudo_translate("{count} steps answered")
    assert pseudo_translate("{count} steps").format(count=3).startswith("[3 ")
    assert "&o" in pseudo_translate("C&ontinue")
    assert "<b>" in pseudo_translate("<b>bold</b>")
    assert "Submit" not in pseudo_translate("Submit")


@pytest.fixture
def pseudo(qapp: QApplication) -> Iterator[PseudoTranslator]:
    """Every string translated into the pseudo-locale; installed before the workspace
    is built (ask for it first)."""
    translator = PseudoTranslator(qapp)
    assert qapp.installTranslator(translator)
    yield translator
    qapp.removeTranslator(translator)


@pytest.fixture
def appearance(workspace: Any) -> Iterator[Appearance]:
    yield from appearance_for(workspace)


def allowed_words(workspace: Any) -> set[str]:
    """What content and user data may show untranslated."""
    profile = workspace.profile
    return content_words(
        workspace.library,
        APP_NAME,
        profile.display_name,
        profile.team or "",
        profile.email_or_id or "",
    )


def test_an_untranslated_label_or_button_is_caught(pseudo: Any, workspace: Any) -> None:
    page = workspace.window.stack.currentWidget()
    allowed = allowed_words(workspace)
    assert untranslated_texts(page, allowed) == []
    stray = QLabel("Forgotten words", page)
    stray.show()
    button = QPushButton(QCoreApplication.translate("Test", "Press") + " here", page)
    button.show()
    found = untranslated_texts(page, allowed)
    assert any("Forgotten words" in line for line in found)
    assert any("here" in line and "Press" not in line.split("untranslated:")[1] for line in found)


@pytest.mark.parametrize("scale", [1.0, 2.0])
def test_pseudo_locale_text_fits_and_every_string_is_translated(
    pseudo: Any,
    workspace: Any,
    appearance: Any,
    qtbot: Any,
    tmp_path: Path,
    scale: float,
) -> None:
    window = workspace.window
    window.resize(1240, 820)
    size = window.size()
    appearance.set_text_scale(scale)
    # The status bar shows where the records are: a path is data too.
    allowed = allowed_words(workspace) | content_words(
        workspace.library, workspace.context.database.location
    )
    problems: dict[str, list[str]] = {}
    screens = itertools.chain(main_screens(workspace), profile_dialogs(workspace))
    for screen in screens:
        settle(qtbot)
        save_screenshot(screen.root, tmp_path / f"{screen.name}-pseudo-{round(scale * 100)}.png")
        roots: list[QWidget] = [screen.root]
        if screen.root is window:
            # The page, the navigation and the status bar (not the hidden pages).
            roots = [window.stack.currentWidget(), window.navigation, window.statusBar()]
        found = clipped_texts(screen.root)
        for root in roots:
            found += untranslated_texts(root, allowed)
        if screen.root is window and window.size() != size:
            found.append(f"the window grew to {window.size()}")
        if found:
            problems[screen.name] = found
    assert problems == {}
