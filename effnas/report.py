"""report.md for a pipeline run folder: tables and PNG plots of whatever stages have finished.

Reads only the run folder's files (JSON / JSONL, never pickles) and the proxy's measured fidelity
(results/reference-set/fidelity.json, shipped as package data: nas/reference_data); every metric
names the proxy task that produced it and quotes its Kendall τ against the converged reference set
where that was measured.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nas.reference import fidelity_for
from scaling.report_files import save_markdown
from search_spaces import load_arch
from search_spaces.units import format_size

from . import plots
from .output import format_table


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                break  # a truncated last line: the ledger re-runs it
    return rows


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _md_table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def proxy_label(row: dict[str, Any] | None) -> str:
    if not row:
        return "proxy"
    return str(row.get("proxy") or row.get("details", {}).get("proxy") or row.get("evaluator") or "proxy")


def fidelity_sentence(config: dict[str, Any] | None, target: float | None = None) -> str:
    """'Kendall τ of this proxy against the converged reference set: ...' or why there is none; with a
    search's MACs target, also the τ measured near that target (bench_proxy_fidelity's windows), if any."""
    record = fidelity_for(config or {})
    if record is None:
        return ("This proxy's fidelity against the converged reference set was not measured "
                "(benchmarks/bench_proxy_fidelity.py).")
    measured = (record.get("near_target") or []) if target is not None else []
    near = [cell for cell in measured if cell.get("target") == target and cell.get("tau") is not None]
    near_text = "".join(f"; within ±{100 * cell['window']:.0f}% of {format_size(target)} MACs: τ {cell['tau']:.2f} "
                        f"over {cell['archs']}" for cell in near)
    return (f"This proxy's Kendall τ against the converged reference set: {record['tau']:.2f} "
            f"(p = {record['tau_p']:.1g}; Spearman ρ {record['rho']:.2f}; its own seed-to-seed τ "
            f"{record['seed_tau']:.2f}; {record['reference_archs']} reference architectures{near_text}).")


def search_section(folder: Path) -> list[str]:
    trials = read_jsonl(folder / "search" / "trials.jsonl")
    if not trials:
        return []
    config = read_json(folder / "search" / "config.json") or {}
    references = read_json(folder / "search" / "references.json") or []
    proxy = proxy_label(trials[0])
    target = config.get("target")
    plots.plot_rewards([t["reward"] for t in trials], folder / "search_rewards.png",
                       title=f"{config.get('strategy', 'search')}: {len(trials)} trials")
    refs = [{"name": r["trial"], "macs": r["macs"], "metric": r["metric"]} for r in references]
    plots.plot_accuracy_vs_macs(trials, refs, folder / "search_pareto.png", target, proxy)
    top = sorted(trials, key=lambda t: -t["reward"])[:5]
    rows = [[t["trial"], f"{t['reward']:.4f}", f"{t['metric']:.3f}", format_size(t["macs"]),
             format_size(t["params"]), " ".join(t["arch"]["blocks"])] for t in top]
    rows += [[r["trial"] + " (reference)", f"{r.get('reward', float('nan')):.4f}", f"{r['metric']:.3f}",
              format_size(r["macs"]), format_size(r["params"]), " ".join(r["arch"]["blocks"])] for r in references]
    return [
        "## 1. Search", "",
        f"Strategy **{config.get('strategy')}**, evaluator **{config.get('evaluator')}**, "
        f"target {format_size(target or 0)} MACs, {len(trials)} trials. Metric (the evaluator's score): **{proxy}** "
        f"(MACs always of the full-resolution network). "
        f"{fidelity_sentence(config.get('evaluator_config'), target)}", "",
        _md_table(["trial", "reward", "metric", "MACs", "params", "blocks"], rows), "",
        "![reward over trials](search_rewards.png)", "", "![metric vs MACs](search_pareto.png)", "",
    ]


def grid_section(folder: Path) -> list[str]:
    rows = read_jsonl(folder / "grid" / "trials.jsonl")
    coefficients = read_json(folder / "coefficients.json")
    if not rows or coefficients is None:
        return []
    summary = read_json(folder / "grid" / "grid.json") or {}
    candidates = summary.get("candidates") or rows
    proxy = proxy_label(rows[0])
    table = [[c.get("trial", c.get("key", "")), c.get("rule", "compound"), format_size(c["macs"]),
              f"{c['metric']:.3f}"] for c in sorted(candidates, key=lambda c: -c["metric"])]
    alpha, beta, gamma = (coefficients.get(k) for k in ("alpha", "beta", "gamma"))
    return [
        "## 2. Grid search (step 1, φ = 1)", "",
        f"Chosen α = {alpha}, β = {beta}, γ = {gamma} (α·β²·γ² = {alpha * beta**2 * gamma**2:.3f}); "
        f"metric: **{proxy}**. {fidelity_sentence(summary.get('config'))}", "",
        _md_table(["candidate", "rule", "MACs", "metric"], table), "",
        "![scaling rules on the proxy (written by the grid stage)](grid/grid.png)", "",
    ]


def family_section(folder: Path) -> list[str]:
    family = read_json(folder / "family.json")
    if not family:
        return []
    members = family["members"]
    official = []
    for index in range(8):
        arch = load_arch(f"efficientnet-b{index}")
        official.append({"phi": index, "macs": arch.cost().macs})
    plots.plot_family(members, official, folder / "family.png")
    base = members[0]["macs"] if members else 1
    rows = [[i, m["phi"] if m["phi"] is None else f"{m['phi']:.3g}", format_size(m["target_macs"]) if m.get(
        "target_macs") else "-", format_size(m["macs"]), f"{m['macs'] / base:.2f}", format_size(m["params"]),
        f"{m['width']:.3g}", f"{m['depth']:.3g}", m["resolution"]] for i, m in enumerate(members)]
    c = family["coefficients"]
    return [
        "## 3. Family (step 2)", "",
        f"Coefficients α = {c['alpha']}, β = {c['beta']}, γ = {c['gamma']}.", "",
        _md_table(["member", "φ", "target", "MACs", "× member 0", "params", "width", "depth", "resolution"], rows),
        "", "![family MACs vs φ](family.png)", "",
    ]


def train_section(folder: Path) -> list[str]:
    """The trained members: held-out accuracy (raw, EMA) and final training loss beside MACs, and a plot."""
    trained = read_json(folder / "train.json")
    if not trained:
        return []
    members = trained["members"]
    plots.plot_trained_members(members, folder / "train.png", f"{trained['recipe']} recipe on {trained['data']}")
    rows = [[m["member"], "-" if m["phi"] is None else f"{m['phi']:.3g}", format_size(m["macs"]),
             format_size(m["params"]), m["epoch"], f"{m['train_loss']:.4f}", f"{m['val_accuracy']:.4f}",
             "-" if m.get("ema_val_accuracy") is None else f"{m['ema_val_accuracy']:.4f}", m["folder"]]
            for m in members]
    return ["## Trained members", "",
            f"Recipe **{trained['recipe']}** on **{trained['data']}** (`effnas train`'s engine; each folder has "
            "config.json, metrics.jsonl, model.pt and train.png).", "",
            _md_table(["member", "φ", "MACs", "params", "epochs", "final train loss", "held-out acc", "EMA acc",
                       "folder"], rows), "", "![accuracy vs MACs of the trained members](train.png)", ""]


def detector_section(folder: Path) -> list[str]:
    detectors = read_json(folder / "detectors.json")
    if not detectors:
        return []
    rows = [[d["name"], d["backbone"] if isinstance(d["backbone"], str) else d["backbone"].get("name", "member"),
             d["resolution"], d["fpn_filters"], d["fpn_repeats"], d["head_repeats"], format_size(d["params"]),
             format_size(d["macs"])] for d in detectors["detectors"]]
    return ["## 4. Detectors", "",
            _md_table(["detector", "backbone", "image", "BiFPN W", "BiFPN D", "head D", "params", "MACs"], rows), ""]


def write_report(folder: str | Path, title: str) -> Path:
    """(Re)write folder/report.md and its PNG plots from the stage files present."""
    folder = Path(folder)
    lines = [f"# effnas run: {title}", "", f"Run folder `{folder}`.", ""]
    for section in (search_section, grid_section, family_section, train_section, detector_section):
        lines += section(folder)
    return save_markdown(folder / "report.md", "\n".join(lines) + "\n")


def family_table(family: dict[str, Any]) -> str:
    """Plain-text family table for the terminal."""
    rows = [[i, f"{m['phi']:.3g}", format_size(m["macs"]), format_size(m["params"]), f"{m['width']:.3g}",
             f"{m['depth']:.3g}", m["resolution"]] for i, m in enumerate(family["members"])]
    return format_table(["member", "phi", "MACs", "params", "width", "depth", "resolution"], rows, align="rrrrrrr")
