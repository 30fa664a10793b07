"""make_family, family.json schema round trip, load_family validation, the official comparison."""

import json

import pytest

from scaling import FAMILY_SCHEMA, compound_scale, load_family, make_family
from scaling.official import official_comparison
from search_spaces import InputError, load_arch

B0 = load_arch("efficientnet-b0")


def test_phi_family_matches_compound_scale():
    family = make_family("efficientnet-b0", phis=[0, 1, 2.5])
    assert [m.phi for m in family] == [0, 1, 2.5]
    assert family[0].arch == B0
    assert family[1].arch == compound_scale(B0, 1)
    assert all(m.target_macs is None for m in family)


def test_schema_exact_and_round_trip(tmp_path):
    family = make_family(B0, targets=["150M", 600_000_000, "3G"])
    data = family.to_dict()
    assert list(data) == ["schema", "base", "coefficients", "members"]
    assert data["schema"] == FAMILY_SCHEMA and data["base"] == "efficientnet-b0"
    assert data["coefficients"] == {"alpha": 1.2, "beta": 1.1, "gamma": 1.15}
    for member in data["members"]:
        assert list(member) == ["phi", "target_macs", "macs", "params", "width", "depth", "resolution", "arch"]
        arch = load_arch(json.dumps(member["arch"]))
        assert arch.cost() == (member["params"], member["macs"])
        assert abs(member["macs"] - member["target_macs"]) <= 0.01 * member["target_macs"]
    path = tmp_path / "family.json"
    path.write_text(family.to_json())
    again = load_family(path)
    assert again.to_dict() == data
    assert load_arch(str(tmp_path / "m.json") if False else json.dumps(data["members"][1]["arch"])).cost().macs \
        == data["members"][1]["macs"]


def test_custom_base_is_stored_as_arch_json(tmp_path):
    base = load_arch("mnasnet-a1").with_(name="mine", resolution=192)
    family = make_family(base, phis=[1])
    assert isinstance(family.to_dict()["base"], dict)
    path = tmp_path / "f.json"
    path.write_text(family.to_json())
    assert load_family(path).base == base


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(schema="effnas.family/2"), "schema"),
    (lambda d: d.update(extra=1), "unknown keys"),
    (lambda d: d.update(members=[]), "non-empty"),
    (lambda d: d["members"][0].update(macs=d["members"][0]["macs"] + 1), "arch gives"),
    (lambda d: d["members"][0].pop("phi"), "exactly the keys"),
    (lambda d: d["members"][0].update(width=9.0), "disagree"),
    (lambda d: d.update(coefficients={"alpha": 1}), "coefficients"),
    (lambda d: d.update(base="no-such-net"), "unknown architecture"),
    (lambda d: d["members"][1].update(macs="x"), r"member 1: macs must be a whole number, got 'x'"),
    (lambda d: d["members"][0].update(resolution=0), r"member 0: resolution must be in 8\.\.8192, got 0"),
])
def test_load_family_refuses_bad_files(tmp_path, mutate, message):
    data = make_family(B0, phis=[0, 1]).to_dict()
    mutate(data)
    path = tmp_path / "family.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match=message):
        load_family(path)


def test_load_family_io_errors(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        load_family(tmp_path / "none.json")
    (tmp_path / "x.json").write_text("[")
    with pytest.raises(InputError, match="not valid JSON"):
        load_family(tmp_path / "x.json")


def test_make_family_bad_inputs():
    with pytest.raises(InputError):
        make_family(B0)
    with pytest.raises(InputError):
        make_family(B0, phis=[1], targets=["1G"])
    with pytest.raises(InputError):
        make_family(B0, targets=["lots"])
    with pytest.raises(InputError):
        make_family(B0, phis=[1], coefficients=(2, 2, 2))
    assert len(make_family(B0, phis=[1], coefficients=(2, 2, 2), allow_any=True)) == 1


def test_official_comparison_computed_from_presets():
    rows = official_comparison(make_family(B0, phis=list(range(8))))
    assert [r["official"] for r in rows] == [f"efficientnet-b{i}" for i in range(8)]
    # docs/PAPER_FACTS.md, "EfficientNet B0–B7": paper MACs 0.39B ... 37B; computed from the presets, within ~7%
    paper = [0.39e9, 0.70e9, 1.0e9, 1.8e9, 4.2e9, 9.9e9, 19e9, 37e9]
    for row, expected in zip(rows, paper, strict=True):
        assert row["official_macs"] == pytest.approx(expected, rel=0.07)
    assert rows[1]["official_width"] == 1.0 and rows[7]["official_depth"] == 3.1  # hand-rounded
    assert rows[0]["official_over_formula"] == 1.0
    assert official_comparison(make_family("mnasnet-a1", phis=[0, 1])) == []
