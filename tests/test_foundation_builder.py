"""The builder against efficientnet_pytorch (the reference implementation), features, drop-path."""

import dataclasses

import pytest
import torch

from scaling import make_family
from search_spaces import InputError, load_arch, load_weights
from search_spaces.builder import FeatureInfo, build_features, build_model, feature_info
from search_spaces.cost import features_cost

efficientnet_pytorch = pytest.importorskip("efficientnet_pytorch")


@pytest.mark.parametrize("index", range(8))
def test_outputs_match_efficientnet_pytorch(index):
    name = f"efficientnet-b{index}"
    torch.manual_seed(index)
    reference = efficientnet_pytorch.EfficientNet.from_name(name, image_size=64).eval()
    model = load_weights(load_arch(name).build(padding="same"), reference.state_dict()).eval()
    images = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(images), reference(images), rtol=1e-4, atol=1e-5)


def test_batchnorm_and_drop_path_settings():
    model = load_arch("efficientnet-b0").build()
    bn = model.stem.bn
    assert bn.eps == 1e-3 and bn.momentum == 0.01
    rates = [block.drop_rate for block in model.blocks]
    assert rates[0] == 0.0 and rates == sorted(rates) and rates[-1] == pytest.approx(0.2 * 15 / 16)
    assert model.dropout.p == 0.2 and isinstance(model.stem.act, torch.nn.SiLU)


def test_features_at_strides_8_16_32():
    arch = load_arch("efficientnet-b0")
    model = arch.build().eval()
    with torch.no_grad():
        maps = model.features(torch.randn(1, 3, 128, 128))
    assert [m.shape[-1] for m in maps] == [16, 8, 4]
    assert [m.shape[1] for m in maps] == [model.feature_channels[s] for s in (8, 16, 32)] == [40, 112, 320]


def test_feature_info_is_data_from_the_arch():
    info = feature_info(load_arch("efficientnet-b0"))
    assert [(i.module, i.channels, i.reduction) for i in info] == [
        ("blocks.0", 16, 2), ("blocks.2", 24, 4), ("blocks.4", 40, 8), ("blocks.7", 80, 16),
        ("blocks.10", 112, 16), ("blocks.14", 192, 32), ("blocks.15", 320, 32)]
    assert info[0] == FeatureInfo("blocks.0", 16, 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        info[0].channels = 8


@pytest.mark.parametrize("which", ["efficientnet-b0", "member", "same-padding"])
def test_features_only_model_is_the_classifier_body(which):
    """Same seed: the features-only model has the classifier's stem and stage weights, its outputs are
    the classifier's stage outputs (read at the modules feature_info names), and the generator ends
    where the classifier's construction leaves it."""
    arch = load_arch("efficientnet-b0")
    if which == "member":                      # compound-scaled, stage filters pinned to hit the target
        arch = make_family(arch, targets=["700M"])[0].arch
        assert arch.stage_filters is not None and arch.width > 1 and arch.depth > 1
    padding = "same" if which == "same-padding" else None
    torch.manual_seed(3)
    classifier = build_model(arch, padding=padding).eval()
    after_classifier = torch.rand(4)
    torch.manual_seed(3)
    features = build_features(arch, padding=padding).eval()
    assert torch.equal(torch.rand(4), after_classifier)
    assert not any(hasattr(features, name) for name in ("head", "dropout", "classifier"))
    assert sum(p.numel() for p in features.parameters()) == features_cost(arch).params
    body = {k: v for k, v in classifier.state_dict().items() if k.startswith(("stem.", "blocks."))}
    assert list(features.state_dict()) == list(body)
    assert all(torch.equal(v, body[k]) for k, v in features.state_dict().items())
    assert features.feature_info == classifier.feature_info == feature_info(arch)
    assert features.out_indices == tuple(range(len(arch.stages)))
    stage_outputs = []
    hooks = [classifier.get_submodule(info.module).register_forward_hook(lambda m, i, o: stage_outputs.append(o))
             for info in classifier.feature_info]
    images = torch.randn(2, 3, 96, 96)
    with torch.no_grad():
        classifier(images)
        maps = features(images)
    for hook in hooks:
        hook.remove()
    assert len(maps) == len(stage_outputs) == len(arch.stages)
    for out, expected, info in zip(maps, stage_outputs, features.feature_info, strict=True):
        assert torch.equal(out, expected)
        assert out.shape[1] == info.channels and 96 // out.shape[-1] == info.reduction


def test_features_only_out_indices():
    arch = load_arch("efficientnet-b0")
    torch.manual_seed(0)
    model = build_features(arch, out_indices=(2, 4, 6)).eval()
    with torch.no_grad():
        maps = model(torch.randn(1, 3, 128, 128))
    assert [(m.shape[1], 128 // m.shape[-1]) for m in maps] == [
        (model.feature_info[i].channels, model.feature_info[i].reduction) for i in model.out_indices]
    assert [m.shape[1] for m in maps] == [40, 112, 320]
    for bad in [(), (4, 2), (1, 1), (7,), (-1,), ("blocks.4",)]:
        with pytest.raises(ValueError, match="out_indices"):
            build_features(arch, out_indices=bad)
    with pytest.raises(ValueError, match="padding"):
        build_features(arch, padding="valid")


def test_every_op_of_the_space_builds_and_trains():
    arch = load_arch(["cn_r2_k3_s22_i32_o24_poolskip", "r2_k5_s22_e3_i24_o40_se0.25_poolskip",
                      "r1_k3_s11_e1_i40_o40_noskip", "r2_k3_s22_e6_i40_o48_se0.25"]).with_(num_classes=10)
    model = arch.build()
    assert sum(p.numel() for p in model.parameters()) == arch.cost().params
    loss = model(torch.randn(4, 3, 32, 32)).logsumexp(1).mean()
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())


def test_load_weights_refuses_a_mismatched_state_dict():
    model = load_arch("efficientnet-b0").build()
    other = load_arch("efficientnet-b1").build().state_dict()
    with pytest.raises(InputError):
        load_weights(model, other)
