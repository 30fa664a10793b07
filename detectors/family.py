"""A member of a ``family.json`` (schema "effnas.family/1", written by the scaling engine) as a
backbone Arch, read and validated by :func:`scaling.load_family`."""

from __future__ import annotations

import os

from scaling import load_family
from search_spaces import Arch, InputError


def family_member(path: str | os.PathLike, index: int) -> Arch:
    """The Arch of member `index` (0-based) of the family file at `path`."""
    family = load_family(path)
    if not isinstance(index, int) or not 0 <= index < len(family):
        raise InputError(f"member {index} out of range: the family has {len(family)} members (0..{len(family) - 1})")
    return family[index].arch
