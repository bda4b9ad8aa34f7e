"""The JSON schemas in `schemas/` as the source of truth, turned into two validators.

- `fast_type(schema)`: msgspec types (Structs for objects with properties) that decode a document and
  reject missing required fields and wrong types at C speed. A document that passes is schema-valid.
- `PreciseValidator`: a compiled walk over a decoded document (plain dicts and lists) that reports every
  schema problem with its path, with draft-07 semantics (`1.0` is an integer, `true` is not a number).
  It runs only when msgspec rejects a document, or on dicts handed to `validate_document`.

Both understand the same keyword subset; a schema that uses anything else is refused loudly.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Literal, Union

import msgspec
import orjson

from attrgraph_cli.io import json_paths as paths
from attrgraph_cli.jsontypes import json_type_name
from attrgraph_cli.resources import resource_path
from attrgraph_cli.validate.problems import ProblemSink

GRAPH_SCHEMA = "neuronpedia-graph.schema.json"
FEATURE_DETAILS_SCHEMA = "feature-details.schema.json"

#: keywords that constrain documents and that both validators implement
VALIDATION_KEYWORDS = {
    "type",
    "properties",
    "required",
    "items",
    "additionalProperties",
    "minItems",
    "maxItems",
}
#: keywords that describe without constraining (draft-07) or that draft-07 ignores (`prefixItems`,
#: checked by attrgraph's semantic rules instead)
IGNORED_KEYWORDS = {
    "$id",
    "$schema",
    "title",
    "version",
    "description",
    "examples",
    "default",
    "$comment",
    "prefixItems",
}


class UnsupportedSchema(ValueError):
    """The schema uses a keyword that attrgraph's validators do not implement."""


@cache
def load_schema(name: str) -> dict:
    """A schema from `schemas/` (checkout or installed wheel)."""
    return orjson.loads(resource_path("schemas", name).read_bytes())


def _check_keywords(schema: dict, where: str) -> None:
    unknown = set(schema) - VALIDATION_KEYWORDS - IGNORED_KEYWORDS
    if unknown:
        raise UnsupportedSchema(f"schema keyword(s) {sorted(unknown)} at {where} are not supported")


# ---------------------------------------------------------------- draft-07 types of decoded values
_TYPE_TESTS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())
    ),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


#: Python types that always satisfy a JSON type (the tests above decide the rest, e.g. 2.0 as integer)
_EXACT_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
    "array": (list,),
    "object": (dict,),
}


def _show(v: Any) -> str:
    text = (
        orjson.dumps(v, option=orjson.OPT_SERIALIZE_NUMPY).decode() if not isinstance(v, float) else repr(v)
    )
    return text if len(text) <= 40 else text[:37] + "..."


def _describe(v: Any) -> str:
    if isinstance(v, (dict, list)):
        return json_type_name(v)
    return f"{json_type_name(v)} {_show(v)}"


# ---------------------------------------------------------------- precise validator (all problems)
Check = Callable[[Any, str, ProblemSink], None]


def _compile(schema: dict, where: str) -> Check:
    """One check function for `schema`: its type first (a wrong type stops there: the inner keywords
    would only repeat the problem), then its length, items and object keywords."""
    _check_keywords(schema, where)
    type_check = _type_check(schema)
    found = (_length_check(schema), _items_check(schema, where), _object_check(schema, where))
    checks = [c for c in found if c is not None]

    def check(v: Any, path: str, sink: ProblemSink) -> None:
        if type_check is not None:
            before = sink.counts["schema.type"]
            type_check(v, path, sink)
            if sink.counts["schema.type"] != before:
                return
        for c in checks:
            c(v, path, sink)

    return check


def _type_check(schema: dict) -> Check | None:
    types = schema.get("type")
    if types is None:
        return None
    names = [types] if isinstance(types, str) else list(types)
    tests = [_TYPE_TESTS[n] for n in names]
    expected = " or ".join(names)

    def check_type(v: Any, path: str, sink: ProblemSink) -> None:
        for test in tests:
            if test(v):
                return
        sink.add("schema.type", path, f"wrong type: {_describe(v)}", expected)

    return check_type


def _length_check(schema: dict) -> Check | None:
    if "minItems" not in schema and "maxItems" not in schema:
        return None
    lo, hi = schema.get("minItems", 0), schema.get("maxItems")

    def check_len(v: Any, path: str, sink: ProblemSink) -> None:
        if isinstance(v, list) and (len(v) < lo or (hi is not None and len(v) > hi)):
            want = f"exactly {lo}" if lo == hi else (f"at least {lo}" if hi is None else f"{lo} to {hi}")
            sink.add("schema.length", path, f"array has {len(v)} items", f"{want} items")

    return check_len


def _items_check(schema: dict, where: str) -> Check | None:
    if "items" not in schema:
        return None
    item_check = _compile(schema["items"], where + ".items")

    def check_items(v: Any, path: str, sink: ProblemSink) -> None:
        if isinstance(v, list):
            base = "$" if path == paths.ROOT else path
            for i, item in enumerate(v):
                item_check(item, f"{base}[{i}]", sink)

    return check_items


def _object_check(schema: dict, where: str) -> Check | None:
    props = {k: _compile(s, f"{where}.{k}") for k, s in schema.get("properties", {}).items()}
    required = list(schema.get("required", []))
    extra = schema.get("additionalProperties", True)
    if not (props or required or extra is not True):
        return None
    extra_check = _compile(extra, where + ".additionalProperties") if isinstance(extra, dict) else None
    # members whose schema is a bare type are checked inline (no call, no path unless wrong): this is
    # what keeps a million links affordable on the precise path
    simple: dict[str, tuple[frozenset, tuple, str]] = {}
    for k, s in schema.get("properties", {}).items():
        if not (set(s) & VALIDATION_KEYWORDS - {"type"}) and "type" in s:
            names = [s["type"]] if isinstance(s["type"], str) else list(s["type"])
            exact = frozenset(t for n in names for t in _EXACT_TYPES[n])
            simple[k] = (exact, tuple(_TYPE_TESTS[n] for n in names), " or ".join(names))

    def check_object(v: Any, path: str, sink: ProblemSink) -> None:
        if not isinstance(v, dict):
            return
        for name in required:
            if name not in v:
                sink.add("schema.required", paths.key(path, name), "required field is missing", "present")
        for name, value in v.items():
            inline = simple.get(name)
            if inline is not None:
                if type(value) not in inline[0] and not any(test(value) for test in inline[1]):
                    sink.add(
                        "schema.type", paths.key(path, name), f"wrong type: {_describe(value)}", inline[2]
                    )
                continue
            sub = props.get(name)
            if sub is not None:
                sub(value, paths.key(path, name), sink)
            elif extra is False:
                sink.add("schema.additional", paths.key(path, name), "unexpected field", "no such field")
            elif extra_check is not None:
                extra_check(value, paths.key(path, name), sink)

    return check_object


class PreciseValidator:
    """Every schema problem of a decoded document, each with its JSON path."""

    def __init__(self, schema: dict) -> None:
        self._check = _compile(schema, "#")

    def validate(self, doc: Any, sink: ProblemSink) -> None:
        self._check(doc, paths.ROOT, sink)


@cache
def precise_validator(name: str) -> PreciseValidator:
    return PreciseValidator(load_schema(name))


# ---------------------------------------------------------------- msgspec types (fast path)
_SCALARS = {"string": str, "integer": int, "number": float, "boolean": bool, "null": type(None)}


def _field_name(name: str, i: int) -> str:
    ok = name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("_")
    return name if ok else f"field_{i}"


def _fast_type(schema: dict, name: str) -> Any:
    _check_keywords(schema, name)
    types = schema.get("type")
    if types is None:
        if set(schema) & VALIDATION_KEYWORDS:
            raise UnsupportedSchema(f"untyped schema with constraints at {name}")
        return Any
    alts: list[Any] = []
    for t in [types] if isinstance(types, str) else types:
        if t == "object":
            alts.append(_object_type(schema, name))
        elif t == "array":
            item = _fast_type(schema["items"], name + "Item") if "items" in schema else Any
            lo, hi = schema.get("minItems"), schema.get("maxItems")
            alts.append(
                Annotated[list[item], msgspec.Meta(min_length=lo, max_length=hi)]
                if lo is not None or hi is not None
                else list[item]
            )
        else:
            alts.append(_SCALARS[t])
    return alts[0] if len(alts) == 1 else Union[tuple(alts)]  # noqa: UP007 - built at run time


def _object_type(
    schema: dict,
    name: str,
    raw_objects: dict[str, Any] | None = None,
    deferred: dict[str, Any] | None = None,
    overrides: dict[str, Any] | None = None,
    extra_raw: tuple[str, ...] = (),
) -> Any:
    """A Struct for an object schema. With `raw_objects`, members that are objects stay `msgspec.Raw` and
    their own types go into `raw_objects`: the caller decodes them twice, typed and as a dict, to keep
    the keys that the schema does not name (a Struct drops them). Members named in `deferred` stay Raw
    too (their types go there), to be decoded later; `overrides` replaces a member's type."""
    props = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    if not props:
        if schema.get("required"):
            raise UnsupportedSchema(f"required fields without properties at {name}")
        value = _fast_type(extra, name + "Value") if isinstance(extra, dict) else Any
        if extra is False:
            raise UnsupportedSchema(f"additionalProperties: false at {name}")
        return dict[str, value]
    if extra is not True:
        raise UnsupportedSchema(f"properties together with additionalProperties at {name}")
    required = set(schema.get("required", []))
    fields: list[tuple] = []
    rename: dict[str, str] = {}
    for i, (prop, sub) in enumerate(props.items()):
        attr = _field_name(prop, i)
        rename[attr] = prop
        typ = _fast_type(sub, name + prop[:1].upper() + prop[1:])
        if overrides and prop in overrides:
            typ = overrides[prop]
        elif deferred is not None and prop in deferred:
            deferred[prop] = typ
            typ = msgspec.Raw
        elif raw_objects is not None and sub.get("type") == "object":
            raw_objects[prop] = typ
            typ = msgspec.Raw
        if prop in required:
            fields.append((attr, typ))
        else:
            fields.append((attr, Union[typ, msgspec.UnsetType], msgspec.UNSET))  # noqa: UP007
    for j, prop in enumerate(p for p in extra_raw if p not in props):
        attr = _field_name(prop, len(props) + j)
        rename[attr] = prop
        fields.append((attr, Union[msgspec.Raw, msgspec.UnsetType], msgspec.UNSET))  # noqa: UP007
    missing = required - set(props)
    if missing:
        raise UnsupportedSchema(f"required fields {sorted(missing)} without properties at {name}")
    # gc=False: decoded JSON cannot hold reference cycles, and untracked structs decode much faster
    return msgspec.defstruct(name, fields, kw_only=True, gc=False, rename=rename)


#: top-level keys outside the schema that the fast path keeps as `msgspec.Raw` (the attrgraph extension)
EXTRA_RAW_MEMBERS = ("attrgraph",)

#: members of the graph schema decoded after the others: links, whose endpoints must be known node ids
DEFERRED_MEMBERS = ("links",)


@dataclass(frozen=True)
class FastDecoder:
    """The msgspec decoders of a schema file.

    `root` decodes the document with its object members and `DEFERRED_MEMBERS` left as `msgspec.Raw`;
    `members[name]` decodes such an object member (all small: metadata, qParams, ...); `deferred[name]`
    decodes a deferred member with the schema's types alone.
    """

    schema_name: str
    root: msgspec.json.Decoder
    members: dict[str, msgspec.json.Decoder]
    deferred: dict[str, msgspec.json.Decoder]

    def links_with_endpoints(self, node_ids: list[str]) -> msgspec.json.Decoder | None:
        """A decoder of `links` whose source/target accept only `node_ids` (a C-speed set lookup that
        returns the very string objects of `node_ids`). None when the schema does not allow it."""
        items = load_schema(self.schema_name)["properties"]["links"].get("items", {})
        props = items.get("properties", {})
        if not node_ids or any(props.get(end, {}).get("type") != "string" for end in ("source", "target")):
            return None
        endpoint = Literal[tuple(node_ids)]  # type: ignore[valid-type]
        try:
            link = _object_type(items, "Link", overrides={"source": endpoint, "target": endpoint})
        except UnsupportedSchema:
            return None
        return msgspec.json.Decoder(list[link])


@cache
def fast_decoder(name: str) -> FastDecoder | None:
    """The fast decoders for a schema file, or None when the schema needs the precise validator only."""
    schema = load_schema(name)
    members: dict[str, Any] = {}
    deferred = {k: None for k in DEFERRED_MEMBERS if k in schema.get("properties", {})}
    try:
        _check_keywords(schema, "#")
        if schema.get("type") != "object":
            return None
        root = _object_type(schema, "Root", members, deferred, extra_raw=EXTRA_RAW_MEMBERS)
    except UnsupportedSchema:
        return None
    return FastDecoder(
        name,
        msgspec.json.Decoder(root),
        {k: msgspec.json.Decoder(t) for k, t in members.items()},
        {k: msgspec.json.Decoder(t) for k, t in deferred.items()},
    )
