"""Arch: a whole classifier as one immutable record (base stages + width/depth/resolution).

stem (a k×k conv with stride 2, and for ResNet a 3×3 max pool) → stages of layers of any kind
(search_spaces.kinds) → a 1×1 head conv (none when `head_filters` is 0: ResNet, MobileNetV1) →
pool → dropout → fc.

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
from .bounds import (
    MAX_CHANNELS,
    MAX_CLASSES,
    MAX_DIVISOR,
    MAX_LAYERS,
    MAX_MULTIPLIER,
    MAX_REPEATS,
    MAX_RESOLUTION,
    MAX_STAGES,
    MIN_RESOLUTION,
    check_channels,
    check_int,
    check_number,
)
from .cost import arch_cost
from .errors import InputError
from .readers import parse_json_text, read_json_file
from .rounding import round_filters, round_repeats
from .schema import Check, Style, check_fields, read, spec

if TYPE_CHECKING:
    import networkx as nx
    import torch

    from .cost import Cost

SCHEMA = "effnas.arch/1"
ACTIVATIONS = ("swish", "relu")
STEM_KERNELS = (3, 5, 7)
# written to JSON only when they differ from these defaults, so older arch files and identities stay as they were
_OPTIONAL_JSON = {"stem_kernel": 3, "stem_pool": False}


def _multiplier(value: Any, what: str) -> None:
    check_number(value, f"{what} multiplier", 0.0, MAX_MULTIPLIER, open_low=True)


def _rate(value: Any, what: str) -> None:
    check_number(value, what, 0.0, 1.0, open_high=True)


def _head(value: Any, what: str) -> None:
    check_int(value, f"{what} (0: no head conv)", 0, MAX_CHANNELS)


def _pins(high: int) -> Check:
    def check(values: Any, what: str) -> None:
        for index, value in enumerate(values):
            check_int(value, f"{what}[{index}]", 1, high)
    return check


# The arch JSON schema is the record below: each field's type, default and bounds, declared once
# (search_spaces.schema reads a JSON object against it; __post_init__ applies the same bounds).
_JSON = Style(unknown="{where} has unknown keys {keys}")


@dataclass(frozen=True)
class Arch:
    """A network: stem conv → stages of blocks → 1×1 head conv → pool → dropout → fc.

    Units: `resolution` in pixels (square input), filters in channels, rates in [0, 1).
    """

    blocks: tuple[BlockArgs, ...]
    name: str = "custom"
    width: float = spec(1.0, check=_multiplier)
    depth: float = spec(1.0, check=_multiplier)
    resolution: int = spec(224, check=lambda v, what: check_int(v, f"{what} (pixels)", MIN_RESOLUTION,
                                                                   MAX_RESOLUTION))
    dropout: float = spec(0.2, check=_rate)
    drop_connect: float = spec(0.2, check=_rate)
    stem_filters: int = spec(32, check=check_channels)
    head_filters: int = spec(1280, check=_head)
    num_classes: int = spec(1000, check=lambda v, what: check_int(v, what, 1, MAX_CLASSES))
    in_channels: int = spec(3, check=check_channels)
    activation: str = spec("swish", choices=ACTIVATIONS)
    divisor: int = spec(8, check=lambda v, what: check_int(v, what, 1, MAX_DIVISOR))
    bn_eps: float = spec(1e-3, check=lambda v, what: check_number(v, what, 0.0, 1.0, open_low=True))
    bn_momentum: float = spec(0.01, check=lambda v, what: check_number(v, what, 0.0, 1.0))
    stage_repeats: tuple[int, ...] | None = spec(None, check=_pins(MAX_REPEATS))
    stage_filters: tuple[int, ...] | None = spec(None, check=_pins(MAX_CHANNELS))
    stem_kernel: int = spec(3, choices=STEM_KERNELS)
    stem_pool: bool = False  # a 3×3 max pool with stride 2 after the stem conv (ResNet)

    def __post_init__(self) -> None:
        if not self.blocks:
            raise InputError("an architecture needs at least one block")
        object.__setattr__(self, "blocks", tuple(self.blocks))
        if len(self.blocks) > MAX_STAGES:
            raise InputError(f"an architecture has at most {MAX_STAGES} blocks, got {len(self.blocks)}")
        for label in ("stage_repeats", "stage_filters"):
            pinned = getattr(self, label)
            if pinned is not None:
                if len(pinned) != len(self.blocks):
                    raise InputError(f"{label} needs one positive value per stage ({len(self.blocks)})")
                object.__setattr__(self, label, tuple(pinned))
        check_fields(self)
        for label in ("stage_repeats", "stage_filters"):
            if getattr(self, label) is not None:
                object.__setattr__(self, label, tuple(int(v) for v in getattr(self, label)))
        self._check_scaled()

    def _check_scaled(self) -> None:
        """The scaled network stays within the channel and layer bounds (search_spaces.bounds)."""
        for label, value in (("stem", self.stem_channels), ("head", self.head_channels)):
            if value > MAX_CHANNELS:
                raise InputError(f"{label} conv has {value} channels after width scaling (width {self.width:g}); "
                                 f"at most {MAX_CHANNELS}")
        for index in range(len(self.blocks)):
            try:
                self.stage(index)
            except InputError as error:
                raise InputError(f"stage {index + 1} after scaling (width {self.width:g}, depth {self.depth:g}): "
                                 f"{error}") from None
        if self.num_layers > MAX_LAYERS:
            raise InputError(f"{self.num_layers} layers after depth scaling (depth {self.depth:g}); "
                             f"an architecture has at most {MAX_LAYERS}")

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
        """Channels of the 1×1 head conv after width scaling; 0 when the arch has none."""
        return round_filters(self.head_filters, self.width, self.divisor) if self.head_filters else 0

    @property
    def classifier_features(self) -> int:
        """Inputs of the fc: the head conv's channels, or the last stage's where there is no head conv."""
        return self.head_channels or self.stages[-1].out_filters

    @property
    def stem_stride(self) -> int:
        return 4 if self.stem_pool else 2

    def stage(self, index: int) -> BlockArgs:
        """Stage `index` after width/depth scaling: filters rounded, repeats ceiled, input chained."""
        previous = self.stem_channels if index == 0 else self._stage_filters(index - 1)
        block = self.blocks[index]
        repeats = (self.stage_repeats[index] if self.stage_repeats
                   else round_repeats(block.repeats, self.depth))
        return replace(block, in_filters=previous, out_filters=self._stage_filters(index), repeats=repeats)

    def _stage_filters(self, index: int) -> int:
        if self.stage_filters:
            return self.stage_filters[index]
        block = self.blocks[index]
        return block.kind.scale_filters(block, self.width, self.divisor)

    @cached_property
    def stages(self) -> tuple[BlockArgs, ...]:
        """Stages after width/depth scaling: filters rounded, repeats ceiled, inputs chained."""
        return tuple(self.stage(index) for index in range(len(self.blocks)))

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
        """Output stride after each stage (the stem has stride 2, 4 with its max pool)."""
        stride, strides = self.stem_stride, []
        for stage in self.stages:
            stride *= stage.stride
            strides.append(stride)
        return tuple(strides)

    # ------------------------------------------------------------------ delegations
    def cost(self, resolution: int | None = None) -> Cost:
        """Params and MACs in closed form (no module built); see :mod:`search_spaces.cost`."""
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
        data.update({key: getattr(self, key) for key, default in _OPTIONAL_JSON.items()
                     if getattr(self, key) != default})
        return data

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: Any, where: str = "architecture JSON") -> Arch:
        """Validate an arch object against the record's declared fields and build the Arch.

        Every problem is an InputError starting with `where` and naming the field, e.g.
        "architecture JSON: stage_repeats[0] must be in 1..128, got 1000".
        """
        if not isinstance(data, dict):
            raise InputError(f"{where} must be an object")
        if data.get("schema", SCHEMA) != SCHEMA:
            raise InputError(f"{where} has schema {data.get('schema')!r}, expected {SCHEMA!r}")
        blocks = data.get("blocks")
        if not isinstance(blocks, list) or not all(isinstance(b, str) for b in blocks):
            raise InputError(f"{where} needs a list of block strings under 'blocks'")
        fields = read(cls, data, where, _JSON, skip=("blocks",), extra=("schema",))
        try:
            return cls(blocks=parse_blocks(blocks, stem_filters=fields["stem_filters"]), **fields)
        except InputError as error:
            raise InputError(f"{where}: {error}") from None

    @classmethod
    def from_json(cls, text: str | os.PathLike) -> Arch:
        """Parse JSON text, or read it from a path (bounded: see search_spaces.readers)."""
        if isinstance(text, os.PathLike) or (isinstance(text, str) and not text.lstrip().startswith("{")):
            return cls.from_dict(read_json_file(text, "architecture"), where=f"architecture file {str(text)!r}")
        return cls.from_dict(parse_json_text(text, "architecture JSON"))

    def block_strings(self) -> list[str]:
        return [b.to_string() for b in self.blocks]

    def __str__(self) -> str:
        return f"{self.name} (w={self.width:g}, d={self.depth:g}, r={self.resolution})"
