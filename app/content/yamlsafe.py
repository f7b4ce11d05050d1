"""Reading untrusted YAML: plain values only, no aliases, no code tags, bounded nesting.

Content packs are shared between teams, so their YAML is treated as hostile. The fast
path is libyaml's parser with PyYAML's safe constructor. Two guards sit on top of it:

* aliases (``*name``) are refused while constructing, so an "alias bomb" cannot expand
  into an exponential structure later, when validation walks it;
* text that could nest deeply (many brackets or very long indentation) is first scanned
  event by event, without building anything, and refused beyond ``MAX_DEPTH`` levels.

Most content uses only plain YAML, which ``app.content.simpleyaml`` reads much faster;
everything else, and every error message, comes from this guarded PyYAML path. Line
numbers are worked out only when something is wrong (``YamlLocator``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from app.content.simpleyaml import NotSimpleError, load_simple

try:  # libyaml makes parsing several times faster; fall back when it is not built in.
    from yaml import CSafeLoader as _FastSafeLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _FastSafeLoader  # type: ignore[assignment]

MAX_DEPTH = 20
# Each level of nesting costs a flow bracket or at least one character of indentation
# or of "- " markers, so a text with at most this many brackets and no line prefix this
# long cannot nest deeper than MAX_DEPTH; anything else is scanned first.
_FEW = MAX_DEPTH // 2
_LONG_INDENT = re.compile(rf"^[ \t\-?:]{{{_FEW},}}", re.MULTILINE)
_TAB_HINT = "found character '\\t' that cannot start any token"

Location = Sequence[str | int]


class YamlError(Exception):
    """YAML that cannot be read; ``line`` is 0-based within the YAML text, if known."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


_ALIASES = (
    "aliases (*name) and merge keys (<<) are not allowed in content files; "
    "write the value out in full"
)
_ANCHORS = "anchors (&name) are not allowed in content files; remove them"


class _Refused(yaml.MarkedYAMLError):
    """Raised from inside the constructor for YAML features content may not use."""


class _AliasFound(yaml.YAMLError):
    """A node was reached twice while constructing, which only an alias can do."""


class _GuardedLoader(_FastSafeLoader):
    """The safe loader, refusing aliases and naming unknown tags plainly."""

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        # A node seen a second time can only have been reached through an alias.
        if node in self.constructed_objects or node in self.recursive_objects:
            raise _AliasFound
        return super().construct_object(node, deep)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[tuple[str, str]] = set()
        for key, _value in node.value:
            if isinstance(key, ScalarNode):
                if (key.tag, key.value) in seen:
                    raise _Refused(
                        problem=f"the key '{key.value}' appears twice in one mapping; "
                        "keep one (otherwise the later one would silently win)",
                        problem_mark=key.start_mark,
                    )
                seen.add((key.tag, key.value))
        return super().construct_mapping(node, deep)

    def construct_undefined(self, node: Node) -> Any:
        tag = str(node.tag)
        shown = tag.replace("tag:yaml.org,2002:", "!!")
        if shown == "!!value":
            problem = "a value of '=' must be written in quotes"
        elif shown.startswith("!!python/"):
            problem = (
                f"the tag '{shown}' is not allowed: content files hold plain values only "
                "(text, numbers, true/false, lists and key: value mappings)"
            )
        else:
            problem = f"unknown tag '{shown}'; remove it and write a plain value"
        raise _Refused(problem=problem, problem_mark=node.start_mark)


_GuardedLoader.add_constructor(None, _GuardedLoader.construct_undefined)


def load_yaml(text: str) -> Any:
    """Parse one YAML document into plain Python values, or raise ``YamlError``."""
    try:
        return load_simple(text)
    except NotSimpleError:
        pass
    if "&" in text or _might_nest_deeply(text):
        _check_events(text)
    loader = _GuardedLoader(text)
    try:
        return loader.get_single_data()
    except _AliasFound:
        _check_events(text)  # raises with the line of the first alias
        raise YamlError(_ALIASES, None) from None
    except yaml.MarkedYAMLError as error:
        raise _as_yaml_error(error) from None
    except yaml.reader.ReaderError as error:
        raise _as_reader_error(error, text) from None
    except yaml.YAMLError as error:
        raise YamlError(f"invalid YAML: {error}", None) from None
    except (ValueError, OverflowError) as error:
        # The safe constructor turns scalars into ints and dates itself, and those can
        # fail outside PyYAML's own error type (huge integers, a 13th month).
        reason = "a number is far too long" if "digits" in str(error) else str(error)
        raise YamlError(
            f"a value cannot be read ({reason}); put it in quotes to keep it as text",
            _failing_scalar_line(text),
        ) from None
    except RecursionError:
        raise YamlError(f"the YAML is nested more than {MAX_DEPTH} levels deep", None) from None
    finally:
        loader.dispose()


