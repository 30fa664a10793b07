"""search_spaces.schema: one helper reads a mapping against a declared dataclass record."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from search_spaces import InputError
from search_spaces.bounds import check_int
from search_spaces.schema import PLAIN, Style, check_fields, defaults, fields_of, python_names, read, spec


@dataclass(frozen=True)
class Record:
    name: str
    size: int = spec(3, check=lambda v, what: check_int(v, what, 1, 10))
    rate: float = 0.5
    mode: str = spec("a", choices=("a", "b"))
    pins: tuple[int, ...] | None = None
    flag: bool = False


def test_defaults_are_declared_once():
    assert defaults(Record) == {"size": 3, "rate": 0.5, "mode": "a", "pins": None, "flag": False}
    assert list(fields_of(Record)) == ["name", "size", "rate", "mode", "pins", "flag"]
    assert read(Record, {"name": "x"}, "f") == {"name": "x", **defaults(Record)}


def test_types_follow_json():
    values = read(Record, {"name": "x", "rate": 1, "pins": [1, 2]}, "f")
    assert values["rate"] == 1 and values["pins"] == (1, 2)  # ints are numbers, lists fill tuple fields
    for key, value, message in [("size", True, "f: size must be a whole number, got True"),
                                ("rate", "1", "f: rate must be a number, got '1'"),
                                ("pins", 5, "f: pins must be a list of whole numbers, got 5"),
                                ("flag", 1, "f: flag must be true or false, got 1"),
                                ("name", None, "f: name must be a string, got None")]:
        with pytest.raises(InputError) as error:
            read(Record, {"name": "x", key: value}, "f")
        assert str(error.value) == message


def test_bounds_choices_unknown_and_missing_keys():
    cases = [({"name": "x", "size": 11}, "f: size must be in 1..10, got 11"),
             ({"name": "x", "mode": "c"}, "f: mode must be one of a, b, got 'c'"),
             ({"name": "x", "zz": 1, "aa": 2}, "f: unknown keys ['aa', 'zz']"),
             ({}, "f: missing key 'name'")]
    for data, message in cases:
        with pytest.raises(InputError) as error:
            read(Record, data, "f")
        assert str(error.value) == message
    assert read(Record, {"name": "x", "schema": 1}, "f", extra=("schema",))["name"] == "x"
    assert "name" not in read(Record, {"name": 1}, "f", skip=("name",))


def test_styles_word_the_errors_of_a_format():
    job = Style(name="job: {where} {key}", unknown="job: unknown key {first!r} in {where} (known: {known})",
                type_names=python_names)
    with pytest.raises(InputError, match=r"^job: \[s\] size must be int, got 'x'$"):
        read(Record, {"name": "x", "size": "x"}, "[s]", job)
    with pytest.raises(InputError, match=r"^job: unknown key 'q' in \[s\] \(known: name, size, rate"):
        read(Record, {"q": 1}, "[s]", job)
    coerce = Style(name="option {key!r}", coerce=True)
    assert read(Record, {"name": 5, "size": "4", "rate": "2"}, "", coerce) == {
        "name": "5", "size": 4, "rate": 2.0, "mode": "a", "pins": None, "flag": False}
    with pytest.raises(InputError, match="option 'flag' must be true or false, got 'yes'"):
        read(Record, {"name": "x", "flag": "yes"}, "", coerce)


def test_check_fields_applies_the_declared_bounds_to_an_instance():
    check_fields(Record("x"))
    with pytest.raises(InputError, match="^size must be in 1..10, got 0$"):
        check_fields(Record("x", size=0))
    with pytest.raises(InputError, match="^mode must be one of a, b, got 'z'$"):
        check_fields(Record("x", mode="z"), PLAIN)
