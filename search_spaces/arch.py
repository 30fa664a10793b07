"""Arch: a whole classifier as one immutable record (base stages + width/depth/resolution).

`blocks` hold the *unscaled* stages; `width` and `depth` are applied by :meth:`Arch.stages`
with the official `round_filters` / `round_repeats`, so a compound-scaled model is the same
record with other multipliers. `stage_repeats`/`stage_filters` optionally pin the scaled
repeats/filters of individual stages (the scaling engine uses them to hit a MACs target).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

from .blocks import BlockArgs, parse_blocks
from .errors import InputError
from .rounding import round_filters, round_repeats

if TYPE_CHECKING:
    import networkx as nx
    import torch

    from .cost import Cost

SCHEMA = "effnas.arch/1"
ACTIVATIONS = ("swish", "relu")


@dataclass(frozen=True)
class Arch:
    """A network: stem conv → stages of blocks → 1×1 head conv → pool → dropout → fc.

    Units: `resolution` in pixels (square input), filters in channels, rates in [0, 1).
    """

    blocks: tuple[BlockArgs, ...]
    name: str = "custom"
    width: float = 1.0
    depth: float = 1.0
    resolution: int = 224
    dropout: float = 0.2
    drop_connect: float = 0.2
    stem_filters: int = 32
    head_filters: int = 1280
    num_classes: int = 1000
    in_channels: int = 3
    activation: str = "swish"
    divisor: int = 8
    bn_eps: float = 1e-3
    bn_momentum: float = 0.01
    stage_repeats: tuple[int, ...] | None = None
    stage_filters: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if not self.blocks:
            raise InputError("an architecture needs at least one block")
        object.__setattr__(self, "blocks", tuple(self.blocks))
        for label, value in (("width", self.width), ("depth", self.depth)):
            if not (isinstance(value, int | float) and value > 0 and value == value and value < 1e4):
                raise InputError(f"{label} multiplier must be a positive number, got {value!r}")
        if not (isinstance(self.resolution, int) and 8 <= self.resolution <= 8192):
            raise InputError(f"resolution must be a whole number of pixels in 8..8192, got {self.resolution!r}")
        for label, value in (("dropout", self.dropout), ("drop_connect", self.drop_connect)):
            if not 0.0 <= value < 1.0:
                raise InputError(f"{label} must be in [0, 1), got {value!r}")
        if self.activation not in ACTIVATIONS:
            raise InputError(f"activation must be one of {ACTIVATIONS}, got {self.activation!r}")
        positive = ("stem_filters", "head_filters", "num_classes", "in_channels", "divisor")
        for label in positive:
            if int(getattr(self, label)) < 1:
                raise InputError(f"{label} must be >= 1, got {getattr(self, label)!r}")
        for label in ("stage_repeats", "stage_filters"):
            pinned = getattr(self, label)
            if pinned is not None:
                pinned = tuple(int(v) for v in pinned)
                object.__setattr__(self, label, pinned)
                if len(pinned) != len(self.blocks) or min(pinned) < 1:
                    raise InputError(f"{label} needs one positive value per stage ({len(self.blocks)})")

    # ------------------------------------------------------------------ scaling
    def with_(self, **changes: Any) -> Arch:
        """A copy with some fields changed (the record is immutable)."""
        return replace(self, **changes)

    def scaled(self, width: float | None = None, depth: float | None = None,
               resolution: int | None = None) -> Arch:
        """A copy with explicit multipliers (pins dropped); `None` keeps the current value."""
        return replace(self, width=self.width if width is None else width,
                       depth=self.depth if depth is None else depth,
                       resolution=self.resolution if resolution is None else resolution,
                       stage_repeats=None, stage_filters=None)

    @cached_property
    def stem_channels(self) -> int:
        return round_filters(self.stem_filters, self.width, self.divisor)

    @cached_property
    def head_channels(self) -> int:
        return round_filters(self.head_filters, self.width, self.divisor)

    @cached_property
    def stages(self) -> tuple[BlockArgs, ...]:
        """Stages after width/depth scaling: filters rounded, repeats ceiled, inputs chained."""
        out: list[BlockArgs] = []
        previous = self.stem_channels
        for index, block in enumerate(self.blocks):
            filters = (self.stage_filters[index] if self.stage_filters
                       else round_filters(block.out_filters, self.width, self.divisor))
            repeats = (self.stage_repeats[index] if self.stage_repeats
                       else round_repeats(block.repeats, self.depth))
            out.append(replace(block, in_filters=previous, out_filters=filters, repeats=repeats))
            previous = filters
        return tuple(out)

    @property
    def num_layers(self) -> int:
        return sum(stage.repeats for stage in self.stages)

    def layers(self) -> list[BlockArgs]:
        """Every layer (stages expanded): the first of a stage strides, the rest keep shape."""
        result = []
        for stage in self.stages:
            result.append(replace(stage, repeats=1))
            for _ in range(stage.repeats - 1):
                result.append(replace(stage, repeats=1, in_filters=stage.out_filters, stride=1))
        return result

    @property
    def feature_strides(self) -> tuple[int, ...]:
        """Output stride after each stage (the stem has stride 2)."""
        stride, strides = 2, []
        for stage in self.stages:
            stride *= stage.stride
            strides.append(stride)
        return tuple(strides)

    # ------------------------------------------------------------------ delegations
    def cost(self, resolution: int | None = None) -> Cost:
        """Params and MACs in closed form (no module built); see :mod:`search_spaces.cost`."""
        from .cost import arch_cost

        return arch_cost(self, resolution)

    def build(self, padding: str | None = None) -> torch.nn.Module:
        """The PyTorch classifier; ``padding="same"`` for TF-style asymmetric padding."""
        from .builder import build_model

        return build_model(self, padding=padding)

    def graph(self, resolution: int | None = None) -> nx.DiGraph:
        """networkx DiGraph of the layers with op, shapes, params and MACs per node."""
        from .graph import arch_graph

        return arch_graph(self, resolution)

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"schema": SCHEMA, "name": self.name,
                                "blocks": [b.to_string() for b in self.blocks]}
        for key in ("width", "depth", "resolution", "dropout", "drop_connect", "stem_filters",
                    "head_filters", "num_classes", "in_channels", "activation", "divisor",
                    "bn_eps", "bn_momentum"):
            data[key] = getattr(self, key)
        if self.stage_repeats is not None:
            data["stage_repeats"] = list(self.stage_repeats)
        if self.stage_filters is not None:
            data["stage_filters"] = list(self.stage_filters)
        return data

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: Any) -> Arch:
        if not isinstance(data, dict):
            raise InputError("architecture JSON must be an object")
        if data.get("schema", SCHEMA) != SCHEMA:
            raise InputError(f"architecture JSON has schema {data.get('schema')!r}, expected {SCHEMA!r}")
        if "blocks" not in data or not isinstance(data["blocks"], list):
            raise InputError("architecture JSON needs a list of block strings under 'blocks'")
        allowed = {"schema", "name", "blocks", "width", "depth", "resolution", "dropout", "drop_connect",
                   "stem_filters", "head_filters", "num_classes", "in_channels", "activation", "divisor",
                   "bn_eps", "bn_momentum", "stage_repeats", "stage_filters"}
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise InputError(f"architecture JSON has unknown keys {unknown}")
        types = {"name": str, "activation": str, "resolution": int, "stem_filters": int,
                 "head_filters": int, "num_classes": int, "in_channels": int, "divisor": int}
        for key, kind in types.items():
            if key in data and (not isinstance(data[key], kind) or isinstance(data[key], bool)):
                raise InputError(f"architecture JSON: {key!r} must be {kind.__name__}, got {data[key]!r}")
        for key in ("width", "depth", "dropout", "drop_connect", "bn_eps", "bn_momentum"):
            if key in data and (isinstance(data[key], bool) or not isinstance(data[key], int | float)):
                raise InputError(f"architecture JSON: {key!r} must be a number, got {data[key]!r}")
        if not all(isinstance(b, str) for b in data["blocks"]):
            raise InputError("architecture JSON: every entry of 'blocks' must be a block string")
        kwargs = {k: v for k, v in data.items() if k not in ("schema", "blocks")}
        for key in ("stage_repeats", "stage_filters"):
            if key in kwargs and kwargs[key] is not None:
                kwargs[key] = tuple(kwargs[key])
        stem = int(kwargs.get("stem_filters", 32))
        return cls(blocks=parse_blocks(data["blocks"], stem_filters=stem), **kwargs)

    @classmethod
    def from_json(cls, text: str | os.PathLike) -> Arch:
        """Parse JSON text, or read it from a path."""
        if isinstance(text, os.PathLike) or (isinstance(text, str) and not text.lstrip().startswith("{")):
            try:
                with open(text, encoding="utf-8") as handle:
                    text = handle.read()
            except OSError as error:
                raise InputError(f"cannot read architecture file {str(text)!r}: {error.strerror}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise InputError(f"architecture JSON is not valid JSON: {error.msg} at line {error.lineno}") from None
        return cls.from_dict(data)

    def block_strings(self) -> list[str]:
        return [b.to_string() for b in self.blocks]

    def __str__(self) -> str:
        return f"{self.name} (w={self.width:g}, d={self.depth:g}, r={self.resolution})"
