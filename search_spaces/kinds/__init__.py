"""Block kinds as plug-ins: one module per kind of layer (its codec, cost, torch module, graph node
and scaling rule: :mod:`.base`), and the registry below that maps a kind's name — a BlockArgs ``op``
— and its block-string prefixes to it. Adding a kind: its own file, and one line here.
Importing this package does not import torch."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import basic, bottleneck, conv, fused, mbconv, separable
from .base import BlockKind, LayerContext, se_reduced

KINDS: dict[str, BlockKind] = {module.KIND.name: module.KIND
                               for module in (mbconv, conv, separable, fused, basic, bottleneck)}
DEFAULT_KIND = mbconv.KIND.name
PREFIXES: dict[str, str] = {prefix: kind.name for kind in KINDS.values() for prefix in kind.prefixes if prefix}

if TYPE_CHECKING:
    from torch import nn

    from ..blocks import BlockArgs

__all__ = ["DEFAULT_KIND", "KINDS", "PREFIXES", "BlockKind", "LayerContext", "build_layer", "kind_of", "se_reduced"]


def kind_of(name: str) -> BlockKind:
    """The kind called `name` (a BlockArgs op); KeyError for an unknown one (BlockArgs checks first)."""
    return KINDS[name]


def build_layer(args: BlockArgs, activation: str, bn: tuple[float, float], drop_rate: float,
                padding: str | None = None) -> nn.Module:
    """One layer of a stage as a torch module, built by its kind from its BlockArgs, with the activation,
    BN (eps, momentum), drop-path rate and padding mode every layer of the arch shares."""
    return KINDS[args.op].build(args, LayerContext(activation, bn, drop_rate, padding))
