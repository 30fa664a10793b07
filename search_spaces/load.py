"""load_arch: one entry point for names, block strings and JSON files."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

from .arch import Arch
from .blocks import parse_blocks
from .errors import InputError
from .presets import PRESETS, preset

_BLOCKISH = re.compile(r"(^|_)(r\d|k\d|[io]\d|c\d)")


def load_arch(source: str | os.PathLike | Sequence[str] | Arch) -> Arch:
    """An Arch from a preset name, a list of block strings, a JSON file path, or JSON text."""
    if isinstance(source, Arch):
        return source
    if isinstance(source, os.PathLike):
        return Arch.from_json(source)
    if isinstance(source, str):
        text = source.strip()
        if text.startswith("{"):
            return Arch.from_json(text)
        if text.lower() in PRESETS:
            return preset(text)
        if text.endswith(".json") or os.path.sep in text or os.path.exists(text):
            if not os.path.exists(text):
                raise InputError(f"architecture file {text!r} does not exist")
            return Arch.from_json(os.fspath(text))
        if _BLOCKISH.search(text):
            return Arch(blocks=parse_blocks(text.split()), name="custom")
        return preset(text)
    if isinstance(source, Sequence) and source and all(isinstance(s, str) for s in source):
        if len(source) == 1:
            return load_arch(source[0])
        return Arch(blocks=parse_blocks(list(source)), name="custom")
    raise InputError(f"cannot load an architecture from {source!r}")
