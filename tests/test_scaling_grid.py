"""Step-1 grid search: the coefficient grid, matched-MACs single-dimension scaling, the run folder
(grid.json, coefficients.json, plot) and resuming a killed run without re-evaluating."""

import json

import pytest

from nas.evaluators import register
from nas.evaluators.zero_cost import naswot
from nas.runners import RunnerSettings
from scaling import PAPER, compound_scale
from scaling.grid import KnownEvaluations, coefficient_grid, grid_candidates, proxy_resolution, run_grid
from scaling.matched import single_dimension
from search_spaces import InputError, load_arch

B0 = load_arch("efficientnet-b0")
SMALL = load_arch("mnasnet-a1").with_(resolution=96, name="a1-96")
CONFIG = {"batch": 4, "resolution": 8}
CALLS: list[str] = []
LIMIT = [None]


def counting_naswot(arch, config, reporter=None):
    """The real NASWOT score, counting calls; raises after LIMIT calls to simulate a killed run."""
    if LIMIT[0] is not None and len(CALLS) >= LIMIT[0]:
        raise KeyboardInterrupt("simulated kill")
    CALLS.append(arch.name)
    return naswot(arch, config)


register("grid-test-naswot", f"{__name__}:counting_naswot")


def test_coefficient_grid():
    grid = coefficient_grid(0.05, 0.1)
    assert all(c.satisfies(0.1) and min(c.alpha, c.beta, c.gamma) >= 1 for c in grid)
    assert PAPER in grid
    assert len(coefficient_grid(0.1, 0.1)) == 22
    assert len(set(grid)) == len(grid)
    for bad in ((0, 0.1), (0.05, -1), (2, 0.1)):
        with pytest.raises(InputError):
            coefficient_grid(*bad)


@pytest.mark.parametrize("rule", ["depth", "width", "resolution"])
def test_single_dimension_matched_macs(rule):
    target = 2 * B0.cost().macs
    arch = single_dimension(B0, rule, target)
    assert abs(arch.cost().macs / target - 1) < 0.08
    changed = {k for k in ("width", "depth", "resolution") if getattr(arch, k) != getattr(B0, k)}
    assert changed == {rule}
    with pytest.raises(InputError):
        single_dimension(B0, rule, B0.cost().macs / 2)


def test_grid_candidates_and_proxy_resolution():
    candidates = grid_candidates(B0, 1.0, 0.05, 0.1, levels=(2, 4))
    keys = [c.key for c in candidates]
    assert len(keys) == len(set(keys)) == 1 + len(coefficient_grid(0.05, 0.1)) + 6
    paper = next(c for c in candidates if c.coefficients == PAPER)
    assert paper.arch.cost() == compound_scale(B0, 1).cost()
    big = next(c for c in candidates if c.key == "resolution-x4")
    assert proxy_resolution(B0, big.arch, {"resolution": 32}, True) == round(32 * big.arch.resolution / 224)
    assert proxy_resolution(B0, big.arch, {"resolution": 32}, False) == 32
    with pytest.raises(InputError):
        grid_candidates(B0, 0.0)
    with pytest.raises(InputError):
        grid_candidates(B0, 1.0, levels=(0.5,))


def test_match_macs_puts_every_triple_at_equal_cost():
    plain = [c for c in grid_candidates(B0, 1.0, 0.1, 0.1, levels=()) if c.rule == "compound"]
    matched = [c for c in grid_candidates(B0, 1.0, 0.1, 0.1, levels=(), match_macs=True) if c.rule == "compound"]
    target = 2 * B0.cost().macs
    spread = [c.arch.cost().macs / target for c in plain]
    assert max(spread) - min(spread) > 0.2  # rounding alone scatters the φ = 1 members
    assert all(abs(c.arch.cost().macs / target - 1) <= 0.01 for c in matched)
    assert [c.key for c in plain] == [c.key for c in matched]


