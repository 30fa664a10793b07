"""effnas's ResNet-18/50 and EfficientNetV2-S presets compute what torchvision's models compute.

torchvision's models (tests/data/torchvision/reference_models.py, its 0.29.1 source with forward passes) get
random weights and random BN statistics (so no BN is the identity); their state dict is loaded into effnas's
build of the preset with ``load_weights``, and both, in eval mode, must give the same logits on a random batch.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

import pytest
import torch
from torch import nn

from search_spaces import load_arch, load_weights

_PATH = Path(__file__).parent / "data" / "torchvision" / "reference_models.py"


def _reference_models():
    name = "torchvision_reference_models"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, _PATH)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up here
        spec.loader.exec_module(module)
    return sys.modules[name]


# effnas preset → (torchvision constructor, input resolution)
CASES = {"resnet-18": ("resnet18", 64), "resnet-50": ("resnet50", 64), "efficientnetv2-s": ("efficientnet_v2_s", 64)}


def _randomise(model: nn.Module) -> None:
    """Random weights everywhere, and BN affine parameters and running statistics far from the identity."""
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.normal_(0.0, 0.1)
            module.running_var.uniform_(0.5, 1.5)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.normal_(0.0, 0.1)
        elif isinstance(module, nn.Conv2d | nn.Linear):
            fan_in = module.weight[0].numel()
            module.weight.data.normal_(0.0, fan_in**-0.5)  # variance 1 / fan-in: logits stay of order 1 to 10
            if module.bias is not None:
                module.bias.data.normal_(0.0, 0.1)


@pytest.mark.parametrize("name", list(CASES))
def test_preset_matches_torchvision(name):
    constructor, resolution = CASES[name]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        start = time.perf_counter()
        torch.manual_seed(0)
        theirs = getattr(_reference_models(), constructor)()
        _randomise(theirs)
        ours = load_arch(name).build()
        load_weights(ours, theirs.state_dict())
        theirs.eval()
        ours.eval()
        x = torch.randn(2, 3, resolution, resolution)
        with torch.no_grad():
            expected = theirs(x)
            actual = ours(x)
        diff = (actual - expected).abs().max().item()
        print(f"{name}: max |logit difference| {diff:.3g} (logits up to {expected.abs().max().item():.3g}), "
              f"{time.perf_counter() - start:.1f} s")
        assert actual.shape == expected.shape == (2, 1000)
        torch.testing.assert_close(actual, expected, atol=1e-4, rtol=1e-4)
    finally:
        torch.set_num_threads(threads)
