"""BlockArgs: one stage of a network as a small immutable record, and its block-string formats.

Two string formats are read, one is written:

* TF reference (tensorflow/tpu EfficientNet / MnasNet): ``r2_k3_s22_e6_i16_o24_se0.25`` with
  optional ``noskip``. effnas extends it with an op prefix (``cn_`` regular conv, ``ds_``
  depthwise-separable, ``ir_`` MBConv, the default) and a ``poolskip`` flag.
* timm: ``ir_r2_k3_s2_e6_c24_se0.25`` -- output channels ``c``, input taken from the previous
  stage (or the stem), single-digit stride.

Each ``op`` is a block kind (:mod:`search_spaces.kinds`, one module per kind: its prefixes and
keys, cost, torch module, graph node and width rule): ``mbconv`` (the default; ``ir_``/``ds_``),
``conv`` (``cn_``), ``separable`` (MobileNetV1's, ``dsa_``), ``fused`` (EfficientNetV2's
fused-MBConv, ``er_``), ``basic`` and ``bottleneck`` (ResNet's, ``rb_`` / ``bt_``). A kind says
which of the optional keys (``e``, ``se``, ``noskip``, ``poolskip``) its strings take.

Skip options: ``identity`` (a residual add where the kind has one: for the MnasNet-space kinds where
stride 1 and in == out, the official rule; ResNet's kinds project with a strided 1×1 conv where the
shape changes), ``none`` (``noskip``), and ``pool``: layers that change shape get a shortcut of
average pooling with kernel = stride followed, when channels differ, by a 1×1 conv + BN (ResNet-D
style); layers that keep their shape use the identity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .bounds import MAX_CHANNELS, MAX_NUMBER_DIGITS, MAX_REPEATS, MAX_STAGES
from .errors import InputError
from .kinds import DEFAULT_KIND, KINDS, PREFIXES, BlockKind

# what a BlockArgs (a block string) can say: the kinds of layer and the three skip options. The
# MnasNet space's searchable choices are a different, ordered vocabulary (search_spaces.space).
BLOCK_OPS = tuple(KINDS)
BLOCK_SKIPS = ("identity", "none", "pool")
_SKIP_KEYS = {"none": "noskip", "pool": "poolskip"}


@dataclass(frozen=True, slots=True)
class BlockArgs:
    """One stage: `repeats` identical layers; only the first has `stride` and `in_filters`."""

    repeats: int
    kernel: int
    stride: int
    expand_ratio: int
    in_filters: int
    out_filters: int
    se_ratio: float = 0.0
    skip: str = "identity"
    op: str = "mbconv"

    def __post_init__(self) -> None:
        checks = [
            (1 <= self.repeats <= MAX_REPEATS, f"repeats must be in 1..{MAX_REPEATS}, got {self.repeats}"),
            (self.kernel in (1, 3, 5, 7, 9), f"kernel must be 1, 3, 5, 7 or 9, got {self.kernel}"),
            (self.stride in (1, 2), f"stride must be 1 or 2, got {self.stride}"),
            (1 <= self.expand_ratio <= 16, f"expansion must be in 1..16, got {self.expand_ratio}"),
            (1 <= self.in_filters <= MAX_CHANNELS,
             f"input filters must be in 1..{MAX_CHANNELS}, got {self.in_filters}"),
            (1 <= self.out_filters <= MAX_CHANNELS,
             f"output filters must be in 1..{MAX_CHANNELS}, got {self.out_filters}"),
            (0.0 <= self.se_ratio <= 1.0, f"SE ratio must be in [0, 1], got {self.se_ratio}"),
            (self.skip in BLOCK_SKIPS, f"skip must be one of {BLOCK_SKIPS}, got {self.skip!r}"),
            (self.op in KINDS, f"op must be one of {BLOCK_OPS}, got {self.op!r}"),
        ]
        for ok, message in checks:
            if not ok:
                raise InputError(message)
        if self.expanded_filters > MAX_CHANNELS:
            raise InputError(f"expanded filters (filters x expansion) must be at most {MAX_CHANNELS}, "
                             f"got {self.expanded_filters}")
        problem = KINDS[self.op].check(self)
        if problem:
            raise InputError(problem)

    @property
    def kind(self) -> BlockKind:
        """This layer's kind (search_spaces.kinds): its cost, module, graph node and width rule."""
        return KINDS[self.op]

    @property
    def expanded_filters(self) -> int:
        """The widest conv of the stage (the kind's rule; MBConv: input, or for repeats the larger of
        input and output, times the expansion)."""
        return KINDS[self.op].widest(self)

    @property
    def has_se(self) -> bool:
        return self.se_ratio > 0

    def with_(self, **changes) -> BlockArgs:
        return replace(self, **changes)

    def to_string(self) -> str:
        """Format in the (extended) TF block-string format; lossless."""
        kind = KINDS[self.op]
        parts = [kind.prefixes[0]] if kind.prefixes[0] else []
        parts += [f"r{self.repeats}", f"k{self.kernel}", f"s{self.stride}{self.stride}"]
        if "e" in kind.keys:
            parts.append(f"e{self.expand_ratio}")
        parts += [f"i{self.in_filters}", f"o{self.out_filters}"]
        if self.has_se:
            parts.append(f"se{_format_float(self.se_ratio)}")
        if self.skip in _SKIP_KEYS:
            parts.append(_SKIP_KEYS[self.skip])
        return "_".join(parts)

    def __str__(self) -> str:
        return self.to_string()


