"""The one way a command reads an architecture argument: a preset name, block strings, an arch JSON
file, or a search run's best.json (or the run folder holding it: the arch under "arch"). No torch."""

from __future__ import annotations

import os
from collections.abc import Sequence

from search_spaces import Arch, InputError, load_arch
from search_spaces.presets import PRESETS as ARCH_PRESETS
from search_spaces.readers import read_json_file


def resolve_arch(source: str | Sequence[str]) -> Arch:
    """The Arch named by `source` (one argument, or several block strings)."""
    if isinstance(source, str):
        source = [source]
    if len(source) == 1:
        text = source[0].strip()
        if text.lower() not in ARCH_PRESETS:
            if os.path.isdir(text):
                path = os.path.join(text, "best.json")
                if not os.path.isfile(path):
                    raise InputError(f"cannot read {text!r}: a folder without best.json (neither an arch file nor a "
                                     "search run folder)")
                return arch_from_record(path)
            if os.path.isfile(text):
                return arch_from_record(text)
        return load_arch(text)
    return load_arch(list(source))


def arch_from_record(path: str) -> Arch:
    """The arch of a JSON file: a best.json record (arch under "arch") or a plain arch JSON (read by
    `load_arch`, whose messages a plain file keeps)."""
    data = read_json_file(path, "architecture", finite=False)  # a record's metrics may be NaN
    if isinstance(data, dict) and "arch" in data:
        return Arch.from_dict(data["arch"], where=f"{path!r}: its 'arch' entry")
    return load_arch(path)


def looks_like_family(path: str) -> bool:
    """True for a JSON file holding a family (a "members" list): family.json."""
    if not os.path.isfile(path):
        return False
    try:
        data = read_json_file(path, "architecture", finite=False)
    except InputError:
        return False
    return isinstance(data, dict) and "members" in data


def resolve_member(source: str | Sequence[str], member: int | None) -> tuple[Arch, dict]:
    """(arch, where it came from) for a command that takes ARCH or FAMILY.json --member K."""
    from scaling import load_family

    text = source if isinstance(source, str) else source[0] if len(source) == 1 else None
    if text is not None and looks_like_family(text):
        if member is None:
            raise InputError(f"{text!r} is a family file: choose a member with --member K")
        family = load_family(text)
        if not 0 <= member < len(family):
            raise InputError(f"--member {member} out of range: the family has {len(family)} members "
                             f"(0..{len(family) - 1})")
        return family[member].arch, {"family": os.path.abspath(text), "member": member}
    if member is not None:
        raise InputError("--member needs a family file (family.json) as the architecture")
    arch = resolve_arch(source)
    return arch, {"arch": text if text is not None else list(source)}
