"""The MnasNet controller (Tan et al. 2019, §3): an LSTM that emits the 42 tokens of the
MnasNet space one by one (a softmax head per token sized by ``space.choices``; the embedding of
each sampled token is the next step's input), trained with PPO (Schulman et al. 2017).

Per observed trial, the advantage is A = R − b with b a moving-average baseline of the rewards
(b ← d·b + (1−d)·R, d = `baseline_decay`). Every `batch` observations the controller takes
`epochs` Adam steps on the clipped surrogate
    L = −mean(min(ρ·Â, clip(ρ, 1−ε, 1+ε)·Â)) − c_H·H,   ρ = π(a)/π_old(a),  ε = `clip` (0.2),
with Â = A / std(A) over the batch (scale-free in the reward's units) and π_old the policy that
sampled the tokens (exact under asynchrony: trials finish long after they were proposed).
Sampling uses the strategy's numpy Generator on the softmax probabilities, so runs are seeded;
the controller's torch work runs on one thread (`CONTROLLER_THREADS`), so its updates are the same
bits in every driver whatever torch's thread count there.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from ..threads import torch_threads
from .base import Strategy
from .options import PPOOptions

CONTROLLER_THREADS = 1


class Controller(nn.Module):
    """LSTM policy over a sequence of categorical tokens with vocabulary sizes `choices`."""

    def __init__(self, choices: tuple[int, ...], hidden: int = 64) -> None:
        super().__init__()
        self.choices = tuple(choices)
        self.start = nn.Parameter(torch.zeros(1, hidden))
        self.embeds = nn.ModuleList(nn.Embedding(n, hidden) for n in self.choices)
        self.cell = nn.LSTMCell(hidden, hidden)
        self.heads = nn.ModuleList(nn.Linear(hidden, n) for n in self.choices)
        for head in self.heads:  # start from the uniform policy
            nn.init.zeros_(head.weight)
            nn.init.zeros_(head.bias)

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probability [B] and entropy [B] of token sequences [B, L] (teacher forcing)."""
        batch = tokens.shape[0]
        x = self.start.expand(batch, -1)
        state = None
        log_prob = torch.zeros(batch)
        entropy = torch.zeros(batch)
        for i, head in enumerate(self.heads):
            h, c = self.cell(x, state)
            state = (h, c)
            logits = torch.log_softmax(head(h), dim=-1)
            log_prob = log_prob + logits.gather(1, tokens[:, i: i + 1]).squeeze(1)
            entropy = entropy - (logits.exp() * logits).sum(-1)
            x = self.embeds[i](tokens[:, i])
        return log_prob, entropy

    @torch.no_grad()
    def sample(self, rng: np.random.Generator) -> tuple[list[int], float]:
        """One token sequence drawn with `rng`, and its log-probability."""
        x, state, tokens, log_prob = self.start, None, [], 0.0
        for i, head in enumerate(self.heads):
            state = self.cell(x, state)
            logits = torch.log_softmax(head(state[0]), dim=-1)[0].double()
            p = logits.exp().numpy()
            token = int(rng.choice(len(p), p=p / p.sum()))
            tokens.append(token)
            log_prob += float(logits[token])
            x = self.embeds[i](torch.tensor([token]))
        return tokens, log_prob


class PPOController(Strategy):
    name = "ppo"

    def __init__(self, space=None, seed: int | None = 0, hidden: int = PPOOptions.hidden, lr: float = PPOOptions.lr,
                 batch: int = PPOOptions.batch, epochs: int = PPOOptions.epochs, clip: float = PPOOptions.clip,
                 baseline_decay: float = PPOOptions.baseline_decay, entropy: float = PPOOptions.entropy) -> None:
        super().__init__(space, seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0 if seed is None else int(seed))
            self.controller = Controller(self.choices, hidden)
        self.optimizer = torch.optim.Adam(self.controller.parameters(), lr=lr)
        self.batch, self.epochs, self.clip = int(batch), int(epochs), float(clip)
        self.baseline_decay, self.entropy_coef = float(baseline_decay), float(entropy)
        self.baseline: float | None = None
        self.buffer: list[tuple[list[int], float, float]] = []  # tokens, old log-prob, advantage
        self.updates = 0

    @property
    def generation(self) -> int:
        """A synchronous generation is one PPO batch: all of it sampled from the same policy."""
        return self.batch

    def _propose(self) -> tuple[list[int], Any]:
        with torch_threads(CONTROLLER_THREADS):
            return self.controller.sample(self.rng)

    def _observe(self, tokens: list[int], reward: float, context: Any) -> None:
        if context is None:  # replayed observation: treat the current policy as the sampler
            with torch.no_grad(), torch_threads(CONTROLLER_THREADS):
                context = float(self.controller(torch.tensor([tokens]))[0][0])
        if self.baseline is None:
            self.baseline = reward
        advantage = reward - self.baseline
        self.baseline = self.baseline_decay * self.baseline + (1 - self.baseline_decay) * reward
        self.buffer.append((tokens, float(context), advantage))
        if len(self.buffer) >= self.batch:
            self.update()

    def update(self) -> None:
        """`epochs` steps of the clipped PPO surrogate on the buffered observations."""
        tokens = torch.tensor([b[0] for b in self.buffer])
        old = torch.tensor([b[1] for b in self.buffer])
        adv = torch.tensor([b[2] for b in self.buffer])
        std = float(adv.std()) if len(adv) > 1 else 0.0
        adv = adv / std if std > 1e-12 else adv
        with torch_threads(CONTROLLER_THREADS):
            for _ in range(self.epochs):
                log_prob, entropy = self.controller(tokens)
                ratio = torch.exp(log_prob - old)
                surrogate = torch.min(ratio * adv, torch.clamp(ratio, 1 - self.clip, 1 + self.clip) * adv)
                loss = -surrogate.mean() - self.entropy_coef * entropy.mean()
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
        self.buffer.clear()
        self.updates += 1

    def probabilities(self, position: int, prefix: list[int]) -> np.ndarray:
        """Softmax of the head at `position` given the tokens before it (for tests and reports)."""
        with torch.no_grad():
            x, state = self.controller.start, None
            for i in range(position + 1):
                state = self.controller.cell(x, state)
                if i < position:
                    x = self.controller.embeds[i](torch.tensor([prefix[i]]))
            return torch.softmax(self.controller.heads[position](state[0]), -1)[0].numpy()

    def _state(self) -> dict[str, Any]:
        return {"controller": self.controller.state_dict(), "optimizer": self.optimizer.state_dict(),
                "baseline": self.baseline, "buffer": [[list(t), o, a] for t, o, a in self.buffer],
                "updates": self.updates}

    def _load_state(self, state: dict[str, Any]) -> None:
        self.controller.load_state_dict(state["controller"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.baseline = state["baseline"]
        self.buffer = [(list(t), float(o), float(a)) for t, o, a in state["buffer"]]
        self.updates = int(state["updates"])
