"""The reused, caching renderer gives the HTML a fresh converter gives, document by document.

``render_markdown`` keeps one Markdown converter per thread (reset between documents) and
keeps rendered HTML by text; neither may change a byte of what a new converter renders,
for every text of the built-in content, and no state of one document may reach the next.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator

import pytest

from app.content.loader import load_library
from app.content.render import (
    RENDER_CACHE_SIZE,
    new_converter,
    render_markdown,
    render_markdown_with,
)
from app.core.model import ContentLibrary

# Documents that leave state in a converter: link references, stashed code blocks and
# their count, tables, nested lists, a raw HTML attempt.
STATEFUL = [
    "See [the guide][guide] and [home][].\n\n[guide]: https://example.com/guide\n[home]: /x",
    "Uses [the guide][guide] without defining it, and [home][].",
    "```python\nprint('a')\n```\n\n> ```bash\n> rm -rf /tmp/x\n> ```",
    "```diff\n- old\n+ new\n```",
    "| a | b |\n|---|:-:|\n| 1 | 2 |",
    "1. one\n    - nested\n2. two",
    "<b>bold?</b> <script>x()</script>",
    "![remote](https://example.com/a.png) and ![local](assets/a.png)",
    "",
]


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    render_markdown.cache_clear()
    yield
    render_markdown.cache_clear()


def _texts(value: object) -> Iterator[str]:
    """Every text in a content value (dataclasses, tuples and dicts, all the way down)."""
    if isinstance(value, str):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _texts(getattr(value, field.name))
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _texts(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)


@pytest.fixture(scope="module")
def builtin_texts() -> list[str]:
    library: ContentLibrary = load_library()
    texts = dict.fromkeys(
        text
        for item in (*library.scenarios.values(), *library.lessons.values())
        for text in _texts(item)
    )
    assert len(texts) > 500, "every scenario and lesson text"
    return list(texts)


def test_every_builtin_text_renders_as_a_fresh_converter_renders_it(
    builtin_texts: list[str],
) -> None:
    for text in [*builtin_texts, *STATEFUL]:
        assert render_markdown(text) == render_markdown_with(new_converter(), text), text[:80]
    # A second time comes from the cache, and is still the same.
    for text in builtin_texts[:50]:
        assert render_markdown(text) == render_markdown_with(new_converter(), text)


def test_a_document_renders_the_same_after_any_other(builtin_texts: list[str]) -> None:
    reused = new_converter()
    previous = [*STATEFUL, *builtin_texts]
    for before, text in zip(previous, [*STATEFUL[1:], *builtin_texts, STATEFUL[0]], strict=True):
        render_markdown_with(reused, before)
        assert render_markdown_with(reused, text) == render_markdown_with(new_converter(), text)


def test_a_link_reference_of_one_document_does_not_reach_the_next() -> None:
    defines, uses = STATEFUL[0], STATEFUL[1]
    assert 'href="https://example.com/guide"' in render_markdown(defines)
    assert "https://example.com/guide" not in render_markdown(uses)


def test_the_cache_is_bounded_and_keyed_by_the_text() -> None:
    assert render_markdown.cache_info().maxsize == RENDER_CACHE_SIZE
    first = render_markdown("Some *text*.")
    assert render_markdown("Some *text*.") is first
    assert render_markdown.cache_info().hits == 1


def test_each_thread_renders_with_its_own_converter(builtin_texts: list[str]) -> None:
    texts = builtin_texts[:120]
    expected = [render_markdown_with(new_converter(), text) for text in texts]
    results: dict[int, list[str]] = {}

    def render_all(worker: int) -> None:
        rendered = {}
        for text in texts if worker % 2 else reversed(texts):
            render_markdown.cache_clear()  # so that every call converts, on this thread
            rendered[text] = render_markdown(text)
        results[worker] = [rendered[text] for text in texts]

    threads = [threading.Thread(target=render_all, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(results[worker] == expected for worker in range(4))
