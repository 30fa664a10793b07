"""Output helpers shared by the sub-commands: JSON to stdout, tables (rendered by rich), and the
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
    """A table rendered by rich for a person to read (never wrapped; a bold header on a terminal, plain text
    otherwise); `align` is one char per column, "l" or "r" (default: numbers right)."""
    import io

    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    if align is None:
        align = "".join("r" if rows and isinstance(rows[0][i], int | float) else "l" for i in range(len(headers)))
    encoding = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "")
    colour = _is_terminal(sys.stdout) and not os.environ.get("NO_COLOR")
    ascii_head = box.Box("    \n    \n -- \n    \n    \n    \n    \n    \n", ascii=True)  # SIMPLE_HEAD in ASCII
    table = Table(box=box.SIMPLE_HEAD if encoding == "utf8" else ascii_head, show_edge=False, pad_edge=False,
                  padding=(0, 1, 0, 0), header_style="bold" if colour else "")  # (two spaces between columns)
    for header, side in zip(headers, align, strict=True):
        table.add_column(Text(str(header)), justify="right" if side == "r" else "left", no_wrap=True)
    for row in rows:
        table.add_row(*(Text(_cell(value)) for value in row))  # (Text: "[...]" in a cell is not rich markup)
    buffer = io.StringIO()
    Console(file=buffer, width=100_000, color_system="standard" if colour else None, force_terminal=colour,
            highlight=False, emoji=False, markup=False, legacy_windows=False).print(table)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines() if line.strip())


def format_duration(seconds: float | None) -> str:
    """An ETA or elapsed time for a person: "4m05s", "2h13m", "?" when unknown."""
    if seconds is None:
        return "?"
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"


def print_progress(event: dict[str, Any], what: str) -> None:
    """One progress line on stderr: "[done/total] WHAT | ETA ..." (event: done, total, eta_s)."""
    width = len(str(event["total"]))
    print(f"[{event['done']:>{width}}/{event['total']}] {what} | ETA {format_duration(event.get('eta_s'))}",
          file=sys.stderr, flush=True)


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10000:
        return f"{value:,}"
    return str(value)