def _might_nest_deeply(text: str) -> bool:
    return text.count("[") + text.count("{") > _FEW or _LONG_INDENT.search(text) is not None


def _check_events(text: str) -> None:
    """Walk the event stream once, refusing aliases, anchors and deep nesting early."""
    depth = 0
    anchor_line: int | None = None
    try:
        for event in yaml.parse(text, Loader=_FastSafeLoader):
            if isinstance(event, yaml.AliasEvent):
                raise YamlError(_ALIASES, _line(event.start_mark))
            if anchor_line is None and getattr(event, "anchor", None):
                anchor_line = _line(event.start_mark)
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise YamlError(
                        f"the YAML is nested more than {MAX_DEPTH} levels deep",
                        _line(event.start_mark),
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as error:
        raise _as_yaml_error(error) from None
    except yaml.reader.ReaderError as error:
        raise _as_reader_error(error, text) from None
    except yaml.YAMLError as error:
        raise YamlError(f"invalid YAML: {error}", None) from None
    if anchor_line is not None:
        raise YamlError(_ANCHORS, anchor_line)


def _as_reader_error(error: yaml.reader.ReaderError, text: str) -> YamlError:
    """A character YAML refuses (control characters and the like), with its line."""
    character = error.character
    shown = f"U+{character:04X}" if isinstance(character, int) else repr(character)
    position = error.position if isinstance(error.position, int) else 0
    return YamlError(
        f"the character {shown} is not allowed in YAML (control characters are refused); remove it",
        text.count("\n", 0, position),
    )


def _line(mark: Any) -> int | None:
    line = getattr(mark, "line", None)
    return line if isinstance(line, int) else None


def _as_yaml_error(error: yaml.MarkedYAMLError) -> YamlError:
    mark = error.problem_mark or error.context_mark
    line = mark.line if mark is not None else None
    if isinstance(error, _Refused):
        return YamlError(str(error.problem), line)
    problem = str(error.problem or "could not be parsed")
    message = f"invalid YAML: {problem}"
    if error.context:
        message += f" ({error.context})"
    if _TAB_HINT in problem:
        message += "; indent with spaces, not tabs"
    return YamlError(message, line)


def _failing_scalar_line(text: str) -> int | None:
    """The line of the first scalar the safe constructor cannot turn into a value."""
    try:
        root = yaml.compose(text, Loader=_FastSafeLoader)
    except yaml.YAMLError:
        return None
    constructor = _GuardedLoader("")
    pending: list[Node] = [root] if root is not None else []
    while pending:
        node = pending.pop(0)
        if isinstance(node, ScalarNode):
            try:
                constructor.construct_object(node)
            except (yaml.YAMLError, ValueError, OverflowError):
                return int(node.start_mark.line)
            constructor.constructed_objects.clear()
        elif isinstance(node, SequenceNode):
            pending.extend(node.value)
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                pending.extend((key, value))
    return None


class YamlLocator:
    """Finds the line of a value given its path of keys and indexes (composed lazily)."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._root: Node | None = None
        self._composed = False

    def line(self, location: Location) -> int:
        """0-based line of the deepest node ``location`` reaches (0 when nothing is found)."""
        node = self._compose()
        if node is None:
            return 0
        line = int(node.start_mark.line)
        for part in location:
            child: Node | None = None
            if isinstance(node, MappingNode):
                for key, value in node.value:
                    if isinstance(key, ScalarNode) and key.value == str(part):
                        line = int(key.start_mark.line)
                        child = value
                        break
            elif isinstance(node, SequenceNode) and isinstance(part, int):
                child = node.value[part] if 0 <= part < len(node.value) else None
                if child is not None:
                    line = int(child.start_mark.line)
            if child is None:
                break
            node = child
        return line

    def _compose(self) -> Node | None:
        if not self._composed:
            self._composed = True
            try:
                self._root = yaml.compose(self._text, Loader=_FastSafeLoader)
            except (yaml.YAMLError, RecursionError):
                self._root = None
        return self._root
