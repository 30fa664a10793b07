"""Output helpers shared by the sub-commands: JSON to stdout, aligned plain-text tables, and the
checks and saving of a `-o FILE` output."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from search_spaces import InputError
from search_spaces.atomic import check_target, write_with


def check_output_file(path: str, suffix: str | tuple[str, ...] | None = None) -> None:
    """Refuse an `-o` path before any work: a wrong suffix (one of `suffix`), a missing folder, or a
    target that is not a regular file (a folder, a device...)."""
    if suffix is not None and not path.endswith(suffix):
        wanted = " or ".join((suffix,) if isinstance(suffix, str) else suffix)
        raise InputError(f"export path must end in {wanted}, got {path!r}")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise InputError(f"output folder {parent!r} does not exist")
    check_target(path)


def save_program(program: Any, path: str) -> None:
    """Write a torch.export program to the .pt2 file `path` (atomically, through the one writer)."""
    import torch

    write_with(path, lambda handle: torch.export.save(program, handle))


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2) + "\n")


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], align: str | None = None) -> str:
    """A plain aligned table; `align` is one char per column, "l" or "r" (default: numbers right)."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    if align is None:
        align = "".join("r" if rows and isinstance(rows[0][i], int | float) else "l" for i in range(len(headers)))
    lines = []
    for n, row in enumerate(cells):
        parts = [c.rjust(w) if a == "r" else c.ljust(w) for c, w, a in zip(row, widths, align, strict=True)]
        lines.append("  ".join(parts).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10000:
        return f"{value:,}"
    return str(value)
