"""A training run's options (what it trains on and for how long), declared once and read without
torch: `effnas train`'s flags, JOB.toml's [train] section (effnas.jobs: a view of this record) and a
run's config.json hold them. How the network is trained is the recipe's (nas.training.recipe)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from search_spaces.bounds import check_seed, within
from search_spaces.schema import Style, python_names, read, spec


@dataclass(frozen=True)
class TrainOptions:
    """What a run trains on and for how long (the recipe says how)."""

    data: str = spec()  # bundled name (mnist, mnist-cluttered, digits, mnist-full), ImageFolder, CIFAR arrays
    epochs: float = spec(10.0, check=within(0.01, 10000))
    batch: int = spec(64, check=within(2, 1 << 20))  # the global batch (all workers together)
    resolution: int | None = None  # None: 32 px on bundled sets, the arch's resolution otherwise
    subset: int | None = None  # training images (class-balanced sample); None: all
    val_size: int = spec(2000, check=within(1))  # held-out images (stratified, never trained on)
    data_seed: int = spec(0, check=check_seed)  # the split and the subset
    seed: int = spec(0, check=check_seed)  # weights, batch order, dropout, augmentation
    device: str = "cpu"  # cpu | cuda[:n] | auto
    threads: int | None = None  # torch intra-op threads; None: torch's default
    # processes decoding images of large ImageFolder / CIFAR sets (decoded batch by batch, nas.data.stream);
    # None: torch threads - 1; bundled sets stay in memory. The batches do not depend on it.
    loader_workers: int | None = spec(None, check=within(0, 256))
    lazy: bool | None = None  # decode batch by batch; None: automatic (nas.data.load_dataset)
    val_data: str | None = None  # a validation set of its own (used whole); None: hold out val_size images


OPTION_STYLE = Style(name="train option {key!r}", unknown="unknown train option(s) {listed}; known: {known}",
                     type_names=python_names, coerce=True)


def read_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The run options, every field present and checked (InputError on bad or unknown keys)."""
    return read(TrainOptions, options, "", OPTION_STYLE)
