"""Safe Markdown rendering for the app's rich-text views.

Content comes from shared packs, so it is untrusted. The pipeline is:

1. ``_limit`` trims pathological input so rendering stays fast: lists and block quotes
   nest at most ``MAX_NESTING`` levels (deeper lines are flattened), a table keeps at
   most ``MAX_TABLE_ROWS`` rows and ``MAX_TABLE_COLUMNS`` columns (a note says how many
   rows were left out), a paragraph with more than ``MAX_INLINE_MARKUP_PER_BLOCK``
   inline markup characters (`` ` * _ [ ] < & \\ ! ``) is shown as literal preformatted
   text (Python-Markdown's inline parsing is quadratic in them), and text beyond
   ``MAX_RENDER_CHARS`` characters or ``MAX_RENDER_LINES`` lines, or after the whole
   text has used ``MAX_INLINE_MARKUP`` markup characters, is cut with a note saying so.
2. Python-Markdown converts it with raw HTML switched off: its raw-HTML block
   preprocessor and inline HTML pattern are removed, so ``<b>`` is shown as text.
3. A tree processor applies the image and link policy: remote images become a plain
   link to the image (the app never loads remote resources), images with absolute
   paths, ``..`` paths that climb out of the pack or any other scheme are dropped
   (their alt text stays), and links like that lose their target.
4. nh3 sanitises the result against an explicit allowlist (``class`` is kept so the
   Pygments highlighting survives; no ``style``, no event handlers, no scripts).

Building a converter costs more than converting a short text, so each thread reuses one
(reset before and after every document), and rendered HTML is kept by text in a bounded
cache: content does not change while the app runs.
"""

from __future__ import annotations

import functools
import posixpath
import re
import threading
from pathlib import Path, PurePosixPath, PureWindowsPath
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree

import markdown
import nh3
from markdown.treeprocessors import Treeprocessor
from pygments.formatters import HtmlFormatter  # type: ignore[import-untyped]

HIGHLIGHT_CLASS = "hl"
MAX_NESTING = 8
MAX_TABLE_ROWS = 200
MAX_TABLE_COLUMNS = 20
MAX_INLINE_MARKUP_PER_BLOCK = 1_000
MAX_INLINE_MARKUP = 20_000
MAX_RENDER_CHARS = 200_000
MAX_RENDER_LINES = 2_000
# Rendered texts kept: every block of a few hundred scenarios and lessons.
RENDER_CACHE_SIZE = 1_024
_INDENT_WIDTH = 4  # Python-Markdown nests lists by four spaces

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt",
        "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol",
        "p", "pre", "s", "span", "strong", "sub", "sup", "table", "tbody", "td",
        "tfoot", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "*": {"class"},
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
}
URL_SCHEMES = frozenset({"https", "http", "mailto"})
_REMOVED_WITH_CONTENT = {
    "script", "style", "iframe", "object", "embed", "template", "noscript", "svg",
    "math", "textarea", "select",
}  # fmt: skip
_REMOTE_IMAGE_SCHEMES = frozenset({"https", "http"})

_DIFF_CSS = f"""
.{HIGHLIGHT_CLASS} .gi {{ background-color: #dafbe1; color: #116329; }}
.{HIGHLIGHT_CLASS} .gd {{ background-color: #ffebe9; color: #82071e; }}
"""

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_QUOTE_MARKERS = re.compile(r" {0,3}(?:> ?)+")
_LIST_MARKERS = re.compile(r"(?:[ ]*(?:[-*+]|\d{1,9}[.)])[ ]+)+")
_TABLE_SEPARATOR = re.compile(r" {0,3}\|?[ ]*:?-+:?[ ]*(?:\|[ ]*:?-+:?[ ]*)*\|?[ ]*")
_WINDOWS_DRIVE = re.compile(r"[A-Za-z]:[\\/]")
_TOO_MUCH_FORMATTING = "*(The rest of this text has too much formatting to show.)*"
_WITHOUT_MARKUP = str.maketrans(dict.fromkeys("`*_[]<&\\!"))


def new_converter() -> markdown.Markdown:
    """A Markdown converter set up as the app renders: raw HTML off, resource policy on.

    Building one takes milliseconds (its extensions compile their patterns), so
    :func:`render_markdown` reuses one per thread; tests use a new one to compare.
    """
    converter = markdown.Markdown(
        # SuperFences, unlike the stock fenced_code, finds fences inside block quotes and
        # list items, as CommonMark does; suggestions often quote a reply with code in it.
        extensions=["pymdownx.superfences", "pymdownx.highlight", "tables", "sane_lists"],
        extension_configs={
            "pymdownx.highlight": {"css_class": HIGHLIGHT_CLASS, "guess_lang": False},
            "tables": {"use_align_attribute": True},
        },
        output_format="html",
    )
    converter.preprocessors.deregister("html_block")
    converter.inlinePatterns.deregister("html")
    # After the inline processor (20), before prettify (10).
    converter.treeprocessors.register(_ResourcePolicy(converter), "resource_policy", 15)
    return converter


