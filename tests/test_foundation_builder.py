"""The builder against efficientnet_pytorch (the reference implementation), features, drop-path."""

import pytest
import torch

from search_spaces import InputError, load_arch, load_weights

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
