"""Hostile input to the readers (arch, family, job files) and the bounds of search_spaces.bounds.

The readers must answer any byte string with a record or an InputError, nothing else; the
inputs are kept small by hypothesis so that memory and time stay bounded.
"""

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from effnas.jobs import load_job
from scaling import fit_target, load_family, make_family
from scaling.coefficients import Coefficients, load_coefficients
from search_spaces import Arch, InputError, load_arch, parse_block, preset, preset_names
from search_spaces.bounds import (
    MAX_CHANNELS,
    MAX_FILE_BYTES,
    MAX_KEY_PARTS,
    MAX_LAYERS,
    MAX_NESTING,
    MAX_REPEATS,
    MAX_STAGES,
    MAX_TRIALS,
    check_int,
    check_number,
    check_trials,
)
from search_spaces.readers import parse_json_text, parse_toml_text, read_json_file
from search_spaces.units import parse_size

B0 = preset("efficientnet-b0")
HYPOTHESIS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# JSON values of every kind, including the ones the readers must refuse (NaN, huge, deep)
_scalars = (st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70)
            | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12))
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4)
                       | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
_ARCH_KEYS = ["schema", "name", "blocks", "width", "depth", "resolution", "dropout", "drop_connect", "stem_filters",
              "head_filters", "num_classes", "in_channels", "activation", "divisor", "bn_eps", "bn_momentum",
              "stage_repeats", "stage_filters"]


def _answers(read, path, data: bytes):
    """`read(path)` after writing `data`: a result or an InputError; any other exception fails the test."""
    path.write_bytes(data)
    try:
        return read(path)
    except InputError as error:
        assert str(error) and "\n" not in str(error)
        return None


def _mutated(text: str, data) -> bytes:
    """`text` with a few random byte splices (keeps most of the structure, breaks some of it)."""
    raw = bytearray(text.encode())
    for _ in range(data.draw(st.integers(0, 4))):
        at = data.draw(st.integers(0, len(raw)))
        cut = data.draw(st.integers(0, 8))
        raw[at:at + cut] = data.draw(st.binary(max_size=8))
    return bytes(raw)


@pytest.fixture(scope="module")
def family_text():
    return make_family("efficientnet-b0", phis=[0, 1]).to_json()


@HYPOTHESIS
@given(st.binary(max_size=2000))
def test_readers_answer_any_bytes(tmp_path, data):
    for read in (load_arch, load_job, load_family, load_coefficients):
        _answers(lambda p, read=read: read(str(p)), tmp_path / "input.json", data)


@HYPOTHESIS
@given(st.dictionaries(st.sampled_from(_ARCH_KEYS), _values, max_size=6), st.booleans())
def test_arch_reader_answers_any_fields(tmp_path, fields, keep_blocks):
    obj = {"blocks": ["r1_k3_s11_e1_i32_o16", "r2_k5_s22_e6_i16_o24_se0.25"], **fields} if keep_blocks else fields
    arch = _answers(lambda p: load_arch(str(p)), tmp_path / "arch.json", json.dumps(obj).encode())
    if arch is not None:
        assert arch.num_layers <= MAX_LAYERS
        assert Arch.from_json(arch.to_json()) == arch


@HYPOTHESIS
@given(st.data())
def test_readers_answer_mutated_valid_files(tmp_path, family_text, data):
    arch = _mutated(preset(data.draw(st.sampled_from(preset_names()))).to_json(), data)
    _answers(lambda p: load_arch(str(p)), tmp_path / "arch.json", arch)
    _answers(load_family, tmp_path / "family.json", _mutated(family_text, data))
    job = "[job]\nname = 'x'\nrunner = 'inline'\n[family]\nbase = 'efficientnet-b0'\nphis = [0, 1]\n"
    _answers(load_job, tmp_path / "JOB.toml", _mutated(job, data))


@HYPOTHESIS
@given(st.integers(0, 7), st.sampled_from(["phi", "target_macs", "macs", "width", "resolution", "arch"]), _values)
def test_family_reader_answers_any_member_field(tmp_path, family_text, at, key, value):
    data = json.loads(family_text)
    member = data["members"][at % 2]
    if key == "arch":
        member["arch"][_ARCH_KEYS[at + 3]] = value
    else:
        member[key] = value
    _answers(load_family, tmp_path / "family.json", json.dumps(data).encode())


@HYPOTHESIS
@given(st.dictionaries(st.sampled_from(["job", "search", "grid", "family", "detectors"]),
                       st.dictionaries(st.text(max_size=10), _values, max_size=4), max_size=4))
