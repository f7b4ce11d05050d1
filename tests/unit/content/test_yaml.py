"""The guarded YAML reader and its fast path for plain YAML.

The fast reader must mean exactly what PyYAML means whenever it accepts a text; the
differential tests compare the two on generated YAML of the shapes content uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from app.content.simpleyaml import NotSimpleError, load_simple
from app.content.yamlsafe import MAX_DEPTH, YamlError, YamlLocator, load_yaml


def pyyaml(text: str) -> Any:
    return yaml.load(text, Loader=yaml.SafeLoader)


PLAIN_DOCUMENTS = [
    "id: forum-acl-grant\ndifficulty: 2\n",
    "title: The fix # a comment\nsummary: 'It''s quoted'\nnote: \"double # not a comment\"\n",
    "steps:\n  - id: grant\n    answer: reject\n    flags: [a-b, c]\n  - id: two\n",
    "steps:\n- id: grant\n  answer: accept\nnext: value\n",
    "empty:\nlist: []\nnone: ~\nflag: yes\nnumber: 0.8\nlarge: 12345\n",
    "- id: one\n  title: One\n- id: two\n",
    "key:   spaced value   \n# whole-line comment\nother: x\n",
    "when: 2024-01-01\noctal: 010\nhex: 0x1f\nsexagesimal: 1:30\n",
    "items:\n  -\n    lesson: a\n  - scenario: b\n",
    'reveals: "`{\\"ok\\":true}` \\\\x{200B} \\x41\\u00e9\\U0001F600 \\N\\_"\n',
]


@pytest.mark.parametrize("text", PLAIN_DOCUMENTS)
def test_fast_reader_agrees_with_pyyaml(text: str) -> None:
    try:
        fast = load_simple(text)
    except NotSimpleError:
        fast = pyyaml(text)  # the loader falls back; nothing to compare
    assert fast == pyyaml(text)
    assert load_yaml(text) == pyyaml(text)


@pytest.mark.parametrize(
    "text",
    [
        "a: |\n  block\n",
        "a: &x 1\nb: *x\n",
        "a: !tag x\n",
        'a: "unknown escape \\q"\n',
        'a: "short hex \\x4"\n',
        'a: "multi\n  line"\n',
        "a: plain\n  continued\n",
        "a:\tb\n",
        "a: b\na: c\n",
        "- - nested\n",
        "a: {b: c}\n",
        "? complex\n: key\n",
        "a: b: c\n",
    ],
)
def test_fast_reader_declines_what_it_does_not_handle(text: str) -> None:
    with pytest.raises(NotSimpleError):
        load_simple(text)


words = st.sampled_from(
    ["grant", "yes", "No", "on", "null", "~", "true", "1", "007", "1.5", "-2", "1_000",
     "2024-01-01", "a b", "x:y", "it's", "#tag", "c#", "=", "0x1f", "1:30", ".inf", "e",
     'q\\"q', "b\\\\s", "\\x41", "\\u00e9z", "\\q", "\\x4", "\\t", "\\N"]
)  # fmt: skip
keys = st.sampled_from(["id", "title", "yes", "on", "flags", "based_on", "a-b", "1", "null"])


def scalar_text(word: str) -> st.SearchStrategy[str]:
    return st.sampled_from([word, f"'{word}'", f'"{word}"', f"{word} # note"])


@st.composite
def documents(draw: st.DrawFn, depth: int = 0) -> str:
    """Block YAML of mappings, sequences, flow lists and scalars (sometimes invalid)."""
    indent = "  " * depth
    lines = []
    for key in draw(st.lists(keys, min_size=1, max_size=4)):
        kind = draw(st.sampled_from(["scalar", "flow", "list", "map"] if depth < 3 else ["scalar"]))
        if kind == "scalar":
            lines.append(f"{indent}{key}: {draw(scalar_text(draw(words)))}")
        elif kind == "flow":
            items = draw(st.lists(words, max_size=3))
            lines.append(f"{indent}{key}: [{', '.join(items)}]")
        elif kind == "list":
            lines.append(f"{indent}{key}:")
            for _ in range(draw(st.integers(1, 3))):
                if draw(st.booleans()):
                    lines.append(f"{indent}  - {draw(scalar_text(draw(words)))}")
                else:
                    nested = draw(documents(depth + 2)).split("\n")
                    first = nested[0].lstrip()
                    lines.append(f"{indent}  - {first}")
                    lines.extend(nested[1:])
        else:
            lines.append(f"{indent}{key}:")
            lines.append(draw(documents(depth + 1)))
    return "\n".join(lines)


@settings(max_examples=400, deadline=None, database=None)
@given(text=documents())
def test_fast_reader_means_what_pyyaml_means(text: str) -> None:
    try:
        expected: Any = pyyaml(text)
    except (yaml.YAMLError, ValueError):
        expected = Exception
    try:
        fast: Any = load_simple(text)
    except NotSimpleError:
        return
    assert fast == expected
    assert type(fast) is type(expected)


def test_aliases_are_refused_with_their_line() -> None:
    with pytest.raises(YamlError) as raised:
        load_yaml("a: &x [1, 2]\nb: *x\n")
    assert raised.value.line == 1
    assert "aliases (*name)" in raised.value.message


def test_python_tags_are_refused() -> None:
    with pytest.raises(YamlError) as raised:
        load_yaml("a: !!python/object/apply:os.system ['true']\n")
    assert raised.value.message.startswith("the tag '!!python/object/apply:os.system' is not")


def test_deep_nesting_is_refused_before_it_is_built() -> None:
    with pytest.raises(YamlError) as raised:
        load_yaml("a: " + "[" * 10_000 + "]" * 10_000)
    assert f"nested more than {MAX_DEPTH} levels" in raised.value.message


def test_nesting_up_to_the_limit_is_fine() -> None:
    depth = MAX_DEPTH - 1
    assert load_yaml("[" * depth + "]" * depth) is not None


def test_locator_finds_keys_and_list_items() -> None:
    locator = YamlLocator("id: x\nsteps:\n  - id: a\n  - id: b\n    answer: reject\n")
    assert locator.line(("steps", 1, "answer")) == 4
    assert locator.line(("steps", 0)) == 2
    assert locator.line(("missing",)) == 0
    assert locator.line(("steps", 7, "id")) == 1


def test_the_contract_example_takes_the_fast_path() -> None:
    from app.content.documents import split_front_matter

    example = (
        Path(__file__).resolve().parents[2] / "data/contract/core/scenarios/forum-acl-grant.md"
    )
    front = split_front_matter(example.read_text(encoding="utf-8")).front_matter
    assert load_simple(front) == pyyaml(front)
