"""PNG plots for run reports (matplotlib, headless Agg backend). Each function writes one file."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from scaling.report_files import pyplot, save_figure

plt = pyplot()
DPI = 110  # (the grid's plot keeps its figure's own dpi, also 110)


def _wrap(text: str, width: int = 90) -> str:
    return "\n".join(textwrap.wrap(text, width))


def pareto_front(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Points not dominated by another with fewer-or-equal MACs (x) and higher-or-equal accuracy (y)."""
    front, best = [], -np.inf
    for x, y in sorted(points, key=lambda p: (p[0], -p[1])):
        if y > best:
            front.append((x, y))
            best = y
    return front


def plot_rewards(rewards: Sequence[float], path: str | os.PathLike, title: str = "search") -> Path:
    """Reward per trial (dots) and best reward so far (line) against trial index."""
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    x = np.arange(1, len(rewards) + 1)
    ax.scatter(x, rewards, s=14, alpha=0.6, label="trial reward")
    ax.plot(x, np.maximum.accumulate(rewards), color="C3", lw=2, label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel("reward  ACC·(MACs/T)^w")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(fig, path, dpi=DPI)


def plot_accuracy_vs_macs(trials: Sequence[dict[str, Any]], references: Sequence[dict[str, Any]],
                          path: str | os.PathLike, target: float | None, proxy: str) -> Path:
    """Every trial's metric (accuracy or TSE) against MACs, its Pareto front, and reference archs (B0, A1)."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    points = [(t["macs"] / 1e6, t["metric"]) for t in trials]
    if points:
        xs, ys = zip(*points, strict=True)
        ax.scatter(xs, ys, s=14, alpha=0.5, label="trials")
        front = pareto_front(points)
        ax.plot(*zip(*front, strict=True), color="C3", lw=1.5, drawstyle="steps-post", label="Pareto front")
    for i, ref in enumerate(references):
        ax.scatter([ref["macs"] / 1e6], [ref["metric"]], marker="*", s=160, color=f"C{i + 4}",
                   edgecolor="k", zorder=5, label=ref["name"])
    if target:
        ax.axvline(target / 1e6, color="grey", ls="--", lw=1, label=f"target {target / 1e6:.0f}M")
    ax.set_xlabel("MACs (M) of the full-resolution network")
    ax.set_ylabel("proxy metric")
    ax.set_title(_wrap(f"metric: {proxy}"), fontsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, path, dpi=DPI)


def plot_family(members: Sequence[dict[str, Any]], official: Sequence[dict[str, Any]],
                path: str | os.PathLike) -> Path:
    """Family MACs against φ, beside the official B0–B7 and the ideal 2^φ growth (log scale)."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    phis = [m["phi"] for m in members]
    ax.semilogy(phis, [m["macs"] / 1e6 for m in members], "o-", label="this family")
    if members:
        base = min(members, key=lambda m: abs(m["phi"]))
        grid = np.linspace(min(phis + [0]), max(phis + [0]) or 1, 50)
        ax.semilogy(grid, base["macs"] / 1e6 * 2.0 ** (grid - base["phi"]), "--", color="grey", label="2^φ")
    if official:
        ax.semilogy([o["phi"] for o in official], [o["macs"] / 1e6 for o in official], "s", color="C3",
                    label="official B0–B7")
    ax.set_xlabel("φ")
    ax.set_ylabel("MACs (M)")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return save_figure(fig, path, dpi=DPI)


def plot_run_curves(folder: str | os.PathLike, title: str) -> Path:
    """A training run folder's train.png, from its metrics.jsonl."""
    from nas.training.run import read_metrics

    return plot_training(read_metrics(folder), Path(folder) / "train.png", title)


def plot_training(rows: Sequence[dict[str, Any]], path: str | os.PathLike, title: str = "training") -> Path:
    """train.png: training and held-out loss (left), held-out accuracy raw and EMA (right), per epoch."""
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(9.6, 3.8))
    epochs = [row["epoch"] for row in rows]
    loss_ax.plot(epochs, [row["train_loss"] for row in rows], marker="o", label="train loss")
    loss_ax.plot(epochs, [row["val_loss"] for row in rows], marker="o", label="held-out loss")
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel("cross-entropy (nats)")
    acc_ax.plot(epochs, [row["val_accuracy"] for row in rows], marker="o", label="held-out top-1")
    if any(row.get("ema_val_accuracy") is not None for row in rows):
        acc_ax.plot(epochs, [row.get("ema_val_accuracy") for row in rows], marker="o", label="EMA held-out top-1")
    acc_ax.set_xlabel("epoch")
    acc_ax.set_ylabel("accuracy")
    for ax in (loss_ax, acc_ax):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(_wrap(title))
    return save_figure(fig, path, dpi=DPI)


def plot_trained_members(members: Sequence[dict[str, Any]], path: str | os.PathLike, title: str) -> Path:
    """Held-out accuracy (raw and EMA) of trained family members against their MACs."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    macs = [m["macs"] / 1e9 for m in members]
    ax.plot(macs, [m["val_accuracy"] for m in members], marker="o", label="held-out top-1")
    if any(m.get("ema_val_accuracy") is not None for m in members):
        ax.plot(macs, [m.get("ema_val_accuracy") for m in members], marker="s", label="EMA")
    for m, x in zip(members, macs, strict=True):
        ax.annotate(str(m["member"]), (x, m["val_accuracy"]), textcoords="offset points", xytext=(4, 4))
    ax.set_xlabel("MACs (G)")
    ax.set_ylabel("accuracy")
    ax.set_title(_wrap(title, 60))
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(fig, path, dpi=DPI)