def test_run_grid_resumes_after_kill(tmp_path):
    out = tmp_path / "grid"
    # grid: (2, 1, 1) only; one proxy resolution keeps it quick (its scaling is tested above)
    kwargs = dict(step=1.0, tolerance=0.5, levels=(2,), plot=True, scale_proxy_resolution=False)
    CALLS.clear()
    LIMIT[0] = 2
    with pytest.raises(KeyboardInterrupt):
        run_grid(SMALL, "grid-test-naswot", CONFIG, out, **kwargs)
    finished = [json.loads(line)["trial"] for line in (out / "trials.jsonl").read_text().splitlines()]
    assert len(finished) == 2 and not (out / "grid.json").exists()
    first = list(CALLS)
    CALLS.clear()
    LIMIT[0] = None
    events: list[dict] = []
    result = run_grid(SMALL, "grid-test-naswot", CONFIG, out, progress=events.append, **kwargs)
    assert not set(CALLS) & set(first)  # nothing finished was evaluated again
    rows = [json.loads(line) for line in (out / "trials.jsonl").read_text().splitlines()]
    assert len(rows) == len({r["trial"] for r in rows}) == 2 + len(CALLS)
    # progress: done/total over the whole grid (the 2 finished before counted), an ETA, the row
    assert [e["done"] for e in events] == list(range(3, len(rows) + 1))
    assert {e["total"] for e in events} == {len(rows)} and events[-1]["eta_s"] == 0
    assert all(e["eta_s"] >= 0 for e in events) and events[0]["last"]["trial"] in {r["trial"] for r in rows}
    for name in ("grid.json", "grid.md", "coefficients.json", "grid.png", "config.json"):
        assert (out / name).stat().st_size > 0
    assert json.loads((out / "grid.json").read_text()) == json.loads(json.dumps(result))
    chosen = json.loads((out / "coefficients.json").read_text())
    assert chosen["schema"] == "effnas.coefficients/1"
    assert chosen["metric"] == max(r["metric"] for r in result["candidates"]
                                   if r["rule"] == "compound" and r["level"] is None)
    assert set(result["matched"]["2"]) == {"depth", "width", "resolution", "compound"}
    by_key = {r["key"]: r for r in result["candidates"]}
    # depth-only at 2x MACs is the same network as α=2 at φ=1: evaluated once, shared
    assert by_key["depth-x2"]["evaluated_as"] == by_key["compound-a2.000-b1.000-g1.000"]["evaluated_as"]
    assert by_key["depth-x2"]["metric"] == by_key["compound-a2.000-b1.000-g1.000"]["metric"]
    # a third run evaluates nothing at all
    CALLS.clear()
    run_grid(SMALL, "grid-test-naswot", CONFIG, out, **dict(kwargs, plot=False))
    assert CALLS == []
    # and the chosen coefficients feed `family`
    from scaling import load_coefficients, make_family

    family = make_family(SMALL, phis=[1], coefficients=load_coefficients(out / "coefficients.json"), allow_any=True)
    assert family.coefficients.alpha == chosen["alpha"]
    with pytest.raises(InputError, match="different run"):
        run_grid(SMALL, "grid-test-naswot", {"batch": 8}, out, **kwargs)


def test_known_evaluations_are_not_made_again(tmp_path):
    """A search's row for the base (same evaluator, same options) is the grid's base row; another
    evaluator's or other options' rows are not taken."""
    kwargs = dict(step=1.0, tolerance=0.5, levels=(), single_dimension=False, plot=False,
                  scale_proxy_resolution=False)
    searched = {"trial": "t00007", "arch": SMALL.with_(name="t00007").to_dict(), "metric": 123.0, "macs": 1,
                "params": 1, "seconds": 1.0, "worker": "w", "evaluator": "grid-test-naswot", "details": {},
                "reward": 0.5}
    for known, reused in [(KnownEvaluations("grid-test-naswot", {"batch": 8, "resolution": 8}, [searched], "s"), False),
                          (KnownEvaluations("naswot", CONFIG, [searched], "s"), False),
                          (KnownEvaluations("grid-test-naswot", CONFIG, [searched], "search"), True)]:
        CALLS.clear()
        out = tmp_path / f"g{len(list(tmp_path.iterdir()))}"
        result = run_grid(SMALL, "grid-test-naswot", CONFIG, out, known=known, **kwargs)
        base = {r["key"]: r for r in result["candidates"]}["base"]
        rows = {json.loads(line)["trial"]: json.loads(line) for line in (out / "trials.jsonl").read_text().splitlines()}
        assert (base["metric"] == 123.0) is reused and ("a1-96" in CALLS) is not reused
        assert (rows["base"].get("reused") == "search/t00007") is reused and "reward" not in rows["base"]
        assert len(CALLS) == len(rows) - reused  # every other candidate evaluated once


