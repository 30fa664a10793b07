"""Grid-search outputs: grid.json (every candidate with metric and MACs), grid.md (tables),
coefficients.json (the chosen α, β, γ for `effnas family --coefficients-from`) and grid.png
(metric against MACs per scaling rule — the analogue of EfficientNet Fig. 3 / Fig. 8)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from search_spaces import Arch
from search_spaces.atomic import write_json_atomic
from search_spaces.units import format_size

from .candidates import Candidate, compound_key
from .coefficients import PAPER, Coefficients, coefficients_record
from .family import base_reference
from .report_files import pyplot, save_figure, save_markdown

GRID_SCHEMA = "effnas.grid/1"
RULE_ORDER = ("base", "depth", "width", "resolution", "compound")


def _row(candidate: Candidate, row: Mapping[str, Any]) -> dict[str, Any]:
    c = candidate.coefficients
    arch = candidate.arch
    return {"key": candidate.key, "rule": candidate.rule, "level": candidate.level,
            "alpha": c.alpha if c else None, "beta": c.beta if c else None, "gamma": c.gamma if c else None,
            "product": c.product if c else None, "width": arch.width, "depth": arch.depth,
            "resolution": arch.resolution, "layers": arch.num_layers, "proxy_resolution": row.get("proxy_resolution"),
            "macs": int(row["macs"]), "params": int(row["params"]), "metric": float(row["metric"]),
            "seconds": row.get("seconds"), "evaluated_as": row.get("evaluated_as", candidate.key), **candidate.extra}


def grid_record(base: Arch, phi: float, evaluator: str, config: Mapping[str, Any], candidates: Sequence[Candidate],
                rows: Mapping[str, dict], best: Candidate, step: float, tolerance: float) -> dict[str, Any]:
    table = [_row(c, rows[c.key]) for c in candidates]
    grid = sorted((r for r in table if r["rule"] == "compound" and r["level"] is None),
                  key=lambda r: -r["metric"])
    proxy = next((rows[c.key].get("details", {}).get("proxy") for c in candidates
                  if rows[c.key].get("details", {}).get("proxy")), None)
    paper = next((dict(r, rank=i + 1) for i, r in enumerate(grid) if r["key"] == compound_key(PAPER)), None)
    levels = sorted({r["level"] for r in table if r["level"] and r["level"] > 1})
    matched = {f"{level:g}": {r["rule"]: {"key": r["key"], "macs": r["macs"], "metric": r["metric"]}
                              for r in table if r["level"] == level} for level in levels}
    best_row = next(r for r in table if r["key"] == best.key)
    return {"schema": GRID_SCHEMA, "base": base_reference(base), "phi": phi, "evaluator": evaluator,
            "proxy": proxy, "config": dict(config), "step": step, "tolerance": tolerance,
            "best": {k: best_row[k] for k in ("key", "alpha", "beta", "gamma", "product", "metric", "macs")},
            "paper_point": paper and {k: paper[k] for k in ("key", "metric", "macs", "rank")},
            "grid_size": len(grid), "matched": matched, "candidates": table}


def _markdown(result: Mapping[str, Any]) -> str:
    lines = [f"# Grid search of alpha, beta, gamma at phi = {result['phi']:g}", "",
             f"Evaluator: `{result['evaluator']}`; proxy: {result['proxy'] or 'n/a'}; grid step {result['step']:g}, "
             f"constraint |alpha*beta^2*gamma^2 - 2| <= {result['tolerance']:g}: {result['grid_size']} points.", ""]
    best = result["best"]
    lines += [f"Best: alpha={best['alpha']:g}, beta={best['beta']:g}, gamma={best['gamma']:g} "
              f"(product {best['product']:.3f}), metric {best['metric']:.4f} at {format_size(best['macs'])} MACs.", ""]
    if result["paper_point"]:
        p = result["paper_point"]
        lines += [f"Paper's alpha=1.2, beta=1.1, gamma=1.15: metric {p['metric']:.4f}, rank {p['rank']} of "
                  f"{result['grid_size']}.", ""]
    base = next(r for r in result["candidates"] if r["rule"] == "base")
    lines += ["## Matched MACs: one dimension vs compound (Observation 2)", "",
              "| MACs level | " + " | ".join(RULE_ORDER[1:]) + " |", "|---" * 5 + "|",
              f"| x1 (base) | {base['metric']:.4f} ({format_size(base['macs'])}) | | | |"]
    for level, rules in result["matched"].items():
        cells = [f"{rules[r]['metric']:.4f} ({format_size(rules[r]['macs'])})" if r in rules else ""
                 for r in RULE_ORDER[1:]]
        lines.append(f"| x{level} | " + " | ".join(cells) + " |")
    lines += ["", "## Compound grid (best first)", "",
              "| alpha | beta | gamma | product | width | depth | res | proxy px | MACs | metric |", "|---" * 10 + "|"]
    for r in sorted((r for r in result["candidates"] if r["rule"] == "compound" and r["level"] is None),
                    key=lambda r: -r["metric"]):
        lines.append(f"| {r['alpha']:g} | {r['beta']:g} | {r['gamma']:g} | {r['product']:.3f} | {r['width']:.4g} | "
                     f"{r['depth']:.4g} | {r['resolution']} | {r['proxy_resolution']} | {format_size(r['macs'])} | "
                     f"{r['metric']:.4f} |")
    return "\n".join(lines) + "\n"


def plot_grid(result: Mapping[str, Any], path: Path) -> None:
    """Metric vs MACs (log x) per scaling rule, grid points in grey, the best starred."""
    plt = pyplot()
    rows = result["candidates"]
    base = next(r for r in rows if r["rule"] == "base")
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    grid = [r for r in rows if r["rule"] == "compound" and r["level"] is None]
    ax.scatter([r["macs"] for r in grid], [r["metric"] for r in grid], s=14, c="0.7", label="compound grid (phi)")
    for rule, style in (("depth", "o-"), ("width", "s-"), ("resolution", "^-"), ("compound", "D-")):
        points = sorted([(base["macs"], base["metric"])] + [(r["macs"], r["metric"]) for r in rows
                                                            if r["rule"] == rule and r["level"] is not None])
        if len(points) > 1:
            ax.plot(*zip(*points, strict=True), style, label=f"{rule} scaling", ms=5)
    best = result["best"]
    ax.scatter([best["macs"]], [best["metric"]], marker="*", s=160, c="crimson", zorder=5,
               label=f"best a={best['alpha']:g} b={best['beta']:g} g={best['gamma']:g}")
    ax.set_xscale("log")
    ax.set_xlabel("MACs (full-resolution network)")
    ax.set_ylabel(f"metric ({result['evaluator']})")
    ax.set_title(f"Scaling rules on the proxy: {result['proxy'] or result['evaluator']}"[:110], fontsize=8)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    save_figure(fig, path)


def write_reports(out: Path, result: Mapping[str, Any], plot: bool = True) -> None:
    best = result["best"]
    write_json_atomic(out / "grid.json", result)
    save_markdown(out / "grid.md", _markdown(result))
    chosen = Coefficients(best["alpha"], best["beta"], best["gamma"])
    write_json_atomic(out / "coefficients.json", coefficients_record(
        chosen, metric=best["metric"], macs=best["macs"], key=best["key"], phi=result["phi"],
        evaluator=result["evaluator"], proxy=result["proxy"], base=result["base"], grid_size=result["grid_size"]))
    if plot:
        plot_grid(result, out / "grid.png")
