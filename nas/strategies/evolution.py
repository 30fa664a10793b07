"""Regularized (aging) evolution, Real et al. 2019, Algorithm 1.

The first `population` proposals are random. Afterwards: sample `sample` members of the
population uniformly, take the best (highest reward) as parent, mutate one token (a uniformly
chosen position gets a different value), and when the child's reward arrives append it and
remove the *oldest* member (aging), so the population stays `population` large.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from search_spaces import InputError

from .base import Strategy
from .options import EvolutionOptions


class RegularizedEvolution(Strategy):
    name = "evolution"

    def __init__(self, space=None, seed: int | None = 0, population: int = EvolutionOptions.population,
                 sample: int = EvolutionOptions.sample) -> None:
        super().__init__(space, seed)
        if not 1 <= sample <= population:
            raise InputError(f"evolution needs 1 <= sample <= population, got sample={sample}, population={population}")
        self.population_size, self.sample_size = int(population), int(sample)
        self.population: deque[tuple[list[int], float]] = deque()

    @property
    def generation(self) -> int:
        """A synchronous generation is one population: the random start, then that many children."""
        return self.population_size

    def _propose(self) -> tuple[list[int], Any]:
        if len(self.population) + len(self.pending) < self.population_size or not self.population:
            return [int(self.rng.integers(n)) for n in self.choices], "random"
        members = list(self.population)
        picks = self.rng.choice(len(members), size=min(self.sample_size, len(members)), replace=False)
        parent = max((members[i] for i in picks), key=lambda m: m[1])[0]
        return self.mutate(parent), "mutant"

    def mutate(self, tokens: list[int]) -> list[int]:
        """Change one token (a position with more than one choice) to a different value."""
        child = list(tokens)
        positions = [i for i, n in enumerate(self.choices) if n > 1]
        i = int(positions[int(self.rng.integers(len(positions)))])
        child[i] = int((child[i] + 1 + self.rng.integers(self.choices[i] - 1)) % self.choices[i])
        return child

    def _observe(self, tokens: list[int], reward: float, context: Any) -> None:
        self.population.append((tokens, reward))
        while len(self.population) > self.population_size:
            self.population.popleft()

    def _state(self) -> dict[str, Any]:
        return {"population": [[list(t), r] for t, r in self.population]}

    def _load_state(self, state: dict[str, Any]) -> None:
        self.population = deque((list(t), float(r)) for t, r in state["population"])
