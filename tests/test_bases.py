"""Bases beyond EfficientNet (issue 26): block kinds as plug-ins, the ResNet / MobileNetV1 /
EfficientNetV2 presets, torchvision's parameter names, and scaling any base.

The published figures below are expectations (torchvision's model tables, the MobileNetV1 paper),
never read by product code. tests/data/torchvision/ holds torchvision's state_dict names and shapes,
generated from its source by tests/data/torchvision/make_names.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from scaling import compound_scale
from scaling.targets import fit_target
from search_spaces import Arch, load_arch, load_weights, parse_block, parse_blocks
from search_spaces.graph import graph_nodes
from search_spaces.kinds import KINDS, PREFIXES

DATA = Path(__file__).parent / "data" / "torchvision"
# torchvision's published parameter counts and GFLOPS (its model tables: multiply-adds, at 224 px for
# ResNet, 384 / 480 / 480 px for EfficientNetV2-S / M / L)
TORCHVISION = {
    "resnet-18": ("resnet18", 11_689_512, 1.81), "resnet-34": ("resnet34", 21_797_672, 3.66),
    "resnet-50": ("resnet50", 25_557_032, 4.09), "resnet-101": ("resnet101", 44_549_160, 7.80),
    "resnet-152": ("resnet152", 60_192_808, 11.51), "efficientnetv2-s": ("efficientnet_v2_s", 21_458_488, 8.37),
    "efficientnetv2-m": ("efficientnet_v2_m", 54_139_356, 24.58),
    "efficientnetv2-l": ("efficientnet_v2_l", 118_515_272, 56.08),
}
# a small arch with a stage of every kind (SE where the kind takes it; shape-changing residuals)
ALL_KINDS = ["cn_r1_k3_s11_i16_o16_se0.25", "r2_k5_s22_e3_i16_o24_se0.25_poolskip", "dsa_r2_k3_s11_i24_o32_se0.25",
             "er_r2_k3_s22_e4_i32_o32_se0.25", "er_r1_k3_s11_e1_i32_o40", "rb_r2_k3_s22_i40_o48",
             "bt_r2_k3_s22_e4_i48_o64", "bt_r1_k3_s11_e2_i64_o64_noskip"]


def tiny_all_kinds(**changes) -> Arch:
    return Arch(blocks=parse_blocks(ALL_KINDS, stem_filters=16), name="all-kinds", stem_filters=16,
                head_filters=64, num_classes=10, resolution=64, **changes)


def _counted_macs(model, resolution):
    model.eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, 3, resolution, resolution))
    return counter.get_total_flops() / 2


@pytest.mark.parametrize("name", list(TORCHVISION))
def test_params_equal_torchvision_and_macs_within_one_percent(name):
    _, params, gflops = TORCHVISION[name]
    cost = load_arch(name).cost()
    assert cost.params == params
    assert cost.macs / 1e9 == pytest.approx(gflops, rel=0.01)


def test_mobilenet_v1_matches_the_paper():
    # Howard et al. 2017, Table 1/8: 4.2M parameters, 569M mult-adds
    cost = load_arch("mobilenet-v1").cost()
    assert cost.params == pytest.approx(4.2e6, rel=0.01) and cost.macs == pytest.approx(569e6, rel=0.01)


@pytest.mark.parametrize("name", ["resnet-18", "resnet-50", "mobilenet-v1", "efficientnetv2-s"])
def test_a_real_module_with_features_at_strides_8_16_32(name):
    arch = load_arch(name).with_(resolution=64)
    model = arch.build().eval()
    assert sum(p.numel() for p in model.parameters()) == arch.cost().params
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert model(x).shape == (2, 1000)
        maps = model.features(x)
    assert model.feature_strides == (8, 16, 32)
    assert [m.shape[-1] for m in maps] == [8, 4, 2]
    assert [m.shape[1] for m in maps] == [model.feature_channels[s] for s in (8, 16, 32)]


def _scaled_members():
    return [load_arch("resnet-18").scaled(width=1.3, depth=0.6), load_arch("resnet-50").scaled(width=0.6, depth=0.4),
            load_arch("mobilenet-v1").scaled(width=0.75, depth=1.4), load_arch("efficientnetv2-s").scaled(0.4, 0.3),
            tiny_all_kinds(), tiny_all_kinds(width=1.7, depth=1.5)]


@pytest.mark.parametrize("arch", _scaled_members(), ids=lambda a: f"{a.name}-w{a.width:g}")
def test_cost_model_is_exact_on_every_kind(arch):
    model = arch.build()
    assert arch.cost().params == sum(p.numel() for p in model.parameters())
    for resolution in (64, 97):
        assert arch.cost(resolution).macs == pytest.approx(_counted_macs(model, resolution), rel=0.005)
    assert sum(node["macs"] for _, node in graph_nodes(arch)) == arch.cost().macs
    assert sum(node["params"] for _, node in graph_nodes(arch)) == arch.cost().params


def test_every_kind_is_registered_with_its_own_prefix_and_round_trips():
    assert set(KINDS) == {"mbconv", "conv", "separable", "fused", "basic", "bottleneck"}
    assert {PREFIXES[p] for p in ("ir", "cn", "dsa", "er", "rb", "bt")} == set(KINDS)
    for text in ALL_KINDS:
        block = parse_block(text)
        assert parse_block(block.to_string()) == block
        # timm style: output channels as c, the input from the previous stage
        timm = block.to_string().replace(f"_i{block.in_filters}", "").replace("_o", "_c")
        assert parse_block(timm, in_filters=block.in_filters) == block
    assert parse_block("bt_r3_k3_s11_e4_i64_o256").to_string() == "bt_r3_k3_s11_e4_i64_o256"


def test_resnet_layout_is_torchvisions():
    model = load_arch("resnet-50").build()
    first = model.blocks[0]
    assert first.conv1.conv.kernel_size == (1, 1) and first.conv2.conv.stride == (1, 1)
    strided = model.blocks[3]  # layer2.0: the stride on the 3×3 (v1.5), a strided 1×1 projection
    assert strided.conv2.conv.stride == (2, 2) and strided.conv1.conv.stride == (1, 1)
    assert strided.shortcut.conv.stride == (2, 2) and model.blocks[4].shortcut is None
    assert model.stem.conv.kernel_size == (7, 7) and isinstance(model.head, torch.nn.Identity)


def _torchvision(name: str) -> dict:
    return json.loads((DATA / f"{TORCHVISION[name][0]}.json").read_text())


@pytest.mark.parametrize("name", list(TORCHVISION))
def test_torchvision_names_map_onto_every_parameter(name):
    data = _torchvision(name)
    assert data["params"] == TORCHVISION[name][1]
    with torch.device("meta"):
        model = load_arch(name).build()
    own = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    from search_spaces.weights import torchvision_names

    names = torchvision_names(model.arch)
    mapped = {}
    for key, shape in data["state_dict"]:
        module, _, leaf = key.rpartition(".")
        mapped[f"{names[module]}.{leaf}"] = tuple(shape)
    assert mapped == own


@pytest.mark.parametrize("name,probe", [("resnet-18", ("layer3.1.bn2.running_var", "blocks.5.conv2.bn.running_var")),
                                        ("efficientnetv2-s", ("features.4.2.block.2.fc1.weight",
                                                              "blocks.12.se.reduce.weight"))])
def test_a_torchvision_state_dict_loads(name, probe):
    model = load_arch(name).build()
    state = {key: torch.randn(shape) if shape else torch.tensor(7) for key, shape in _torchvision(name)["state_dict"]}
    load_weights(model, state)
    theirs, ours = probe
    assert torch.equal(model.state_dict()[ours], state[theirs])


def test_bottleneck_width_scaling_keeps_an_integer_bottleneck():
    member = compound_scale(load_arch("resnet-50"), 1.3)
    assert all(stage.out_filters % 32 == 0 for stage in member.stages)
    member.build()  # every stage builds


@pytest.mark.parametrize("base,targets", [("resnet-50", (0.1926e9, 8e9, 16e9)), ("mobilenet-v1", (1.2e9, 2.3e9)),
                                          ("efficientnetv2-s", (16e9,)), ("resnet-18", (4e9,))])
def test_families_of_any_base_hit_their_targets(base, targets):
    for target in targets:
        fit = fit_target(load_arch(base), int(target))
        assert abs(fit.error) < 0.01
        assert fit.arch.cost().macs == fit.macs
        if fit.arch.stage_filters:
            for block, filters in zip(fit.arch.blocks, fit.arch.stage_filters, strict=True):
                assert filters % block.kind.filter_unit(block, fit.arch.divisor) == 0


def test_cli_family_and_detector_on_new_bases(run_cli, tmp_path):
    code, out, err = run_cli("family", "--base", "resnet-50", "--targets", "8G,16G", "-o", tmp_path / "f.json")
    assert code == 0, err
    assert len(json.loads((tmp_path / "f.json").read_text())["members"]) == 2
    code, out, err = run_cli("detector", "show", "d0", "--backbone", "resnet-50", "--json")
    assert code == 0, err


@pytest.mark.slow
def test_cli_grid_on_mobilenet_v1(run_cli, tmp_path):
    code, out, err = run_cli("grid", "--base", "mobilenet-v1", "--evaluator", "zero-cost", "--out", tmp_path / "g",
                             "--quiet", "--no-plot", "--config", "resolution=16", "--config", "batch=4")
    assert code == 0, err
    assert json.loads((tmp_path / "g" / "grid.json").read_text())


def test_arch_json_of_the_new_fields_round_trips_and_old_files_stay_as_they_were():
    resnet = load_arch("resnet-50")
    assert Arch.from_json(resnet.to_json()) == resnet
    assert resnet.to_dict()["stem_kernel"] == 7 and resnet.to_dict()["stem_pool"] is True
    b0 = load_arch("efficientnet-b0").to_dict()
    assert "stem_kernel" not in b0 and "stem_pool" not in b0


def test_pt2_export_of_every_kind(run_cli, tmp_path):
    (tmp_path / "a.json").write_text(tiny_all_kinds().to_json())
    code, out, err = run_cli("arch", "export", tmp_path / "a.json", "-o", tmp_path / "m.pt2")
    assert code == 0, err
    assert (tmp_path / "m.pt2").stat().st_size > 0


@pytest.mark.slow
def test_onnx_export_of_every_kind(run_cli, tmp_path):
    (tmp_path / "a.json").write_text(tiny_all_kinds().to_json())
    code, out, err = run_cli("arch", "export", tmp_path / "a.json", "-o", tmp_path / "m.onnx", "--check")
    assert code == 0, err
    assert "max abs diff" in out


@pytest.mark.slow
@pytest.mark.parametrize("name", ["resnet-18", "mobilenet-v1", "efficientnetv2-s"])
def test_preset_exports_to_onnx_and_pt2(run_cli, tmp_path, name):
    for suffix, extra in (("onnx", ["--check"]), ("pt2", [])):
        code, out, err = run_cli("arch", "export", name, "--resolution", "64", "-o", tmp_path / f"m.{suffix}", *extra)
        assert code == 0, err


def test_an_efficientdet_runs_on_a_resnet_backbone():
    from detectors import efficientdet

    model = efficientdet("d0", backbone=load_arch("resnet-18")).eval()
    with torch.no_grad():
        classes, boxes = model(torch.randn(1, 3, 128, 128))
    assert [c.shape[-1] for c in classes] == [16, 8, 4, 2, 1] and len(boxes) == 5


def test_every_kind_is_documented():
    text = (Path(__file__).resolve().parents[1] / "docs" / "KINDS.md").read_text()
    for name, kind in KINDS.items():
        assert f"| `{name}` |" in text
        written = kind.prefixes[0]
        assert (f"`{written}_`" in text) if written else ("| none" in text)
