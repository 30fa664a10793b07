"""Reading a member of a ``family.json`` (schema "effnas.family/1") for use as a backbone.

Uses ``scaling.load_family`` when the scaling package provides it; otherwise reads the file
directly: an object with ``schema`` and a ``members`` list whose entries hold an ``arch`` dict.
"""

from __future__ import annotations

import json
import os
from typing import Any

from search_spaces import Arch, InputError

FAMILY_SCHEMA = "effnas.family/1"


def _read(path: str | os.PathLike) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as error:
        raise InputError(f"cannot read family file {str(path)!r}: {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise InputError(f"family file {str(path)!r} is not valid JSON: {error.msg} at line {error.lineno}") from None
    if not isinstance(data, dict) or data.get("schema") != FAMILY_SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else type(data).__name__
        raise InputError(f"family file {str(path)!r} has schema {found!r}, expected {FAMILY_SCHEMA!r}")
    if not isinstance(data.get("members"), list) or not data["members"]:
        raise InputError(f"family file {str(path)!r} has no 'members' list")
    return data


def family_member(path: str | os.PathLike, index: int) -> Arch:
    """The Arch of member `index` (0-based) of the family file at `path`."""
    data = _read(path)
    members = data["members"]
    if not isinstance(index, int) or not 0 <= index < len(members):
        raise InputError(f"member {index} out of range: the family has {len(members)} members (0..{len(members) - 1})")
    member = members[index]
    try:  # prefer the scaling engine's own reader when it exists
        from scaling import load_family  # type: ignore[attr-defined]
    except ImportError:
        load_family = None
    if load_family is not None:
        try:
            family = load_family(path)
            candidate = family.members[index] if hasattr(family, "members") else family[index]
            arch = getattr(candidate, "arch", candidate)
            if isinstance(arch, Arch):
                return arch
        except (AttributeError, IndexError, KeyError, TypeError):
            pass
    if not isinstance(member, dict):
        raise InputError(f"family member {index} is not an object")
    arch_data = member.get("arch", member)
    if not isinstance(arch_data, dict):
        raise InputError(f"family member {index} has no 'arch' object")
    return Arch.from_dict(arch_data)
