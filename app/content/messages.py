"""Turning pydantic validation errors into messages a content author can act on."""

from __future__ import annotations

import datetime
import types
from collections.abc import Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from app.content.schema import (
    DIFFICULTY_MAX,
    DIFFICULTY_MIN,
    ID_MAX_LENGTH,
    TrackItemModel,
)

Location = tuple[str | int, ...]

# How the elements of a list of mappings are named in messages.
_ELEMENT_NAMES = {
    "steps": "step",
    "revisions": "revision",
    "checks": "check",
    "based_on": "based_on entry",
    "items": "item",
}
_ID_RULE = (
    f"must be lowercase words joined by '-' (letters a-z and digits 0-9), at most "
    f"{ID_MAX_LENGTH} characters, e.g. 'forum-acl-grant'"
)


def describe_validation_error(
    error: ValidationError,
    model: type[BaseModel],
    data: Any,
    *,
    element: str | None = None,
) -> list[tuple[Location, str]]:
    """Each error as (location in ``data``, message), in the order pydantic found them.

    ``element`` names what ``data`` is when it is one entry of a larger file
    (for example "flag 'blast-radius'"), so messages say where they apply.
    """
    described: list[tuple[Location, str]] = []
    seen: set[tuple[Location, str]] = set()
    for details in error.errors(include_url=False):
        location = tuple(details["loc"])
        message = _message(details, location, model, data, element)
        if (location, message) not in seen:
            seen.add((location, message))
            described.append((location, message))
    return described


def place(location: Location, data: Any, element: str | None = None) -> str:
    """ " in step 'grant'" and the like: where ``location`` points, for a message."""
    parts: list[str] = []
    node = data
    index = 0
    while index < len(location):
        part = location[index]
        following = location[index + 1] if index + 1 < len(location) else None
        if isinstance(part, str) and isinstance(following, int) and part in _ELEMENT_NAMES:
            items = node.get(part) if isinstance(node, dict) else None
            item = items[following] if isinstance(items, list) and following < len(items) else None
            parts.append(_element_name(_ELEMENT_NAMES[part], following, item))
            node = item
            index += 2
            continue
        node = node.get(part) if isinstance(node, dict) and isinstance(part, str) else None
        index += 1
    if element:
        parts.append(element)
    if not parts:
        return ""
    return " in " + " of ".join(reversed(parts))


def _element_name(kind: str, index: int, item: Any) -> str:
    if kind == "step" and isinstance(item, dict) and isinstance(item.get("id"), str):
        return f"step '{item['id']}'"
    return f"{kind} {index + 1}"


def _field(location: Location) -> tuple[str, Location]:
    """The name of the field an error is about and the location of its container."""
    if not location:
        return "", ()
    last = location[-1]
    if isinstance(last, int) and len(location) >= 2 and isinstance(location[-2], str):
        name = location[-2]
        if name not in _ELEMENT_NAMES:
            return f"entry {last + 1} of '{name}'", location[:-2]
    if isinstance(last, str):
        return f"'{last}'", location[:-1]
    return "", location


