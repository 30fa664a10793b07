"""The α·β²·γ² ≈ 2 constraint, coefficient parsing and coefficients.json."""

import json

import pytest

from scaling.coefficients import (
    PAPER,
    TOLERANCE,
    Coefficients,
    as_coefficients,
    coefficients_record,
    load_coefficients,
    parse_coefficients,
)
from search_spaces import InputError


def test_paper_coefficients_pass_with_documented_tolerance():
    assert PAPER.product == pytest.approx(1.2 * 1.1**2 * 1.15**2)
    assert PAPER.product == pytest.approx(1.92, abs=1e-3)
    assert PAPER.satisfies()
    assert PAPER.check() is PAPER
    assert TOLERANCE == 0.1


@pytest.mark.parametrize("values", [(1.5, 1.5, 1.5), (1.0, 1.0, 1.0), (0.9, 1.2, 1.25), (2.2, 1.0, 1.0)])
def test_violators_refused_unless_allowed(values):
    c = Coefficients(*values)
    assert not c.satisfies()
    with pytest.raises(InputError, match="allow-any-coefficients"):
        c.check()
    assert c.check(allow_any=True) is c


def test_exact_two_and_edges():
    assert Coefficients(2.0, 1.0, 1.0).satisfies()
    assert Coefficients(1.0, 2**0.25, 2**0.25).satisfies()
    assert Coefficients(2.1, 1.0, 1.0).satisfies()
    assert not Coefficients(2.11, 1.0, 1.0).satisfies()
    assert Coefficients(1.5, 1.0, 1.0).satisfies(tolerance=0.5)


@pytest.mark.parametrize("bad", ["1.2,1.1", "a,b,c", "1,2,3,4", "", "1.2,-1,1.1", "1.2,nan,1"])
def test_parse_bad(bad):
    with pytest.raises(InputError):
        parse_coefficients(bad)


def test_parse_and_forms():
    assert parse_coefficients(" 1.2, 1.1 ,1.15") == PAPER
    assert as_coefficients(None) == PAPER
    assert as_coefficients({"alpha": 1.2, "beta": 1.1, "gamma": 1.15}) == PAPER
    assert as_coefficients([1.2, 1.1, 1.15]) == PAPER
    with pytest.raises(InputError, match="missing"):
        as_coefficients({"alpha": 1.2})


def test_coefficients_json_round_trip(tmp_path):
    path = tmp_path / "coefficients.json"
    path.write_text(json.dumps(coefficients_record(Coefficients(1.3, 1.05, 1.15), metric=0.5)))
    assert load_coefficients(path) == Coefficients(1.3, 1.05, 1.15)
    path.write_text(json.dumps({"schema": "other/1", "alpha": 1}))
    with pytest.raises(InputError, match="schema"):
        load_coefficients(path)
    path.write_text("{nope")
    with pytest.raises(InputError, match="not valid JSON"):
        load_coefficients(path)
    with pytest.raises(InputError, match="cannot read"):
        load_coefficients(tmp_path / "missing.json")