def render_markdown_with(converter: markdown.Markdown, text: str) -> str:
    """:func:`render_markdown` with ``converter`` (from :func:`new_converter`), uncached.

    The converter is reset before and after, so no state of one document (stashed
    HTML, link references, code block counts) reaches the next.
    """
    converter.reset()
    try:
        html = converter.convert(_limit(text))
    finally:
        converter.reset()
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        clean_content_tags=set(_REMOVED_WITH_CONTENT),
        link_rel=None,
        strip_comments=True,
    )


@functools.lru_cache(maxsize=RENDER_CACHE_SIZE)
def render_markdown(text: str) -> str:
    """An HTML fragment of ``text``, safe to show in a QTextBrowser.

    Results are kept by text (content does not change while the app runs; the cache is
    bounded and ``render_markdown.cache_clear()`` empties it).
    """
    return render_markdown_with(_thread_converter(threading.get_ident()), text)


@functools.lru_cache(maxsize=4)
def _thread_converter(thread_id: int) -> markdown.Markdown:
    # One converter per thread: a converter holds the state of the document it converts.
    del thread_id  # only the cache key
    return new_converter()


@functools.lru_cache(maxsize=1)
def highlight_css() -> str:
    """CSS for highlighted code (``.hl``), with added and removed diff lines shaded.

    The ``+`` and ``-`` at the start of diff lines stay visible, so colour is never the
    only signal.
    """
    formatter = HtmlFormatter(style="default")
    return str(formatter.get_style_defs(f".{HIGHLIGHT_CLASS}")) + _DIFF_CSS


def resolve_pack_resource(pack_root: Path, url_path: str) -> Path | None:
    """The file inside ``pack_root`` that a relative link or image path refers to.

    ``None`` when the path is empty, absolute, has a scheme or host, escapes the pack
    (after resolving ``..`` and symbolic links), or names no existing file. Paths are
    relative to the pack folder, such as ``assets/diagram.png``; percent escapes are
    understood.
    """
    if not url_path or "\0" in url_path:
        return None
    try:
        parts = urlsplit(url_path)
    except ValueError:
        return None
    if parts.scheme or parts.netloc or _is_absolute(parts.path):
        return None
    try:
        root = pack_root.resolve()
    except (OSError, RuntimeError):
        return None
    for candidate_path in dict.fromkeys((parts.path, unquote(parts.path))):
        if not candidate_path or "\0" in candidate_path or _is_absolute(candidate_path):
            continue
        try:
            candidate = (root / candidate_path).resolve()
            if candidate.is_relative_to(root) and candidate.is_file():
                return candidate
        except (OSError, RuntimeError, ValueError):
            continue
    return None


def _is_absolute(path: str) -> bool:
    return (
        path.startswith(("/", "\\"))
        or PurePosixPath(path).is_absolute()
        or PureWindowsPath(path).is_absolute()
        or _WINDOWS_DRIVE.match(path) is not None
    )


class _ResourcePolicy(Treeprocessor):
    """Rewrites images and links so nothing outside the pack or remote is loaded."""

    def run(self, root: ElementTree.Element) -> None:
        for parent in list(root.iter()):
            for index, child in reversed(list(enumerate(parent))):
                if child.tag == "img":
                    self._image(parent, index, child)
                elif child.tag == "a":
                    self._link(child)

    def _image(self, parent: ElementTree.Element, index: int, image: ElementTree.Element) -> None:
        source = (image.get("src") or "").strip()
        alt = image.get("alt") or ""
        kind = _classify(source)
        if kind == "relative":
            return
        if kind == "remote":
            link = ElementTree.Element("a", {"href": source, "class": "remote-image"})
            link.text = f"Image: {alt}" if alt else f"Image: {source}"
            link.tail = image.tail
            parent[index] = link
            return
        _replace_with_text(parent, index, alt)

    def _link(self, link: ElementTree.Element) -> None:
        target = (link.get("href") or "").strip()
        if _classify(target) in {"relative", "remote", "mail"}:
            return
        link.attrib.pop("href", None)


def _classify(url: str) -> str:
    """'relative', 'remote', 'mail' or 'refused' for a link or image target."""
    if not url:
        return "refused"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "refused"
    scheme = parts.scheme.lower()
    if scheme in _REMOTE_IMAGE_SCHEMES and parts.netloc:
        return "remote"
    if scheme == "mailto":
        return "mail"
    if scheme or parts.netloc or _is_absolute(parts.path) or _climbs_out(parts.path):
        return "refused"
    return "relative"


