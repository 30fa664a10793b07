"""Progress of a long batch of evaluations: done/total and an ETA, for the callbacks that report it."""

from __future__ import annotations

import time
from typing import Any


class Countdown:
    """Counts finished evaluations out of `total` (`done` of them finished before this run started); the
    ETA is the mean time of those finished in this run times the number left."""

    def __init__(self, total: int, done: int = 0) -> None:
        self.total, self.done, self.fresh = total, done, 0
        self.start = time.monotonic()

    def tick(self) -> dict[str, Any]:
        """One more finished: {"done", "total", "eta_s"} (eta_s 0 when none is left)."""
        self.done += 1
        self.fresh += 1
        left = max(0, self.total - self.done)
        return {"done": self.done, "total": self.total,
                "eta_s": (time.monotonic() - self.start) / self.fresh * left}
