"""load_weights: load a state dict into a built model, accepting efficientnet_pytorch's names."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .errors import InputError

if TYPE_CHECKING:  # torch only in annotations: importing search_spaces stays torch-free
    import torch
    from torch import nn

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


def translate_key(key: str) -> str:
    """effnas's name for a parameter or buffer key (own keys pass through unchanged)."""
    key = key.removeprefix("module.")
    for pattern, replacement in _EFFICIENTNET_PYTORCH:
        new, count = re.subn(pattern, replacement, key)
        if count:
            return new
    return key


def load_weights(model: nn.Module, state_dict: Mapping[str, torch.Tensor], strict: bool = True) -> nn.Module:
    """Copy `state_dict` (effnas or efficientnet_pytorch naming) into `model`; shapes must match."""
    translated = {translate_key(k): v for k, v in state_dict.items()}
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