def test_job_reader_answers_any_tables(tmp_path, tables):
    lines = []
    for name, table in tables.items():
        lines.append(f"[{name}]")
        lines += [f"{json.dumps(key)} = {json.dumps(value)}" for key, value in table.items()]
    _answers(load_job, tmp_path / "JOB.toml", "\n".join(lines).encode())


@HYPOTHESIS
@given(st.text(max_size=40), st.text(alphabet="rksieoc_0123456789.²١٠ ", max_size=40))
def test_block_parser_answers_any_text(text, blockish):
    for candidate in (text, blockish):
        try:
            block = parse_block(candidate, in_filters=32)
        except InputError:
            continue
        assert parse_block(block.to_string()) == block
        assert candidate.strip().isascii()


# ------------------------------------------------------------------ the reader's own bounds
def test_file_size_bound(tmp_path):
    path = tmp_path / "big.json"
    path.write_text("{}" + " " * (MAX_FILE_BYTES - 2))
    assert read_json_file(path) == {}
    path.write_text("{}" + " " * (MAX_FILE_BYTES - 1))
    with pytest.raises(InputError, match="larger than 4 MiB"):
        read_json_file(path)


def test_nesting_bound():
    assert parse_json_text("[" * MAX_NESTING + "]" * MAX_NESTING, "x")
    for text in ("[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1), "[" * 100_000):
        with pytest.raises(InputError, match="deeper than 64"):
            parse_json_text(text, "x")
    with pytest.raises(InputError, match="deeper than 64"):
        parse_toml_text("a = " + "[" * 100_000, "x")
    key = ".".join(["a"] * MAX_KEY_PARTS)
    assert parse_toml_text(f"{key} = 1", "x")
    with pytest.raises(InputError, match="dotted key"):
        parse_toml_text(f"a.{key} = 1", "x")


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", "1e400", "[1, -1e999]"])
def test_json_numbers_must_be_finite(text):
    with pytest.raises(InputError, match="not finite"):
        parse_json_text(text, "x")
    assert math.isnan(parse_json_text("NaN", "x", finite=False))


@pytest.mark.parametrize("text", ["a = nan", "a = -inf", "a = 1e400"])
def test_toml_numbers_must_be_finite(text):
    with pytest.raises(InputError, match="not finite"):
        parse_toml_text(text, "x")


def test_utf8_with_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "arch.json"
    path.write_bytes(b"\xef\xbb\xbf" + B0.to_json().encode())
    assert load_arch(str(path)) == B0


# ------------------------------------------------------------------ checkers
def test_check_int_and_check_number():
    assert check_int(5, "n", 1, 5) == 5
    for bad in (True, 2.0, "3", None, 0, 6):
        with pytest.raises(InputError, match="n must"):
            check_int(bad, "n", 1, 5)
    assert check_number(1, "x", 0, 1) == 1.0
    for bad in (math.nan, math.inf, -math.inf, False, "1", 0.0, 1.5):
        with pytest.raises(InputError, match="x must"):
            check_number(bad, "x", 0, 1, open_low=True)
    with pytest.raises(InputError, match=r"\[0, 1\)"):
        check_number(1.0, "x", 0, 1, open_high=True)


def test_check_trials():
    assert check_trials(1) == 1 and check_trials(MAX_TRIALS) == MAX_TRIALS
    for bad in (0, MAX_TRIALS + 1, 10**12, 2.0):
        with pytest.raises(InputError, match="trials"):
            check_trials(bad)


# ------------------------------------------------------------------ bounds on records
@pytest.mark.parametrize("text, fragment", [
    ("r1²_k3_s11_e1_i32_o16", "digits 0-9"), ("r١_k3_s11_e1_i32_o16", "digits 0-9"),
    ("r1_k3_s١_e1_i32_o16", "stride"), ("r1_k3_s11_e1_i32_o16_se٠.5", "SE ratio"),
    ("r1_k3_s11_e1_i32_o16_senan", "SE ratio"), (f"r{MAX_REPEATS + 1}_k3_s11_e1_i32_o16", "repeats"),
    ("r1_k3_s11_e1_i32_o1234567890", "too large"), (f"r1_k3_s11_e1_i32_o{MAX_CHANNELS + 1}", "output filters"),
    ("r1_k3_s11_e8_i4096_o16", "expanded filters"), ("r2_k3_s11_e8_i16_o4096", "expanded filters"),
])
def test_block_string_bounds(text, fragment):
    with pytest.raises(InputError, match=fragment):
        parse_block(text)


def test_block_strings_at_the_bounds_are_read():
    assert parse_block(f"r{MAX_REPEATS}_k3_s11_e1_i32_o{MAX_CHANNELS}").repeats == MAX_REPEATS
    assert parse_block("r1_k3_s11_e4_i4096_o16_se1e-05").se_ratio == 1e-05
    assert parse_block("ir_r1_k3_s2_e6_c24_se0.25", in_filters=16).stride == 2


def test_arch_layer_and_stage_bounds():
    full = ["r128_k3_s11_e1_i16_o16"] * (MAX_LAYERS // MAX_REPEATS)
    assert load_arch(full).num_layers == MAX_LAYERS
    with pytest.raises(InputError, match="at most 512"):
        load_arch([*full, "r1_k3_s11_e1_i16_o16"])
    with pytest.raises(InputError, match="at most 64"):
        load_arch(["r1_k3_s11_e1_i16_o16"] * (MAX_STAGES + 1))
    with pytest.raises(InputError, match="repeats"):
        B0.scaled(depth=40)
    with pytest.raises(InputError, match="16384"):
        B0.scaled(width=20)
    with pytest.raises(InputError, match="stage_repeats"):
        B0.with_(stage_repeats=(1,) * 6 + (MAX_REPEATS + 1,))


@pytest.mark.parametrize("field, value", [
    ("bn_eps", -1), ("bn_eps", 0), ("bn_eps", math.nan), ("bn_momentum", 1.5), ("dropout", math.inf),
    ("num_classes", 10**7), ("divisor", 1000), ("stem_filters", 10**15), ("in_channels", 0), ("resolution", 10**5),
    ("width", 1e300), ("depth", -1), ("resolution", 224.0), ("num_classes", True),
])
def test_arch_field_bounds(field, value):
    with pytest.raises(InputError, match=field.split("_")[0]):
        B0.with_(**{field: value})
    data = B0.to_dict()
    data[field] = value
    with pytest.raises(InputError, match=f"architecture JSON: {field.split('_')[0]}"):
        Arch.from_dict(data)


def test_from_dict_names_the_path():
    data = {**B0.to_dict(), "stage_filters": ["x"] * 7}
    with pytest.raises(InputError, match=r"here: stage_filters\[0\] must be a whole number"):
        Arch.from_dict(data, where="here")
    for value in ("a", 5, {"a": 1}):
        with pytest.raises(InputError, match="here: stage_repeats must be a list"):
            Arch.from_dict({**B0.to_dict(), "stage_repeats": value}, where="here")


def test_build_refuses_too_many_parameters():
    arch = load_arch(["r9_k1_s11_e1_i16384_o16384"]).with_(stem_filters=16, resolution=32)
    assert arch.cost().params > 2 * 10**9
    with pytest.raises(InputError, match="parameters"):
        arch.build()


def test_sizes_and_coefficients_bounds():
    for text in ("1e400", "1e16", "2000T"):
        with pytest.raises(InputError, match="too large"):
            parse_size(text, "MACs target")
    assert parse_size("1000T") == 10**15
    for value in (1e300, math.inf, 0.001, 0):
        with pytest.raises(InputError, match="coefficient alpha"):
            Coefficients(value, 1.1, 1.15)


# ------------------------------------------------------------------ valid input is unchanged
def test_valid_records_still_load(tmp_path):
    for name in preset_names():
        arch = preset(name)
        assert Arch.from_json(arch.to_json()) == arch
    family = make_family("efficientnet-b0", targets=["150M", "3G"])
    path = tmp_path / "family.json"
    path.write_text(family.to_json())
    assert load_family(path) == family
    for job in ("jobs/local-demo.toml",):
        assert load_job(job).name


def test_targets_stay_within_the_bounds():
    fit = fit_target(B0, 10**14)
    assert fit.arch.num_layers <= MAX_LAYERS and abs(fit.error) < 0.01
    with pytest.raises(InputError, match="above the largest"):
        fit_target(B0, 10**15)


@pytest.mark.parametrize("content", [b"\xff\xfe", b"[" * 1000, b'{"schema": 1}', b"[]",
                                     b'{"schema": "effnas.latency-lut/1", "threads": 1, "clock": "cpu", "entries": []}',
                                     b'{"schema": "effnas.latency-lut/1", "threads": 1, "clock": "cpu", '
                                     b'"entries": {"a": "x"}}'])
def test_latency_table_reader(tmp_path, content):
    from nas.latency import LatencyTable

    path = tmp_path / "lut.json"
    path.write_bytes(content)
    with pytest.raises(InputError):
        LatencyTable(path)
