"""The one way a report's files are saved — grid.md/grid.png (scaling.grid_report) and a run
folder's report.md and plots (effnas.report, effnas.plots): Markdown text and matplotlib PNGs
written through the one atomic writer (search_spaces.atomic), so a reader sees the old file or
the whole new one, never half of it. Here (scaling) because it is the lowest package that writes
reports; effnas imports it, scaling may not import effnas."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from search_spaces.atomic import write_text_atomic, write_with


def pyplot() -> Any:
    """matplotlib.pyplot on the headless Agg backend (imported on first use: it is slow)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_markdown(path: str | os.PathLike, text: str) -> Path:
    """Write a Markdown report (UTF-8) atomically."""
    return write_text_atomic(path, text)


def save_figure(fig: Any, path: str | os.PathLike, dpi: float | None = None) -> Path:
    """Lay `fig` out (tight_layout), write it as a PNG atomically and close it, also when writing
    fails. `dpi` None: the figure's own."""
    options = {} if dpi is None else {"dpi": dpi}
    fig.tight_layout()
    try:
        write_with(path, lambda handle: fig.savefig(handle, format="png", **options))
    finally:
        pyplot().close(fig)
    return Path(path)
