"""A fast reader for the plain subset of YAML that content files almost always use.

PyYAML spends most of its time in Python code building nodes, even with libyaml, and a
large library has thousands of files. This reader handles only block mappings and
sequences, one-line flow lists of plain words, one-line quoted strings, plain scalars
and comments. Anything else (tabs, block scalars, anchors, tags, escapes,
continuation lines, duplicate keys, deep nesting, ...) raises ``NotSimpleError`` and the
caller uses the full, guarded PyYAML path, which also produces the error messages.

Scalars are typed with PyYAML's own implicit resolvers and constructors, so a value
this reader accepts means exactly what PyYAML would make of it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from yaml.constructor import SafeConstructor
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver
from yaml.scanner import Scanner

MAX_DEPTH = 20
_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*):(?: +(.*))?$")
_DOUBLE_QUOTED = re.compile(r'"([^"\\]*(?:\\.[^"\\]*)*)"')
_ESCAPE = re.compile(r"\\(?:([xuU])([0-9A-Fa-f]*)|(.))")
_SINGLE_QUOTED = re.compile(r"'([^']*(?:''[^']*)*)'")
_FLOW_LIST = re.compile(r"\[([^\[\]{}\"'#]*)\]")
# Characters that make a YAML stream anything but plain: tabs, carriage returns, the
# extra line breaks YAML knows (NEL, LS, PS), byte-order marks and non-printables.
_NOT_PLAIN_TEXT = re.compile(
    "[^\x0a\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_STRING_TAG = "tag:yaml.org,2002:str"
_SCALAR_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float", "timestamp")
)
_RESOLVERS: dict[str, list[tuple[str, re.Pattern[str]]]] = Resolver.yaml_implicit_resolvers
_ESCAPES: dict[str, str] = Scanner.ESCAPE_REPLACEMENTS
_ESCAPE_DIGITS: dict[str, int] = Scanner.ESCAPE_CODES


class NotSimpleError(Exception):
    """The text uses YAML beyond the plain subset; parse it with the full loader."""


def load_simple(text: str) -> Any:
    """The value of a plain-subset YAML document; raises ``NotSimpleError`` otherwise."""
    if _NOT_PLAIN_TEXT.search(text):
        raise NotSimpleError
    # [indent, content] of every line that is not blank or a comment.
    lines: list[list[Any]] = [
        [len(raw) - len(content), content.rstrip(" ")]
        for raw in text.split("\n")
        if (content := raw.lstrip(" ")) and content[0] != "#"
    ]
    if not lines:
        raise NotSimpleError
    reader = _Reader(lines)
    value = reader.block(lines[0][0], 0)
    if reader.position != len(lines):
        raise NotSimpleError
    return value


class _Reader:
    def __init__(self, lines: list[list[Any]]) -> None:
        self.lines = lines
        self.position = 0
        self.constructor: SafeConstructor | None = None

    def block(self, indent: int, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise NotSimpleError
        line_indent, text = self.lines[self.position]
        if line_indent != indent:
            raise NotSimpleError
        if text == "-" or text.startswith("- "):
            return self.sequence(indent, depth + 1)
        if _KEY.match(text):
            return self.mapping(indent, depth + 1)
        raise NotSimpleError

    def mapping(self, indent: int, depth: int) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        lines = self.lines
        while self.position < len(lines):
            line_indent, text = lines[self.position]
            if line_indent < indent:
                break
            match = _KEY.match(text) if line_indent == indent else None
            if match is None:
                raise NotSimpleError
            key, rest = match.groups()
            if key in result or not _is_plain_key(key):
                raise NotSimpleError
            self.position += 1
            if rest is None or rest[0] == "#":
                result[key] = self.nested(indent, depth, allow_same_indent_list=True)
            else:
                result[key] = self.inline(rest)
                # A deeper line after an inline value would continue it (or be an error).
                if self.position < len(lines) and lines[self.position][0] > indent:
                    raise NotSimpleError
        return result

    def sequence(self, indent: int, depth: int) -> list[Any]:
        result: list[Any] = []
        lines = self.lines
        while self.position < len(lines):
            line = lines[self.position]
            line_indent, text = line
            if line_indent < indent:
                break
            if line_indent > indent:
                raise NotSimpleError
            if not (text == "-" or text.startswith("- ")):
                break  # the next key of the mapping this list is a value of
            rest = text[1:]
            content = rest.lstrip(" ")
            if not content:
                self.position += 1
                result.append(self.nested(indent, depth, allow_same_indent_list=False))
            elif content[0] == "#" or content == "-" or content.startswith("- "):
                raise NotSimpleError
            elif _KEY.match(content):
                # "- key: value" opens a mapping at the column of "key".
                line[0] = indent + len(text) - len(content)
                line[1] = content
                result.append(self.mapping(line[0], depth + 1))
            else:
                self.position += 1
                result.append(self.inline(content))
                if self.position < len(lines) and lines[self.position][0] > indent:
                    raise NotSimpleError
        return result

    def nested(self, indent: int, depth: int, *, allow_same_indent_list: bool) -> Any:
        """The block value under a key or dash that has nothing after it on its line."""
        if self.position >= len(self.lines):
            return None
        line_indent, text = self.lines[self.position]
        if line_indent > indent:
            return self.block(line_indent, depth)
        if (
            allow_same_indent_list
            and line_indent == indent
            and (text == "-" or text.startswith("- "))
        ):
            return self.sequence(indent, depth + 1)
        return None

    def inline(self, text: str) -> Any:
        first = text[0]
        if first in {'"', "'"}:
            pattern = _DOUBLE_QUOTED if first == '"' else _SINGLE_QUOTED
            match = pattern.match(text)
            if match is None:
                raise NotSimpleError
            _expect_only_comment(text, match.end())
            value = match.group(1)
            if first == "'":
                return value.replace("''", "'")
            return _ESCAPE.sub(_unescape, value) if "\\" in value else value
        if first == "[":
            match = _FLOW_LIST.match(text)
            if match is None:
                raise NotSimpleError
            _expect_only_comment(text, match.end())
            return self.flow_items(match.group(1))
        if first in _INDICATORS:
            raise NotSimpleError
        comment = text.find(" #")
        value = (text if comment == -1 else text[:comment]).rstrip(" ")
        if ": " in value or value[-1] == ":":
            raise NotSimpleError
        return self.scalar(value) if value[0] in _RESOLVERS else value

    def flow_items(self, inside: str) -> list[Any]:
        if not inside.strip(" "):
            return []
        items = [item.strip(" ") for item in inside.split(",")]
        if len(items) > 1 and not items[-1]:
            items.pop()  # YAML allows one trailing comma
        values: list[Any] = []
        for item in items:
            if not item or item[0] in _INDICATORS or ":" in item:
                raise NotSimpleError
            values.append(self.scalar(item))
        return values

    def scalar(self, value: str) -> Any:
        """A plain scalar typed exactly as PyYAML's resolver and safe constructor would."""
        if len(value) < 16 and value.isdigit() and value.isascii() and value[0] != "0":
            return int(value)  # the common case of PyYAML's decimal integer rule
        for tag, pattern in _RESOLVERS.get(value[:1], ()):
            if pattern.match(value):
                return self.construct(tag, value)
        return value

    def construct(self, tag: str, value: str) -> Any:
        if tag not in _SCALAR_TAGS:
            raise NotSimpleError
        if self.constructor is None:
            self.constructor = SafeConstructor()
        try:
            return self.constructor.yaml_constructors[tag](self.constructor, ScalarNode(tag, value))
        except (ValueError, OverflowError):
            raise NotSimpleError from None


def _unescape(match: re.Match[str]) -> str:
    """One escape of a double-quoted scalar, as PyYAML's scanner reads it."""
    code, digits, single = match.groups()
    if code is not None:
        wanted = _ESCAPE_DIGITS[code]
        if len(digits) < wanted:
            raise NotSimpleError
        # Hex digits beyond the escape's own length are ordinary text after it.
        return chr(int(digits[:wanted], 16)) + digits[wanted:]
    if single not in _ESCAPES or single == "\t":
        raise NotSimpleError
    return _ESCAPES[single]


@lru_cache(maxsize=512)
def _is_plain_key(key: str) -> bool:
    """Whether PyYAML reads ``key`` as the string itself (not true, null, a number...)."""
    return not any(pattern.match(key) for _tag, pattern in _RESOLVERS.get(key[:1], ()))


def _expect_only_comment(text: str, end: int) -> None:
    rest = text[end:]
    if rest and not (rest[0] == " " and rest.lstrip(" ").startswith("#")):
        raise NotSimpleError
