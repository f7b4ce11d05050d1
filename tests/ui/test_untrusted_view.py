"""Showing hostile Markdown reads no file outside its pack (checked with an audit hook).

The view loads images through its own ``loadResource``, which reads files with Python;
an audit hook records every file opened while the view renders and paints a text full of
paths that try to leave the pack. Only the image inside the pack may be read.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from app.ui.markdown_view import SafeMarkdownView
from tests.ui.conftest import tiny_png

_recording: list[list[str]] = []


def _audit(event: str, arguments: tuple[Any, ...]) -> None:
    if _recording and event == "open" and arguments:
        target = arguments[0]
        if isinstance(target, str | bytes | os.PathLike):
            _recording[-1].append(os.path.abspath(os.fsdecode(target)))


sys.addaudithook(_audit)  # it cannot be removed; it records only while a list is pushed


def test_hostile_images_in_a_view_read_only_the_image_inside_the_pack(
    qtbot: Any, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.png").write_bytes(tiny_png())
    pack = tmp_path / "pack"
    (pack / "assets").mkdir(parents=True)
    (pack / "assets" / "inside.png").write_bytes(tiny_png())
    (pack / "assets" / "link.png").symlink_to(outside / "secret.png")
    secret = outside / "secret.png"
    text = (
        "![inside](assets/inside.png)\n\n"
        "![link](assets/link.png) ![up](../outside/secret.png) "
        "![encoded](assets/%2e%2e/%2e%2e/outside/secret.png)\n\n"
        f"![absolute]({secret}) ![file]({secret.as_uri()}) ![remote](https://example.org/x.png)\n"
    )
    view = SafeMarkdownView(pack)
    qtbot.addWidget(view)
    touched: list[str] = []
    _recording.append(touched)
    try:
        view.set_markdown(text)
        view.show()
        qtbot.waitExposed(view)
        view.grab()  # paint, so every image the document wants is asked for
    finally:
        _recording.pop()
    images = [path for path in touched if path.endswith(".png")]
    assert images, "the image inside the pack is read"
    assert {Path(path).resolve() for path in images} == {(pack / "assets" / "inside.png").resolve()}
    assert not [path for path in touched if "outside" in path]
