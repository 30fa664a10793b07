"""The MnasNet factorized hierarchical search space (MnasNet §4.1), relative to MobileNetV2.

The network is cut into 7 blocks (stages); each searches, shared by all its layers, six
decisions — in this token order:

=========  ==========================================================================
op         regular conv | depthwise-separable conv | MBConv e3 | MBConv e6
kernel     3 | 5
se         0 | 0.25
skip       pool | identity | none
filters    see below
layers     MobileNetV2 n + {−1, 0, +1} (at least 1; duplicates dropped)
=========  ==========================================================================

Filters: the paper's literal choices are {0.75, 1.0, 1.25} × the MobileNetV2 filters
(``filters="paper"``). That set cannot express EfficientNet-B0's 112/192 or MnasNet-A1's 112, so
the default (``filters="wide"``) offers *every multiple of 8 between 0.75× and 1.25×* the
MobileNetV2 filters (inclusive), which contains the paper's three choices. Strides, stem (32)
and head (1280) are fixed, as in the paper.

A controller sees an architecture as 42 integer tokens (7 blocks × 6 decisions); `choices[i]`
is the vocabulary size of token i.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .arch import Arch
from .blocks import BlockArgs
from .errors import InputError
from .presets import MOBILENET_V2_SKELETON

if TYPE_CHECKING:  # numpy is imported where a member is sampled (keeps `effnas arch show` light)
    import numpy as np

# the searchable choices of every block, in token order (a token is an index into them); the
# vocabulary of a block string itself is search_spaces.blocks.BLOCK_OPS / BLOCK_SKIPS
DECISIONS = ("op", "kernel", "se", "skip", "filters", "layers")
OP_CHOICES = (("conv", 1), ("mbconv", 1), ("mbconv", 3), ("mbconv", 6))  # (BlockArgs op, expansion)
OP_CHOICE_NAMES = ("conv", "dsconv", "mbconv3", "mbconv6")                  # their names, same order
KERNEL_CHOICES = (3, 5)
SE_CHOICES = (0.0, 0.25)
SKIP_CHOICES = ("pool", "identity", "none")


def _round8(value: float) -> int:
    return max(8, int(round(value / 8.0)) * 8)


@dataclass(frozen=True)
class MnasNetSpace:
    """The factorized hierarchical space. `filters`: "wide" (default) or "paper"."""

    filters: str = "wide"
    skeleton: tuple[tuple[int, int, int, int], ...] = MOBILENET_V2_SKELETON
    stem_filters: int = 32
    head_filters: int = 1280
    resolution: int = 224
    activation: str = "swish"

    def __post_init__(self) -> None:
        if self.filters not in ("wide", "paper"):
            raise InputError(f"filters must be 'wide' or 'paper', got {self.filters!r}")

    # ------------------------------------------------------------------ choices
    def filter_choices(self, block: int) -> tuple[int, ...]:
        base = self.skeleton[block][1]
        if self.filters == "paper":
            return tuple(sorted({_round8(base * r) for r in (0.75, 1.0, 1.25)}))
        low, high = math.ceil(0.75 * base / 8), math.floor(1.25 * base / 8)
        return tuple(8 * m for m in range(max(1, low), high + 1))

    def layer_choices(self, block: int) -> tuple[int, ...]:
        n = self.skeleton[block][2]
        return tuple(sorted({max(1, n + d) for d in (-1, 0, 1)}))

    def block_choices(self, block: int) -> tuple[tuple, ...]:
        """The values of the six decisions of one block, in token order (DECISIONS)."""
        return (OP_CHOICE_NAMES, KERNEL_CHOICES, SE_CHOICES, SKIP_CHOICES, self.filter_choices(block),
                self.layer_choices(block))

    @property
    def num_blocks(self) -> int:
        return len(self.skeleton)

    @property
    def choices(self) -> tuple[int, ...]:
        """Vocabulary size of each token position (what a controller's softmax heads need)."""
        return tuple(len(values) for b in range(self.num_blocks) for values in self.block_choices(b))

    def size(self) -> int:
        """Number of distinct token sequences (architectures) in the space."""
        return math.prod(self.choices)

    # ------------------------------------------------------------------ encode/decode
    def decode(self, tokens: Sequence[int], name: str = "mnasnet-space") -> Arch:
        """Arch from 42 integer tokens."""
        tokens = [int(t) for t in tokens]
        if len(tokens) != len(self.choices):
            raise InputError(f"expected {len(self.choices)} tokens, got {len(tokens)}")
        for position, (token, size) in enumerate(zip(tokens, self.choices, strict=True)):
            if not 0 <= token < size:
                raise InputError(f"token {position} is {token}, must be in 0..{size - 1}")
        blocks, previous = [], self.stem_filters
        for b in range(self.num_blocks):
            op_i, k_i, se_i, skip_i, f_i, n_i = tokens[len(DECISIONS) * b: len(DECISIONS) * (b + 1)]
            op, expand = OP_CHOICES[op_i]
            filters = self.filter_choices(b)[f_i]
            stride = self.skeleton[b][3]
            blocks.append(BlockArgs(repeats=self.layer_choices(b)[n_i], kernel=KERNEL_CHOICES[k_i],
                                    stride=stride, expand_ratio=expand, in_filters=previous, out_filters=filters,
                                    se_ratio=SE_CHOICES[se_i], skip=SKIP_CHOICES[skip_i], op=op))
            previous = filters
        return Arch(blocks=tuple(blocks), name=name, resolution=self.resolution,
                    stem_filters=self.stem_filters, head_filters=self.head_filters,
                    activation=self.activation)

    def encode(self, arch: Arch) -> list[int]:
        """42 integer tokens of a member; raises InputError for an arch outside the space."""
        reason = self._mismatch(arch)
        if reason:
            raise InputError(f"{arch.name} is not in the MnasNet space: {reason}")
        tokens = []
        for b, block in enumerate(arch.blocks):
            tokens += [OP_CHOICES.index((block.op, block.expand_ratio)), KERNEL_CHOICES.index(block.kernel),
                       SE_CHOICES.index(block.se_ratio), SKIP_CHOICES.index(block.skip),
                       self.filter_choices(b).index(block.out_filters), self.layer_choices(b).index(block.repeats)]
        return tokens

    def _mismatch(self, arch: Arch) -> str | None:
        if arch.width != 1.0 or arch.depth != 1.0 or arch.stage_repeats or arch.stage_filters:
            return "it is width/depth scaled"
        if len(arch.blocks) != self.num_blocks:
            return f"it has {len(arch.blocks)} blocks, the space has {self.num_blocks}"
        if arch.stem_filters != self.stem_filters or arch.head_filters != self.head_filters:
            return "its stem/head filters differ"
        for b, block in enumerate(arch.blocks):
            label = f"block {b + 1} ({block})"
            if block.stride != self.skeleton[b][3]:
                return f"{label} has stride {block.stride}, the skeleton has {self.skeleton[b][3]}"
            if (block.op, block.expand_ratio) not in OP_CHOICES:
                return f"{label}: op {block.op} e{block.expand_ratio} is not a choice"
            if block.kernel not in KERNEL_CHOICES:
                return f"{label}: kernel {block.kernel} not in {KERNEL_CHOICES}"
            if block.se_ratio not in SE_CHOICES:
                return f"{label}: SE ratio {block.se_ratio} not in {SE_CHOICES}"
            if block.out_filters not in self.filter_choices(b):
                return f"{label}: {block.out_filters} filters not in {self.filter_choices(b)}"
            if block.repeats not in self.layer_choices(b):
                return f"{label}: {block.repeats} layers not in {self.layer_choices(b)}"
        return None

    def contains(self, arch: Arch) -> bool:
        return self._mismatch(arch) is None

    def canonical(self, arch: Arch) -> Arch:
        """The member the tokens of `arch` decode to (space defaults for dropout etc. replaced)."""
        return self.decode(self.encode(arch), name=arch.name).with_(
            dropout=arch.dropout, drop_connect=arch.drop_connect, activation=arch.activation)

    # ------------------------------------------------------------------ sampling
    def sample_tokens(self, rng: np.random.Generator) -> list[int]:
        return [int(rng.integers(size)) for size in self.choices]

    def sample(self, rng: np.random.Generator | int | None = None) -> Arch:
        """A uniformly random member (rng: numpy Generator, or a seed)."""
        import numpy as np

        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        return self.decode(self.sample_tokens(rng))
