"""The lesson reader and the safe Markdown view."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import QImage, QTextDocument

from app.ui.main_window import LESSONS
from app.ui.markdown_view import SafeMarkdownView

IMAGE = QTextDocument.ResourceType.ImageResource.value


def test_opening_a_lesson_shows_it_and_marks_it_read(workspace: Any) -> None:
    assert workspace.open_lesson("least-privilege")
    page = workspace.lessons
    assert workspace.window.current_page_key() == LESSONS
    assert page.title_label.text() == "Least privilege"
    text = page.reader.toPlainText()
    assert "Grant what is missing, no more." in text
    assert "print('hi')" in text, "code blocks are shown"
    assert "<table" in page.reader.toHtml(), "tables are rendered"
    image = page.reader.document().resource(IMAGE, QUrl("assets/dot.png"))
    assert isinstance(image, QImage) and image.width() == 1, "the pack's own image loads"
    assert "least-privilege" in workspace.training.progress(workspace.profile).lessons_read
    rows = [page.model.index(r).data() for r in range(page.model.rowCount())]
    assert rows[0] == "✓ Least privilege · read"
    assert rows[1] == "Blast radius"


def test_a_lesson_is_opened_from_the_list_by_keyboard(workspace: Any, press_key: Any) -> None:
    from PySide6.QtCore import Qt

    workspace.show_page(LESSONS)
    page = workspace.lessons
    page.list_view.setFocus()
    page.list_view.setCurrentIndex(page.model.index(1))
    press_key(Qt.Key.Key_Return)
    assert page.current_lesson_id == "blast-radius"
    assert "blast-radius" in workspace.training.progress(workspace.profile).lessons_read


def test_the_view_loads_images_only_from_inside_its_pack(qtbot: Any, pack: Path) -> None:
    view = SafeMarkdownView(pack)
    qtbot.addWidget(view)
    inside = view.loadResource(IMAGE, QUrl("assets/dot.png"))
    assert isinstance(inside, QImage) and not inside.isNull()
    secret = pack.parent / "secret.png"
    secret.write_bytes((pack / "assets" / "dot.png").read_bytes())
    for refused in (
        "../secret.png",
        "assets/../../secret.png",
        f"file://{secret}",
        str(secret),
        "https://example.org/dot.png",
        "http://127.0.0.1:9/dot.png",
        "assets/missing.png",
    ):
        assert view.loadResource(IMAGE, QUrl(refused)) is None, refused


def test_the_view_without_a_pack_loads_nothing(qtbot: Any, pack: Path) -> None:
    view = SafeMarkdownView(None)
    qtbot.addWidget(view)
    assert view.loadResource(IMAGE, QUrl("assets/dot.png")) is None


def test_remote_images_in_markdown_are_not_fetched(qtbot: Any, pack: Path, opener: Any) -> None:
    requested: list[str] = []

    class Spy(SafeMarkdownView):
        def loadResource(self, resource_type: int, name: Any) -> object:
            result = super().loadResource(resource_type, name)
            requested.append(f"{QUrl(name).toString()} -> {result is not None}")
            return result

    view = Spy(pack, open_url=opener)
    qtbot.addWidget(view)
    view.set_markdown("![remote](https://example.org/track.png)\n\n![local](assets/dot.png)\n")
    view.show()
    qtbot.waitExposed(view)
    assert all(not line.startswith("https") or line.endswith("False") for line in requested)
    assert opener.urls == []


def test_links_open_in_the_browser_only_when_clicked(
    qtbot: Any, pack: Path, opener: Any, click_link: Any
) -> None:
    view = SafeMarkdownView(pack, open_url=opener)
    qtbot.addWidget(view)
    view.resize(600, 300)
    view.set_markdown(
        "[Web page](https://example.org/page) and [a file](file:///etc/hosts) and "
        "[script](javascript:alert(1)) and [plain http](http://example.org/old)\n"
    )
    view.show()
    qtbot.waitExposed(view)
    assert opener.urls == []
    click_link(view, "Web page")
    assert opener.urls == ["https://example.org/page"]
    click_link(view, "a file")
    click_link(view, "script")
    assert opener.urls == ["https://example.org/page"], "other schemes are ignored"
    click_link(view, "plain http")
    assert opener.urls[-1] == "http://example.org/old"
    assert view.toPlainText().startswith("Web page"), "the view never navigates away"


def test_raw_html_is_not_rendered(qtbot: Any, pack: Path) -> None:
    view = SafeMarkdownView(pack)
    qtbot.addWidget(view)
    view.set_markdown('Hello <img src="https://example.org/x.png" onerror="x()"> <b>bold</b>\n')
    assert "<b>bold</b>" in view.toPlainText(), "shown as text"
    assert "<img" not in view.toHtml()
    fragment = view.document().toHtml()
    assert 'src="https://example.org/x.png"' not in fragment
