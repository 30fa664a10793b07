"""Torch's intra-op thread count, pinned for a block of work.

Float sums split across threads round differently, so a trial's metric (NASWOT's kernel, a
training step) and the PPO controller's updates differ in their last bits between thread counts.
Everything a seeded search must reproduce runs under a fixed count: a trial under its runner's
`trial_threads(cpus_per_trial)` (inline and on Ray alike), the controller under one thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


def trial_threads(cpus_per_trial: float) -> int:
    """Torch threads of one trial given the CPUs it holds (at least one)."""
    return max(1, int(cpus_per_trial))


@contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run the block with `threads` intra-op threads (None: as they are), restoring the count after."""
    before = torch.get_num_threads()
    if threads is None or threads == before:
        yield
        return
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
