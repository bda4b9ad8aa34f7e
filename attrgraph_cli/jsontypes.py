"""Names of JSON value types, as error messages say them ("an array", "a string", "null")."""

from __future__ import annotations

from typing import Any


def json_type_name(v: Any) -> str:
    """The JSON type of a decoded value, as a message names it."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return type(v).__name__


def json_type_phrase(v: Any) -> str:
    """The JSON type of a decoded value with its article: "an object", "a number", "null"."""
    name = json_type_name(v)
    if name == "null":
        return name
    return ("an " if name[0] in "aeiou" else "a ") + name


def list_or_empty(value: Any) -> list[Any]:
    """`value` when it is a JSON array, else [] (hand-edited or server-sent data may hold anything there)."""
    return value if isinstance(value, list) else []
