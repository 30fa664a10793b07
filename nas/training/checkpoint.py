"""A training run's checkpoint.pt: one typed record, written atomically, read with weights_only.

Everything a resumed run needs to continue as an uninterrupted one: the model, the optimiser, the
GradScaler and the EMA (``step``), the loop's batch-order generator and per-step losses (``loop``),
torch's global RNG states (dropout, drop-connect and kornia's augmentation draw from it), the
epochs done, the metrics rows so far (metrics.jsonl is rewritten from them) and the identity of the
run (``config``: what a resume must match).
"""

from __future__ import annotations

import os
import pickle
import zipfile
from dataclasses import asdict, dataclass
from typing import Any

import torch

from search_spaces import InputError
from search_spaces.atomic import write_with

SCHEMA = "effnas.checkpoint/1"
FILENAME = "checkpoint.pt"


@dataclass
class Checkpoint:
    """The checkpoint record (module docstring)."""

    config: dict[str, Any]  # the run's identity: config.json's "identity"
    epoch: int
    model: dict[str, torch.Tensor]
    step: dict[str, Any]
    loop: dict[str, Any]
    rng: dict[str, Any]
    rows: list[dict[str, Any]]
    schema: str = SCHEMA


def rng_state() -> dict[str, Any]:
    """torch's global RNG states (CPU, and every CUDA device when initialised)."""
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else []
    return {"cpu": torch.get_rng_state(), "cuda": cuda}


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["cpu"])
    if state.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save(path: str | os.PathLike, checkpoint: Checkpoint) -> None:
    """Write `checkpoint` to `path` atomically (temp file + rename)."""
    write_with(path, lambda handle: torch.save(asdict(checkpoint), handle))


def load(path: str | os.PathLike) -> Checkpoint:
    """Read a checkpoint written by :func:`save`; InputError for a file that is not one."""
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, zipfile.BadZipFile, RuntimeError, EOFError, ValueError) as error:
        raise InputError(f"{os.fspath(path)!r} is not an effnas checkpoint ({type(error).__name__})") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise InputError(f"{os.fspath(path)!r} is not an effnas checkpoint (no {SCHEMA!r} schema)")
    try:
        return Checkpoint(**data)
    except TypeError:
        raise InputError(f"{os.fspath(path)!r} is an effnas checkpoint with missing or unknown fields") from None
