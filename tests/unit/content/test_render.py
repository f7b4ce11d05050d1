"""Safe Markdown rendering, highlight CSS and resolving pack resources."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.content.render import (
    MAX_NESTING,
    MAX_TABLE_COLUMNS,
    MAX_TABLE_ROWS,
    highlight_css,
    render_markdown,
    resolve_pack_resource,
)


def test_plain_markdown_renders() -> None:
    html = render_markdown("Some **bold** and `code`.\n\n- one\n- two")
    assert "<strong>bold</strong>" in html
    assert "<code>code</code>" in html
    assert "<li>one</li>" in html


def test_script_tags_are_shown_as_text_not_run() -> None:
    html = render_markdown("Hello <script>alert('x')</script>\n\n<script>\nalert(2)\n</script>")
    assert "<script" not in html
    assert "&lt;script&gt;" in html


def test_iframe_is_not_rendered() -> None:
    html = render_markdown('<iframe src="https://evil.example/"></iframe>')
    assert "<iframe" not in html
    assert "&lt;iframe" in html


def test_event_handlers_never_reach_the_output() -> None:
    html = render_markdown('<img src="x" onerror="alert(1)"> <b onclick="x()">b</b>')
    assert not re.search(r"<[^>]*\son\w+=", html)
    assert "<img" not in html


def test_raw_bold_tag_is_shown_as_text() -> None:
    html = render_markdown("Press <b>here</b>")
    assert "<b>" not in html
    assert "&lt;b&gt;here&lt;/b&gt;" in html


@pytest.mark.parametrize(
    "link",
    ["[x](javascript:alert(1))", "[x](JavaScript:alert(1))", "[x][r]\n\n[r]: javascript:alert(1)"],
)
def test_javascript_links_lose_their_target(link: str) -> None:
    html = render_markdown(link)
    assert "javascript" not in html.lower()
    assert ">x</a>" in html


def test_web_mail_and_relative_links_are_kept() -> None:
    html = render_markdown(
        "[web](https://example.org/a) [mail](mailto:team@example.org) [doc](assets/guide.pdf)"
    )
    assert 'href="https://example.org/a"' in html
    assert 'href="mailto:team@example.org"' in html
    assert 'href="assets/guide.pdf"' in html


@pytest.mark.parametrize("target", ["file:///etc/passwd", "/etc/passwd", "../../secret.txt"])
def test_links_out_of_the_pack_lose_their_target(target: str) -> None:
    html = render_markdown(f"[x]({target})")
    assert "href" not in html


def test_remote_image_becomes_a_plain_link() -> None:
    html = render_markdown("![diagram](https://example.org/d.png)")
    assert "<img" not in html
    assert '<a class="remote-image" href="https://example.org/d.png">Image: diagram</a>' in html


@pytest.mark.parametrize(
    "source",
    [
        "/etc/passwd",
        "file:///etc/passwd",
        "//server/share/x.png",
        "C:/x.png",
        "data:image/png;base64,AA",
    ],
)
def test_absolute_and_file_images_are_dropped(source: str) -> None:
    html = render_markdown(f"Before ![kept alt]({source}) after")
    assert "<img" not in html
    assert "kept alt" in html


def test_relative_image_inside_the_pack_is_kept() -> None:
    html = render_markdown("![chart](assets/chart.png)")
    assert '<img alt="chart" src="assets/chart.png">' in html


def test_highlighted_code_keeps_its_classes() -> None:
    html = render_markdown("```python\ndef f():\n    return 1\n```")
    assert '<div class="hl">' in html
    assert '<span class="k">def</span>' in html
    assert "style=" not in html


def test_diff_fences_get_diff_classes() -> None:
    html = render_markdown("```diff\n- old line\n+ new line\n context\n```")
    assert '<span class="gd">- old line</span>' in html
    assert '<span class="gi">+ new line</span>' in html


def test_tables_render_with_alignment() -> None:
    html = render_markdown("| a | b |\n|:--|--:|\n| 1 | 2 |")
    assert '<th align="left">a</th>' in html
    assert '<td align="right">2</td>' in html


def test_highlight_css_shades_diff_lines_and_scopes_to_hl() -> None:
    css = highlight_css()
    assert ".hl .k " in css
    assert re.search(r"\.hl \.gi \{[^}]*background-color", css)
    assert re.search(r"\.hl \.gd \{[^}]*background-color", css)


# --- pathological input ----------------------------------------------------------------


def test_deep_block_quotes_are_flattened() -> None:
    html = render_markdown("> " * 500 + "deep")
    assert html.count("<blockquote>") == MAX_NESTING
    assert "deep" in html


def test_deep_lists_are_flattened() -> None:
    text = "\n".join("    " * level + "- item" for level in range(40))
    html = render_markdown(text)
    assert html.count("<ul>") <= MAX_NESTING + 1


def test_huge_tables_are_cut_with_a_note() -> None:
    text = "| a | b |\n|---|---|\n" + "| x | y |\n" * (MAX_TABLE_ROWS + 50)
    html = render_markdown(text)
    assert html.count("<tr>") == MAX_TABLE_ROWS + 1  # plus the header row
    assert "50 more table rows are not shown." in html


def test_wide_tables_keep_the_first_columns() -> None:
    columns = MAX_TABLE_COLUMNS + 30
    text = "|" + "h|" * columns + "\n|" + "-|" * columns + "\n|" + "v|" * columns
    html = render_markdown(text)
    assert html.count("<th>") == MAX_TABLE_COLUMNS


def test_paragraph_full_of_markup_is_shown_literally() -> None:
    html = render_markdown("[" * 5000 + "x")
    assert "<pre>" in html
    assert "[[[[" in html


def test_code_blocks_with_many_brackets_stay_code() -> None:
    html = render_markdown("```json\n" + "[1]," * 500 + "\n```")
    assert '<div class="hl">' in html
    assert "\\[" not in html


# --- resolve_pack_resource ---------------------------------------------------------------


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    root = tmp_path / "pack"
    (root / "assets").mkdir(parents=True)
    (root / "assets" / "chart.png").write_bytes(b"png")
    (root / "assets" / "my chart.png").write_bytes(b"png")
    (tmp_path / "secret.txt").write_text("secret", encoding="utf-8")
    return root


def test_resolves_a_file_inside_the_pack(pack: Path) -> None:
    assert resolve_pack_resource(pack, "assets/chart.png") == (pack / "assets/chart.png").resolve()
    assert resolve_pack_resource(pack, "./assets/chart.png") is not None
    assert resolve_pack_resource(pack, "assets/my%20chart.png") is not None
    assert resolve_pack_resource(pack, "assets/chart.png#section") is not None


@pytest.mark.parametrize(
    "url",
    [
        "../secret.txt",
        "assets/../../secret.txt",
        "%2e%2e/secret.txt",
        "/etc/passwd",
        "file:///etc/passwd",
        "https://example.org/chart.png",
        "//server/share/chart.png",
        "C:/Windows/win.ini",
        "qrc:/icon.png",
        "",
        "assets/missing.png",
        "assets",
        "assets/chart.png\0.txt",
    ],
)
def test_refuses_anything_else(pack: Path, url: str) -> None:
    assert resolve_pack_resource(pack, url) is None


def test_refuses_a_symlink_out_of_the_pack(pack: Path, tmp_path: Path) -> None:
    (pack / "assets" / "link.txt").symlink_to(tmp_path / "secret.txt")
    assert resolve_pack_resource(pack, "assets/link.txt") is None


def test_follows_a_symlink_that_stays_inside(pack: Path) -> None:
    (pack / "assets" / "alias.png").symlink_to(pack / "assets" / "chart.png")
    assert resolve_pack_resource(pack, "assets/alias.png") == (pack / "assets/chart.png").resolve()