def _format_float(value: float) -> str:
    return repr(float(value)).rstrip("0").rstrip(".") if value != int(value) else str(int(value))


_TOKEN = re.compile(r"^(se|noskip|poolskip|[a-z])(.*)$")
_WHOLE = re.compile(r"[0-9]+")                                      # ASCII digits only (not ², not ١)
_DECIMAL = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INT_KEYS = {"r": "repeats", "k": "kernel", "e": "expand_ratio", "i": "in_filters", "o": "out_filters",
             "c": "out_filters"}


def parse_block(text: str, in_filters: int | None = None) -> BlockArgs:
    """Parse one TF or timm block string. `in_filters` supplies the input for timm strings."""
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"empty block string {text!r}")
    tokens = text.strip().split("_")
    op = DEFAULT_KIND
    if tokens[0] in PREFIXES:
        op = PREFIXES[tokens.pop(0)]
    elif re.fullmatch(r"[a-z]{2,}", tokens[0]) and tokens[0] not in ("noskip", "poolskip"):
        raise InputError(f"block {text!r}: unknown op prefix {tokens[0]!r} (expected {', '.join(PREFIXES)})")
    kind = KINDS[op]
    values: dict[str, object] = {"op": op, "skip": "identity"}
    seen: set[str] = set()
    for token in tokens:
        match = _TOKEN.match(token)
        if not match:
            raise InputError(f"block {text!r}: cannot read token {token!r}")
        key, value = match.groups()
        if key in seen:
            raise InputError(f"block {text!r}: key {key!r} given twice")
        seen.add(key)
        if key in ("noskip", "poolskip"):
            if value:
                raise InputError(f"block {text!r}: cannot read token {token!r}")
            values["skip"] = "none" if key == "noskip" else "pool"
        elif key == "se":
            if not _DECIMAL.fullmatch(value) or len(value) > 3 * MAX_NUMBER_DIGITS:
                raise InputError(f"block {text!r}: SE ratio {value!r} is not a number like 0.25")
            values["se_ratio"] = float(value)
        elif key == "s":
            if not re.fullmatch(r"[0-9][0-9]?", value) or (len(value) == 2 and value[0] != value[1]):
                raise InputError(f"block {text!r}: stride {value!r} must be like s1, s2, s11 or s22")
            values["stride"] = int(value[0])
        elif key in _INT_KEYS:
            values[_INT_KEYS[key]] = _whole(value, key, text)
        else:
            raise InputError(f"block {text!r}: unknown key {key!r} in token {token!r}")
    if "c" in seen and "o" in seen:
        raise InputError(f"block {text!r}: give output filters as o (TF) or c (timm), not both")
    if "i" not in seen:
        if in_filters is None:
            raise InputError(f"block {text!r}: missing input filters (i...) and no previous stage")
        values["in_filters"] = in_filters
    values.setdefault("expand_ratio", 1)
    values.setdefault("stride", 1)
    values.setdefault("repeats", 1)
    for key, name in (("k", "kernel"), ("o", "output filters (o... or c...)")):
        field = _INT_KEYS[key]
        if field not in values:
            raise InputError(f"block {text!r}: missing {name}")
    _check_keys(kind, seen, values, text)
    try:
        return BlockArgs(**values)  # type: ignore[arg-type]
    except InputError as error:
        raise InputError(f"block {text!r}: {error}") from None


def _check_keys(kind: BlockKind, seen: set[str], values: dict[str, object], text: str) -> None:
    """Refuse a key the block's kind does not take (its neutral values e1 and se0 pass, as before)."""
    for key in ("e", "se", "noskip", "poolskip"):
        if key not in seen or key in kind.keys:
            continue
        if key == "e" and values["expand_ratio"] == 1 or key == "se" and values.get("se_ratio") == 0:
            continue
        if kind.name == "conv" and key == "e":
            raise InputError(f"block {text!r}: a regular conv (cn) has no expansion")
        raise InputError(f"block {text!r}: a {kind.label} takes no {key!r} (its keys: r k s i o|c"
                         f"{''.join(' ' + k for k in sorted(kind.keys))})")


def _whole(value: str, key: str, text: str) -> int:
    """The whole number after `key` in a block string: ASCII digits, at most MAX_NUMBER_DIGITS of them."""
    if not _WHOLE.fullmatch(value):
        raise InputError(f"block {text!r}: {key}{value} needs a whole number (digits 0-9) after {key!r}")
    if len(value) > MAX_NUMBER_DIGITS:
        raise InputError(f"block {text!r}: {key}{value[:MAX_NUMBER_DIGITS]}... is too large")
    return int(value)


def parse_blocks(texts: list[str] | tuple[str, ...], stem_filters: int = 32) -> tuple[BlockArgs, ...]:
    """Parse a list of block strings; timm strings take their input from the previous stage."""
    if not texts:
        raise InputError("no block strings given")
    if len(texts) > MAX_STAGES:
        raise InputError(f"{len(texts)} blocks given; an architecture has at most {MAX_STAGES}")
    blocks: list[BlockArgs] = []
    previous = stem_filters
    for text in texts:
        block = parse_block(text, in_filters=previous)
        blocks.append(block)
        previous = block.out_filters
    return tuple(blocks)