def _message(
    details: ErrorDetails,
    location: Location,
    model: type[BaseModel],
    data: Any,
    element: str | None,
) -> str:
    kind = details["type"]
    value = details.get("input")
    context: dict[str, Any] = dict(details.get("ctx") or {})
    field, container = _field(location)
    where = place(container, data, element)
    subject = f"{field}{where}" if field else (where.removeprefix(" in ") or "the value")
    name = location[-1] if location and isinstance(location[-1], str) else None

    if kind == "extra_forbidden":
        allowed = ", ".join(_model_at(model, container).model_fields) if name else ""
        return f"unknown key '{name}'{where}; allowed keys: {allowed}"
    if kind == "invalid_key":
        where_key = place(location[:-1], data, element)
        return (
            f"the key {_show(value)}{where_key} must be text, but YAML read it as "
            f"{type(value).__name__ if value is not None else 'empty'}; put it in quotes"
        )
    if kind == "missing":
        return f"missing required key '{name}'{where}"
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        if _model_at(model, location) is TrackItemModel:
            return f"{subject} must be 'lesson: ID' or 'scenario: ID'"
        return f"{subject} must be a mapping of keys to values (key: value lines)"
    if kind == "string_type":
        return f"{subject} must be text{_text_hint(value)}"
    if kind in {"int_type", "int_from_float", "int_parsing"}:
        return f"{subject} must be a whole number, not {_show(value)}"
    if kind in {"float_type", "float_parsing"}:
        return f"{subject} must be a number, not {_show(value)}"
    if kind == "bool_type":
        return f"{subject} must be true or false, not {_show(value)}"
    if kind in {"list_type", "tuple_type"}:
        return f"{subject} must be a list, such as [a, b] or lines starting with '- '"
    if kind == "literal_error":
        expected = str(context.get("expected", "")).replace("'", "")
        return f"{subject} must be one of {expected}, not {_show(value)}"
    if kind == "string_pattern_mismatch":
        return f"{subject} is {_show(value)}; ids {_ID_RULE}"
    if kind in {"string_too_long", "too_long"} and isinstance(value, str):
        if context.get("max_length") == ID_MAX_LENGTH:
            return f"{subject} is {len(value)} characters long; ids {_ID_RULE}"
        return (
            f"{subject} is {len(value)} characters long; at most "
            f"{context.get('max_length')} are allowed"
        )
    if kind in {"string_too_short", "blank_text"}:
        return f"{subject} must not be empty"
    if kind == "too_short":
        if name == "steps":
            return f"a scenario needs at least one step under 'steps'{where}"
        return f"{subject} must list at least one entry"
    if kind == "web_url":
        return f"{subject} must be a web address starting with https:// (or http://)"
    if name == "difficulty" and kind in {"greater_than_equal", "less_than_equal"}:
        return (
            f"'difficulty' must be {DIFFICULTY_MIN} (new hire), 2 (working engineer) or "
            f"{DIFFICULTY_MAX} (expert), not {_show(value)}"
        )
    if name == "pass_mark" and kind in {"greater_than_equal", "less_than_equal"}:
        return f"'pass_mark' must be a share between 0 and 1 (such as 0.8), not {_show(value)}"
    if kind == "greater_than_equal":
        return f"{subject} must be at least {context.get('ge')}, not {_show(value)}"
    if kind == "less_than_equal":
        return f"{subject} must be at most {context.get('le')}, not {_show(value)}"
    return f"{subject}: {details['msg']}"


def _text_hint(value: Any) -> str:
    if isinstance(value, bool):
        return (
            f", but YAML read {_show(value)} as true/false; put the value in quotes "
            "(YAML turns yes, no, on and off into true and false)"
        )
    if isinstance(value, datetime.date):
        return f", but YAML read {value.isoformat()} as a date; put the value in quotes"
    if isinstance(value, int | float):
        return f", but YAML read {_show(value)} as a number; put the value in quotes"
    if value is None:
        return ", but it is empty; write a value or remove the key"
    if isinstance(value, list | dict):
        return f", not a {'list' if isinstance(value, list) else 'mapping'}"
    return ""


def _show(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _model_at(model: type[BaseModel], location: Sequence[str | int]) -> type[BaseModel]:
    """The model class describing the mapping at ``location`` (``model`` when unknown)."""
    current: Any = model
    for part in location:
        if isinstance(part, str):
            fields = getattr(current, "model_fields", None)
            if not fields or part not in fields:
                return model
            current = _unwrap(fields[part].annotation)
        else:
            args = get_args(current)
            if get_origin(current) is not list or not args:
                return model
            current = _unwrap(args[0])
    if isinstance(current, type) and issubclass(current, BaseModel):
        return current
    return model


def _unwrap(annotation: Any) -> Any:
    """``Annotated[X, ...]`` and ``X | None`` both become ``X``."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation
