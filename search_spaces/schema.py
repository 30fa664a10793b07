"""One validation helper for every file format: a mapping checked against a declared dataclass record.

A format declares its schema once, as a dataclass: a field's annotation is the type(s) it accepts,
its default is the value an absent key takes (no default: the key is required), and
``spec(default, check=..., choices=...)`` adds allowed values and a bound checker (the checkers of
:mod:`search_spaces.bounds`). :func:`read` then refuses unknown keys, fills defaults, checks types,
choices and bounds, and raises InputError in the format's own one-line wording (a :class:`Style`):
``"<file/section>: <field path> must be ..., got ..."``. Used by Arch.from_dict (the Arch record
itself), family.json (scaling.family), JOB.toml (effnas.jobs) and the evaluators' options.

Why dataclasses and not pydantic v2 (measured on the 2-core dev machine, Python 3.11, pydantic 2.14.4):
``from pydantic import BaseModel`` costs 62-93 ms and each model class 17-22 ms to build (the four
formats: ~150 ms more at startup), against ~9 ms for ``import dataclasses`` (already imported by the CLI)
and ~1 ms per record. The analytic CLI (``effnas arch show``) starts in 0.09-0.17 s and must stay under
0.5 s without torch; pydantic would roughly double that, is not a declared dependency (Ray brings it),
and its messages would have to be rewritten into ours anyway.

Type rules (JSON/TOML values): bool is never a number; an int is accepted where a float is; a list
is accepted for a tuple field (and becomes a tuple); ``X | None`` accepts null. With
``Style(coerce=True)`` (evaluator options, often typed on a command line) a value is converted with
the field's type instead (``int("3")``); booleans stay strict.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import InputError

Check = Callable[[Any, str], Any]  # (value, the field's name in messages) -> value; InputError when out of bounds
MISSING = dataclasses.MISSING
_NONE = type(None)


def spec(default: Any = MISSING, *, check: Check | None = None, choices: tuple | None = None,
         expected: str | None = None) -> Any:
    """A record field with a default (omit it: required), a bound `check`, allowed `choices`, and
    `expected`: the wording of its type in messages when the default wording does not say enough."""
    return dataclasses.field(default=default,
                             metadata={"check": check, "choices": choices, "expected": expected})


@dataclass(frozen=True)
class FieldSpec:
    """One declared field, as read from its record."""

    name: str
    types: tuple[type, ...]  # accepted types; NoneType when null is allowed
    item: type | None  # element type of a list/tuple field, if declared
    default: Any  # MISSING when required
    check: Check | None
    choices: tuple | None
    expected: str | None


def _types(annotation: Any) -> tuple[tuple[type, ...], type | None]:
    """(accepted types, list element type) of an annotation such as ``tuple[int, ...] | None``."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = typing.get_args(annotation)
    else:
        members = (annotation,)
    accepted, item = [], None
    for member in members:
        origin = typing.get_origin(member)
        if origin is not None:
            args = [a for a in typing.get_args(member) if a is not Ellipsis]
            item = args[0] if len(args) == 1 and isinstance(args[0], type) else None
            member = origin
        accepted.append(object if member is Any else member)
    return tuple(accepted), item


@functools.cache
def fields_of(record: type) -> dict[str, FieldSpec]:
    """The declared fields of a dataclass record, in declaration order."""
    hints = typing.get_type_hints(record)
    result = {}
    for item in dataclasses.fields(record):
        accepted, element = _types(hints[item.name])
        default = item.default if item.default_factory is MISSING else item.default_factory()
        meta = item.metadata
        result[item.name] = FieldSpec(item.name, accepted, element, default, meta.get("check"),
                                      meta.get("choices"), meta.get("expected"))
    return result


def defaults(record: type) -> dict[str, Any]:
    """Every field's default (required fields are left out)."""
    return {name: f.default for name, f in fields_of(record).items() if f.default is not MISSING}


# ------------------------------------------------------------------ wording
_PLAIN = {str: "a string", int: "a whole number", float: "a number", bool: "true or false", dict: "an object",
          list: "a list", tuple: "a list", object: "anything"}


def plain_names(field: FieldSpec) -> str:
    """'a whole number', 'a list of whole numbers', 'a string or an object' (null is not named)."""
    names = []
    for kind in field.types:
        if kind is _NONE:
            continue
        name = _PLAIN.get(kind, kind.__name__)
        if kind in (list, tuple) and field.item in (int, float, str):
            name = {int: "a list of whole numbers", float: "a list of numbers", str: "a list of strings"}[field.item]
        names.append(name)
    return " or ".join(names)


def python_names(field: FieldSpec) -> str:
    """'int', 'str or list' (null is not named)."""
    return " or ".join(kind.__name__ for kind in field.types if kind is not _NONE)


@dataclass(frozen=True)
class Style:
    """How one file format words its errors. Templates get `where`, `key`, and for unknown keys
    `keys` (sorted list), `first`, `listed` ('a', 'b') and `known` (the declared names, comma-separated)."""

    name: str = "{where}: {key}"  # a field as messages name it
    unknown: str = "{where}: unknown keys {keys}"
    missing: str = "{where}: missing key {key!r}"
    type_names: Callable[[FieldSpec], str] = plain_names
    coerce: bool = False


PLAIN = Style()


# ------------------------------------------------------------------ checking
def _accepts(field: FieldSpec, value: Any) -> bool:
    kinds = field.types
    if object in kinds:
        return True
    if isinstance(value, bool):
        return bool in kinds
    if value is None:
        return _NONE in kinds
    if isinstance(value, int) and float in kinds:
        return True
    if isinstance(value, list) and tuple in kinds:
        return True
    return isinstance(value, kinds)


def _coerced(field: FieldSpec, value: Any, name: str, style: Style) -> Any:
    kind = next((k for k in field.types if k is not _NONE), object)
    if value is None or kind is object:
        return value
    if kind is bool:
        if isinstance(value, bool):
            return value
    else:
        try:
            return kind(value)
        except (TypeError, ValueError):
            pass
    raise InputError(f"{name} must be {style.type_names(field)}, got {value!r}")


def check_value(field: FieldSpec, value: Any, name: str, style: Style = PLAIN) -> Any:
    """One present value: its type (or conversion), its choices, its bounds; returns the value to keep."""
    if style.coerce:
        value = _coerced(field, value, name, style)
    else:
        if not _accepts(field, value):
            raise InputError(f"{name} must be {field.expected or style.type_names(field)}, got {value!r}")
        if isinstance(value, list) and tuple in field.types and list not in field.types:
            value = tuple(value)
    if value is None:
        return None
    if field.choices is not None and value not in field.choices:
        raise InputError(f"{name} must be one of {', '.join(map(str, field.choices))}, got {value!r}")
    if field.check is not None:
        field.check(value, name)
    return value


def read(record: type, data: Mapping[str, Any], where: str, style: Style = PLAIN, *,
         skip: tuple[str, ...] = (), extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every field of `record` read from `data` (absent: its default), checked; InputError in `style`'s
    words on an unknown key, a missing required key or a bad value. Fields in `skip` are left to the
    caller; keys in `extra` are allowed but not returned."""
    declared = fields_of(record)
    unknown = sorted(set(data) - set(declared) - set(extra), key=str)
    if unknown:
        raise InputError(style.unknown.format(where=where, keys=unknown, first=unknown[0],
                                              listed=", ".join(map(repr, unknown)), known=", ".join(declared)))
    values = {}
    for key, field in declared.items():
        if key in skip:
            continue
        if key not in data:
            if field.default is MISSING:
                raise InputError(style.missing.format(where=where, key=key, known=", ".join(declared)))
            values[key] = field.default
        else:
            values[key] = check_value(field, data[key], style.name.format(where=where, key=key), style)
    return values


def check_fields(instance: Any, style: Style = PLAIN, where: str = "") -> None:
    """Run the bound checks declared on a record's fields against an instance (None skips a field)."""
    for key, field in fields_of(type(instance)).items():
        value = getattr(instance, key)
        if value is None:
            continue
        name = style.name.format(where=where, key=key) if where else key
        if field.choices is not None and value not in field.choices:
            raise InputError(f"{name} must be one of {', '.join(map(str, field.choices))}, got {value!r}")
        if field.check is not None:
            field.check(value, name)


def optional_view(record: type, name: str, *, drop: tuple[str, ...] = (), add: tuple[tuple[str, Any, Any], ...] = (),
                  override: Mapping[str, tuple[Any, Any]] | None = None) -> type:
    """A record with `record`'s fields, each optional (default None: "not given", so a later layer
    fills it), their checks and choices kept: a file section that is a view of a record declared
    elsewhere. `drop`: fields left out; `add`: (name, annotation, field) declared first; `override`:
    name -> (annotation, field) replacing a field's declaration."""
    hints, override = typing.get_type_hints(record), dict(override or {})
    declared = []
    for item in dataclasses.fields(record):
        if item.name in drop:
            continue
        if item.name in override:
            declared.append((item.name, *override[item.name]))
            continue
        meta = item.metadata
        optional = spec(None, check=meta.get("check"), choices=meta.get("choices"), expected=meta.get("expected"))
        declared.append((item.name, hints[item.name] | None, optional))
    return dataclasses.make_dataclass(name, [*add, *declared], frozen=True, kw_only=True)