@pytest.mark.parametrize("args, fragment", [
    (["--evaluator", "nope"], "unknown evaluator"),
    (["--evaluator", "naswot", "--step", "0"], "grid step"),
    (["--evaluator", "naswot", "--config", "{bad"], "--config"),
    (["--evaluator", "naswot", "--config", "novalue"], "key=value"),
    (["--evaluator", "naswot", "--levels", "x"], "--levels"),
    (["--evaluator", "naswot", "--phi", "-1"], "phi"),
    (["--evaluator", "naswot", "--tolerance", "0.001", "--step", "0.3"], "no grid point"),
])
def test_grid_cli_bad_input(run_cli, tmp_path, args, fragment):
    code, out, err = run_cli("grid", "--base", "efficientnet-b0", "--out", tmp_path / "g", *args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and fragment in err, err
    assert not (tmp_path / "g" / "trials.jsonl").exists()


@pytest.mark.slow
def test_run_grid_on_embedded_ray(tmp_path):
    """The same grid with Ray Tune trials (2 at a time); a re-run resumes from the ledger."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        kwargs = dict(step=1.0, tolerance=0.5, levels=(2,), plot=False,
                      settings=RunnerSettings("ray", max_concurrent=2))
        result = run_grid(SMALL, "naswot", CONFIG, tmp_path / "g", **kwargs)
        rows = (tmp_path / "g" / "trials.jsonl").read_text().splitlines()
        assert result["best"]["key"] == "compound-a2.000-b1.000-g1.000"
        again = run_grid(SMALL, "naswot", CONFIG, tmp_path / "g", **kwargs)
        assert again == result and (tmp_path / "g" / "trials.jsonl").read_text().splitlines() == rows
    finally:
        ray.shutdown()


def test_grid_cli_shows_done_total_and_eta(run_cli, tmp_path):
    common = ["grid", "--base", "mnasnet-a1", "--evaluator", "naswot", "--config", "batch=4", "--config",
              "resolution=8", "--step", "1.0", "--tolerance", "0.5", "--levels", "2", "--no-plot",
              "--fixed-proxy-resolution"]
    code, out, err = run_cli(*common, "--out", tmp_path / "g")
    assert code == 0, err
    lines = err.strip().splitlines()
    total = len((tmp_path / "g" / "trials.jsonl").read_text().splitlines())
    assert lines[0].startswith(f"[1/{total}] ") and lines[-1].startswith(f"[{total}/{total}] ")
    assert len(lines) == total and all("| ETA " in line for line in lines)
    assert "matched MACs" in out
    code, _, err = run_cli(*common, "--quiet", "--out", tmp_path / "q")
    assert code == 0 and err == ""


def test_report_files_are_written_whole_and_figures_closed(tmp_path):
    """scaling.report_files, the one saver of report Markdown and PNGs (grid.md/png, report.md and
    its plots): a PNG is written and its figure closed, also when the target cannot be written."""
    from scaling.report_files import pyplot, save_figure, save_markdown

    plt = pyplot()
    assert save_markdown(tmp_path / "r.md", "# title\n").read_text(encoding="utf-8") == "# title\n"
    fig, ax = plt.subplots(figsize=(2, 2), dpi=50)
    ax.plot([0, 1], [0, 1])
    path = save_figure(fig, tmp_path / "f.png")
    assert path.read_bytes().startswith(b"\x89PNG") and not plt.fignum_exists(fig.number)
    (tmp_path / "folder.png").mkdir()
    fig, _ = plt.subplots()
    with pytest.raises(InputError, match="folder"):
        save_figure(fig, tmp_path / "folder.png", dpi=20)
    assert not plt.fignum_exists(fig.number) and sorted(p.name for p in tmp_path.iterdir()) == [
        "f.png", "folder.png", "r.md"]
