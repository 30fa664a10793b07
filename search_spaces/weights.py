"""load_weights: load a state dict into a built model, accepting efficientnet_pytorch's names and
torchvision's (ResNet and EfficientNetV2 layouts: its ``layerS.I.*`` / ``features.S.I.block.*`` names
are mapped through the model's arch, stage by stage)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .errors import InputError

if TYPE_CHECKING:  # torch only in annotations: importing search_spaces stays torch-free
    import torch
    from torch import nn

    from .arch import Arch

# efficientnet_pytorch name → effnas name (applied in order, first match wins)
_EFFICIENTNET_PYTORCH = (
    (r"^_conv_stem\.", "stem.conv."), (r"^_bn0\.", "stem.bn."),
    (r"^_conv_head\.", "head.conv."), (r"^_bn1\.", "head.bn."), (r"^_fc\.", "classifier."),
    (r"^_blocks\.(\d+)\._expand_conv\.", r"blocks.\1.expand.conv."),
    (r"^_blocks\.(\d+)\._bn0\.", r"blocks.\1.expand.bn."),
    (r"^_blocks\.(\d+)\._depthwise_conv\.", r"blocks.\1.dw.conv."),
    (r"^_blocks\.(\d+)\._bn1\.", r"blocks.\1.dw.bn."),
    (r"^_blocks\.(\d+)\._se_reduce\.", r"blocks.\1.se.reduce."),
    (r"^_blocks\.(\d+)\._se_expand\.", r"blocks.\1.se.expand."),
    (r"^_blocks\.(\d+)\._project_conv\.", r"blocks.\1.project.conv."),
    (r"^_blocks\.(\d+)\._bn2\.", r"blocks.\1.project.bn."),
)


def torchvision_names(arch: Arch) -> dict[str, str]:
    """torchvision module name → effnas module name for every module of `arch`'s classifier, in the
    ResNet layout (stem with a max pool: conv1/bn1, layerS.I, fc) or EfficientNetV2's (features.0 stem,
    features.S.I stages, features.K+1 head, classifier.1)."""
    resnet = arch.stem_pool
    names = ({"conv1": "stem.conv", "bn1": "stem.bn", "fc": "classifier"} if resnet else
             {"features.0.0": "stem.conv", "features.0.1": "stem.bn", "classifier.1": "classifier",
              f"features.{len(arch.stages) + 1}.0": "head.conv", f"features.{len(arch.stages) + 1}.1": "head.bn"})
    index = 0
    for number, stage in enumerate(arch.stages, start=1):
        layout = stage.kind.torchvision  # the kind's own part names (None: torchvision has no such kind)
        for repeat in range(stage.repeats):
            outer = f"layer{number}.{repeat}" if resnet else f"features.{number}.{repeat}"
            if layout is not None:
                names.update({f"{outer}.{theirs}": f"blocks.{index}.{ours}" for theirs, ours in layout(stage)})
            index += 1
    return names


def _torchvision_style(keys: list[str]) -> bool:
    return "conv1.weight" in keys or "features.0.0.weight" in keys


def translate_key(key: str) -> str:
    """effnas's name for a parameter or buffer key (own keys pass through unchanged)."""
    key = key.removeprefix("module.")
    for pattern, replacement in _EFFICIENTNET_PYTORCH:
        new, count = re.subn(pattern, replacement, key)
        if count:
            return new
    return key


def load_weights(model: nn.Module, state_dict: Mapping[str, torch.Tensor], strict: bool = True) -> nn.Module:
    """Copy `state_dict` (effnas, efficientnet_pytorch or — for a model with an ``arch`` — torchvision
    naming) into `model`; shapes must match."""
    keys = [k.removeprefix("module.") for k in state_dict]
    if _torchvision_style(keys) and getattr(model, "arch", None) is not None:
        names = torchvision_names(model.arch)

        def translate(key: str) -> str:
            module, _, leaf = key.removeprefix("module.").rpartition(".")
            return f"{names[module]}.{leaf}" if module in names else key
    else:
        translate = translate_key
    translated = {translate(k): v for k, v in state_dict.items()}
    own = model.state_dict()
    mismatched = [k for k, v in translated.items() if k in own and own[k].shape != v.shape]
    if mismatched:
        k = mismatched[0]
        raise InputError(f"weight {k!r} has shape {tuple(translated[k].shape)}, model expects "
                         f"{tuple(own[k].shape)} (and {len(mismatched) - 1} more mismatches)")
    missing = sorted(set(own) - set(translated))
    unexpected = sorted(set(translated) - set(own))
    if strict and (missing or unexpected):
        raise InputError(f"state dict does not fit the model: {len(missing)} missing (e.g. "
                         f"{missing[:2]}), {len(unexpected)} unexpected (e.g. {unexpected[:2]})")
    model.load_state_dict(translated, strict=strict)
    return model
