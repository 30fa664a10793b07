"""The MnasNet objective (Tan et al. 2019, eq. 2): reward = ACC(m) · [cost(m) / T]^w.

w = α if cost(m) ≤ T else β. Presets: ``soft`` (α = β = −0.07, MnasNet's and EfficientNet-B0's
setting), ``hard`` (α = 0, β = −1: a hard constraint that penalises exceeding T sharply), or
``user`` (α, β given). cost(m) is the MACs of the target network at full resolution
(``arch.cost().macs``; T in MACs) or the predicted latency in milliseconds from the per-layer
table of :mod:`nas.latency` (``kind="latency"``; T in ms).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from search_spaces import Arch, InputError

REWARDS = {"soft": (-0.07, -0.07), "hard": (0.0, -1.0)}
KINDS = ("macs", "latency")


@dataclass(frozen=True)
class Objective:
    """ACC·[cost/T]^w with exponents α (cost ≤ T) and β (cost > T)."""

    target: float
    alpha: float = -0.07
    beta: float = -0.07
    kind: str = "macs"
    reward_name: str = "soft"

    def __post_init__(self) -> None:
        if not (isinstance(self.target, int | float) and math.isfinite(self.target) and self.target > 0):
            raise InputError(f"target must be a positive number, got {self.target!r}")
        if self.kind not in KINDS:
            raise InputError(f"objective must be one of {', '.join(KINDS)}, got {self.kind!r}")
        for label in ("alpha", "beta"):
            if not math.isfinite(getattr(self, label)):
                raise InputError(f"{label} must be finite")

    @classmethod
    def create(cls, target: float, reward: str = "soft", alpha: float | None = None, beta: float | None = None,
               kind: str = "macs") -> Objective:
        """From a reward name: "soft", "hard", or "user" (then alpha and beta are required)."""
        if reward == "user":
            if alpha is None or beta is None:
                raise InputError("--reward user needs both --alpha and --beta")
            return cls(float(target), float(alpha), float(beta), kind, "user")
        if reward not in REWARDS:
            raise InputError(f"reward must be soft, hard or user, got {reward!r}")
        a, b = REWARDS[reward]
        if (alpha is not None and float(alpha) != a) or (beta is not None and float(beta) != b):
            raise InputError(f"--alpha and --beta need --reward user (reward {reward} has alpha {a}, beta {b})")
        return cls(float(target), a, b, kind, reward)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Objective:
        """The objective of a search config (`target`, `reward`, `alpha`, `beta`, `objective`)."""
        return cls.create(config["target"], config["reward"], config.get("alpha"), config.get("beta"),
                          config.get("objective", "macs"))

    def exponent(self, cost: float) -> float:
        """w = α if cost ≤ T else β."""
        return self.alpha if cost <= self.target else self.beta

    def reward(self, metric: float, cost: float) -> float:
        """ACC · (cost/T)^w (cost in MACs or ms, like T)."""
        if cost <= 0:
            raise ValueError(f"cost must be positive, got {cost}")
        return float(metric) * (float(cost) / self.target) ** self.exponent(cost)

    def cost(self, arch: Arch) -> float:
        """cost(m): MACs at the arch's full resolution, or predicted latency in ms (nas.latency)."""
        if self.kind == "macs":
            return float(arch.cost().macs)
        from . import latency  # lazy: the table is calibrated on first use

        return float(latency.predict(arch))

    def row_cost(self, row: Mapping[str, Any]) -> float:
        """cost(m) of a finished trial row: its MACs, or the predicted latency of its arch (ms)."""
        if self.kind == "macs":
            return float(row["macs"])
        return self.cost(Arch.from_dict(row["arch"]))

    def score(self, row: dict[str, Any], *, record_latency: bool = False) -> dict[str, Any]:
        """Set `row`'s reward from its metric and cost; returns `row`. With `record_latency` and a
        latency objective the cost is also stored as row["latency_ms"] (before the reward, as the
        search's trials.jsonl rows have it)."""
        cost = self.row_cost(row)
        if record_latency and self.kind == "latency":
            row["latency_ms"] = cost
        row["reward"] = self.reward(row["metric"], cost)
        return row

    def to_dict(self) -> dict:
        return asdict(self)