def _climbs_out(path: str) -> bool:
    """True when ``..`` segments lead above the folder the path starts from."""
    normal = posixpath.normpath(unquote(path).replace("\\", "/"))
    return normal == ".." or normal.startswith("../")


def _replace_with_text(parent: ElementTree.Element, index: int, text: str) -> None:
    element = parent[index]
    addition = text + (element.tail or "")
    if index > 0:
        previous = parent[index - 1]
        previous.tail = (previous.tail or "") + addition
    else:
        parent.text = (parent.text or "") + addition
    del parent[index]


def _limit(text: str) -> str:
    """``text`` with pathological size, nesting, tables and markup trimmed (module doc)."""
    notes: list[str] = []
    if len(text) > MAX_RENDER_CHARS:
        text = text[:MAX_RENDER_CHARS]
        notes.append("*(The rest of this text is too long to show.)*")
    lines = text.split("\n")
    if len(lines) > MAX_RENDER_LINES:
        notes[:] = [f"*({len(lines) - MAX_RENDER_LINES} more lines are not shown.)*"]
        lines = lines[:MAX_RENDER_LINES]
    output: list[str] = []
    block: list[str] = []  # the current run of non-blank lines outside code fences
    budget = [MAX_INLINE_MARKUP]
    fence: str | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        fence_match = _FENCE.match(line)
        if fence is not None:
            if fence_match and fence_match.group(1).startswith(fence):
                fence = None
            output.append(line)
            index += 1
            continue
        if fence_match or not line.strip():
            if not _flush_block(block, output, budget):
                notes[:] = [_TOO_MUCH_FORMATTING]
                break
            fence = fence_match.group(1) if fence_match else None
            output.append(line)
            index += 1
            continue
        if "|" in line and index + 1 < len(lines) and _TABLE_SEPARATOR.fullmatch(lines[index + 1]):
            if not _flush_block(block, output, budget):
                notes[:] = [_TOO_MUCH_FORMATTING]
                break
            index = _limit_table(lines, index, output)
            continue
        block.append(_limit_nesting(line))
        index += 1
    else:
        if not _flush_block(block, output, budget):
            notes[:] = [_TOO_MUCH_FORMATTING]
    if notes:
        output.extend(["", "", *notes])
    return "\n".join(output)


def _flush_block(block: list[str], output: list[str], budget: list[int]) -> bool:
    """Move ``block`` to ``output``; False once the text's markup budget is spent.

    Python-Markdown's inline parsing slows down sharply with the number of markup
    characters in one paragraph, so a paragraph over the limit is shown as
    preformatted literal text instead.
    """
    if not block:
        return True
    markup = sum(len(line) - len(line.translate(_WITHOUT_MARKUP)) for line in block)
    if markup > MAX_INLINE_MARKUP_PER_BLOCK:
        longest = max((len(run) for line in block for run in re.findall("~+", line)), default=0)
        fence = "~" * max(3, longest + 1)
        output.extend([fence, *block, fence])
    else:
        budget[0] -= markup
        if budget[0] < 0:
            block.clear()
            return False
        output.extend(block)
    block.clear()
    return True


def _limit_nesting(line: str) -> str:
    quotes = _QUOTE_MARKERS.match(line)
    if quotes and quotes.group(0).count(">") > MAX_NESTING:
        line = "> " * MAX_NESTING + line[quotes.end() :]
    stripped = line.lstrip(" ")
    indent = len(line) - len(stripped)
    if indent > MAX_NESTING * _INDENT_WIDTH:
        line = " " * (MAX_NESTING * _INDENT_WIDTH) + stripped
    markers = _LIST_MARKERS.match(line)
    if markers and len(re.findall(r"(?:[-*+]|\d{1,9}[.)])[ ]+", markers.group(0))) > MAX_NESTING:
        line = line[: markers.start()] + "- " + line[markers.end() :]
    return line


def _limit_table(lines: list[str], start: int, output: list[str]) -> int:
    """Copy the table starting at ``start`` into ``output``, trimmed; return the next index."""
    end = start + 2
    while end < len(lines) and "|" in lines[end] and lines[end].strip():
        end += 1
    rows = lines[start:end]
    kept = rows[: 2 + MAX_TABLE_ROWS]
    for row in kept:
        cells = row.split("|")
        too_wide = len(cells) > MAX_TABLE_COLUMNS + 2
        output.append("|".join(cells[: MAX_TABLE_COLUMNS + 1]) + "|" if too_wide else row)
    left_out = len(rows) - len(kept)
    if left_out > 0:
        output.extend(["", f"*({left_out} more table rows are not shown.)*"])
    return end
