"""Learning-rate schedules of the training engine, per step (one home for the rule).

- ``cosine``: linear warm-up over `warmup` steps, then half a cosine from `base` to 0 over the rest.
- ``constant``: warm-up, then `base`.
- ``exponential``: EfficientNet's (tensorflow/tpu efficientnet/utils.py ``build_learning_rate``):
  lr = base · rate^⌊step / decay_steps⌋ (staircase, counted from step 0), the first `warmup` steps
  replaced by the linear ramp base · (step + 1) / warmup. The paper: rate 0.97 every 2.4 epochs.
"""

from __future__ import annotations

import math

SCHEDULES = ("cosine", "constant", "exponential")


def lr_at(step: int, total: int, warmup: int, base: float, schedule: str, decay_rate: float = 0.97,
          decay_steps: float = 1.0) -> float:
    """The learning rate of step `step` (0-based) of `total` steps: warm-up, then `schedule`."""
    if step < warmup:
        return base * (step + 1) / warmup
    if schedule == "constant":
        return base
    if schedule == "exponential":
        return base * decay_rate ** math.floor(step / max(decay_steps, 1e-12))
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * base * (1.0 + math.cos(math.pi * progress))
