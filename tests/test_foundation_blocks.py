"""Block strings (TF and timm), BlockArgs validation, Arch JSON round trip, load_arch."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search_spaces import Arch, BlockArgs, InputError, load_arch, parse_block, parse_blocks, preset_names


def test_tf_string_round_trip():
    text = "r2_k3_s22_e6_i16_o24_se0.25"
    block = parse_block(text)
    assert block == BlockArgs(repeats=2, kernel=3, stride=2, expand_ratio=6, in_filters=16, out_filters=24,
                              se_ratio=0.25)
    assert block.to_string() == text
    assert parse_block("r1_k3_s11_e1_i32_o16_noskip").skip == "none"
    assert parse_block("r1_k3_s11_e1_i32_o16_poolskip").skip == "pool"
    conv = parse_block("cn_r1_k5_s22_i16_o24")
    assert conv.op == "conv" and conv.to_string() == "cn_r1_k5_s22_i16_o24"


def test_timm_strings_chain_inputs():
    blocks = parse_blocks(["ds_r1_k3_s1_e1_c16_se0.25", "ir_r2_k3_s2_e6_c24_se0.25"], stem_filters=32)
    assert blocks[0].in_filters == 32 and blocks[1].in_filters == 16
    assert blocks[1].stride == 2 and blocks[1].out_filters == 24 and blocks[1].se_ratio == 0.25


@pytest.mark.parametrize("text", [
    "r1_k3_zz", "r0_k3_s11_e1_i32_o16", "r1_k3_s33_e1_i32_o16", "r1_k3_s11_e1_i32_o16_se1.5",
    "r1_s11_e1_i32_o16", "r1_k3_s11_e1_i32", "garbage", "", "r1_k3_s12_e1_i32_o16", "xx_r1_k3_s11_e1_i32_o16",
    "r1_k3_s11_e1_i32_o16_se", "r1_r2_k3_s11_e1_i32_o16", "cn_r1_k3_s11_e6_i32_o16", "r1_k4_s11_e1_i32_o16",
])
def test_malformed_blocks_are_refused(text):
    with pytest.raises(InputError):
        parse_blocks([text])


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="rksieoc_0123456789.nopl", max_size=40))
def test_parser_fuzz_never_crashes(text):
    try:
        blocks = parse_blocks([text])
    except InputError:
        return
    # anything accepted formats and re-parses to the same record
    assert parse_blocks([blocks[0].to_string()]) == blocks


blocks_strategy = st.builds(
    BlockArgs, repeats=st.integers(1, 6), kernel=st.sampled_from([3, 5, 7]), stride=st.sampled_from([1, 2]),
    expand_ratio=st.sampled_from([1, 3, 6]), in_filters=st.integers(8, 512), out_filters=st.integers(8, 512),
    se_ratio=st.sampled_from([0.0, 0.25, 0.5]), skip=st.sampled_from(["identity", "none", "pool"]),
    op=st.just("mbconv"))


@settings(max_examples=200, deadline=None)
@given(blocks_strategy)
def test_block_format_is_lossless(block):
    assert parse_block(block.to_string()) == block


def test_arch_json_round_trip_all_presets(tmp_path):
    for name in preset_names():
        arch = load_arch(name)
        assert Arch.from_json(arch.to_json()) == arch
        path = tmp_path / f"{name}.json"
        path.write_text(arch.to_json())
        assert load_arch(str(path)) == arch
    pinned = load_arch("efficientnet-b0").with_(stage_repeats=(1, 2, 3, 3, 3, 4, 2), width=1.3)
    assert Arch.from_json(pinned.to_json()) == pinned


@pytest.mark.parametrize("payload", [
    {"schema": "other/1", "blocks": ["r1_k3_s11_e1_i32_o16"]},
    {"blocks": "r1_k3_s11_e1_i32_o16"},
    {"blocks": ["r1_k3_s11_e1_i32_o16"], "width": -1},
    {"blocks": ["r1_k3_s11_e1_i32_o16"], "resolution": "big"},
    {"blocks": ["r1_k3_s11_e1_i32_o16"], "colour": "red"},
    [1, 2, 3],
])
def test_wrong_schema_json_is_refused(payload):
    with pytest.raises(InputError):
        Arch.from_json(json.dumps(payload))


def test_unknown_preset_suggests_the_closest():
    with pytest.raises(InputError, match="efficientnet-b3"):
        load_arch("efficientnet-b33")


def test_non_positive_multipliers_refused():
    b0 = load_arch("efficientnet-b0")
    for change in ({"width": 0}, {"depth": -1.0}, {"resolution": 0}, {"width": float("nan")}):
        with pytest.raises(InputError):
            b0.with_(**change)


def test_rounding_matches_the_official_table():
    b4 = load_arch("efficientnet-b4")
    assert b4.stem_channels == 48 and b4.head_channels == 1792
    assert [s.repeats for s in b4.stages] == [2, 4, 4, 6, 6, 8, 2]
    assert [s.out_filters for s in b4.stages] == [24, 32, 56, 112, 160, 272, 448]
