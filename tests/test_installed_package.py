"""effnas as `pip install .` makes it: built from the package files alone, installed outside the
checkout, run from a folder of its own. Each command must work, the reference set and the proxy
fidelity a report quotes must come from the installed package data, and no code path may touch the
checkout (an audit hook logs every file the commands open or list there).

The dependencies are this venv's (the build is offline: --no-deps --no-build-isolation --no-index);
the venv's editable effnas is taken off the import path in the child processes, so what runs is the
installed copy or nothing. The fast tests run in the default suite (about 30 s together); a full
`effnas evaluate --reference` and the demo job are marked slow.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from nas.reference import read_reference

ROOT = Path(__file__).resolve().parents[1]

# Runs first in every child Python (sitecustomize, after the venv's .pth files): drops the editable
# install's finder, and logs each open / listdir / scandir of a path in the checkout (the venv's own
# files aside) to $EFFNAS_TEST_CHECKOUT_READS.
SITECUSTOMIZE = r'''
import os, sys

sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in getattr(f, "__module__", "")]
_ROOT = os.environ["EFFNAS_TEST_CHECKOUT"]
_VENV = os.path.join(_ROOT, ".venv") + os.sep
_LOG = os.environ["EFFNAS_TEST_CHECKOUT_READS"]


def _hook(event, args):
    if event not in ("open", "os.listdir", "os.scandir") or not args:
        return
    path = args[0]
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not isinstance(path, str):
        return
    full = os.path.abspath(path)
    if (full == _ROOT or full.startswith(_ROOT + os.sep)) and not full.startswith(_VENV):
        with open(_LOG, "a", encoding="utf-8") as log:
            log.write(f"{event} {full}\n")


sys.addaudithook(_hook)
'''

TINY_JOB = """
[job]
name = "tiny"
runner = "inline"

[search]
target = "400M"
strategy = "random"
evaluator = "zero-cost"
trials = 2

[grid]
evaluator = "zero-cost"
step = 0.2
single_dimension = false

[family]
phis = [0, 1]

[detectors]
members = "all"
num_classes = 4
"""

# What the installed package reads of its reference set (nas/reference_data), printed as JSON.
PACKAGE_DATA = """
import json, effnas, nas.reference as reference
from effnas.report import fidelity_sentence
from nas.presets import get_preset

preset = get_preset("b0-local")
print(json.dumps({
    "effnas": effnas.__file__, "reference_file": str(reference.REFERENCE_FILE),
    "fidelity_file": str(reference.FIDELITY_FILE), "rows": len(reference.read_reference()),
    "sentence": fidelity_sentence(preset["evaluator_configs"]["proxy"], preset["target"]),
}))
"""


def b0_local_sentence() -> str:
    """What a report says of the b0-local proxy at its target, from the checkout's own package data."""
    from effnas.report import fidelity_sentence
    from nas.presets import get_preset

    preset = get_preset("b0-local")
    return fidelity_sentence(preset["evaluator_configs"]["proxy"], preset["target"])


@dataclass
class Installed:
    site: Path
    cwd: Path
    env: dict[str, str]
    reads: Path

    def run(self, *args: str, timeout: float = 120, script: str | None = None) -> str:
        """Run `effnas ARGS` (the installed console script) or `python -c SCRIPT` in the work folder;
        its stdout. Fails on a non-zero exit or on any file it touched in the checkout."""
        self.reads.write_text("")
        command = [sys.executable, "-c", script] if script else [str(self.site / "bin" / "effnas"), *args]
        done = subprocess.run(command, cwd=self.cwd, env=self.env, capture_output=True, text=True, timeout=timeout)
        shown = " ".join(args) or "python -c"
        assert done.returncode == 0, f"{shown}: exit {done.returncode}\n{done.stderr[-3000:]}"
        touched = self.reads.read_text()
        assert not touched, f"{shown} read the checkout:\n{touched[:3000]}"
        return done.stdout


def copy_package_sources(dest: Path) -> None:
    """pyproject.toml, the readme, license files and the packages it declares: all a wheel is made of."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    dest.mkdir(parents=True)
    shutil.copy2(ROOT / "pyproject.toml", dest)
    for path in [ROOT / project["project"]["readme"], *ROOT.glob("LICEN[CS]E*")]:
        shutil.copy2(path, dest)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for pattern in project["tool"]["setuptools"]["packages"]["find"]["include"]:
        for package in ROOT.glob(pattern.split(".")[0]):
            if (package / "__init__.py").is_file():
                shutil.copytree(package, dest / package.name, ignore=ignore)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    base = tmp_path_factory.mktemp("installed")
    copy_package_sources(base / "src")
    site = base / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--no-compile", "--target", str(site), str(base / "src")],
                   check=True, capture_output=True, timeout=300)
    hooks = base / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    cwd = base / "work"
    cwd.mkdir()
    reads = base / "checkout-reads.log"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "EFFNAS_"))}
    env.update(PYTHONPATH=os.pathsep.join([str(hooks), str(site)]), EFFNAS_TEST_CHECKOUT=str(ROOT),
               EFFNAS_TEST_CHECKOUT_READS=str(reads), PYTHONDONTWRITEBYTECODE="1", RAY_DEDUP_LOGS="0")
    return Installed(site, cwd, env, reads)


def test_the_installed_package_and_its_data_are_read_not_the_checkout(installed):
    data = json.loads(installed.run(script=PACKAGE_DATA))
    package = installed.site.resolve()
    for key in ("effnas", "reference_file", "fidelity_file"):
        assert Path(data[key]).resolve().is_relative_to(package), f"{key} from {data[key]}, not the installed package"
    assert data["rows"] == len(read_reference()) > 100  # the converged reference set, whole
    # the figures every report of a b0-local search quotes (benchmarks/bench_proxy_fidelity.py's record)
    assert "Kendall τ against the converged reference set: " in data["sentence"], data["sentence"]
    assert "within ±10% of 400M MACs: τ" in data["sentence"] and data["sentence"] == b0_local_sentence()


def test_analytic_commands_from_another_folder(installed):
    assert "efficientnet-b0" in installed.run("arch", "show", "efficientnet-b0")
    installed.run("family", "--base", "efficientnet-b0", "--targets", "600M", "-o", "f.json")
    assert json.loads((installed.cwd / "f.json").read_text())
    assert "box_net" in installed.run("detector", "show", "d0")


def test_search_and_grid_from_another_folder(installed):
    installed.run("search", "--evaluator", "zero-cost", "--strategy", "random", "--trials", "2", "--target", "400M",
                  "--runner", "inline", "--out", "search", "--quiet")
    assert len((installed.cwd / "search" / "trials.jsonl").read_text().splitlines()) == 2
    installed.run("grid", "--base", "efficientnet-b0", "--evaluator", "zero-cost", "--step", "0.2", "--levels", "2",
                  "--out", "grid", "--no-plot", "--quiet")
    assert (installed.cwd / "grid" / "coefficients.json").is_file()


def test_job_and_its_report_from_another_folder(installed):
    (installed.cwd / "tiny.toml").write_text(TINY_JOB, encoding="utf-8")
    installed.run("run", "tiny.toml", "--quiet")
    report = (installed.cwd / "results" / "tiny" / "report.md").read_text(encoding="utf-8")
    assert "fidelity against the converged reference set" in report
    assert (installed.cwd / "results" / "tiny" / "detectors.json").is_file()


@pytest.mark.slow
def test_evaluate_reference_from_another_folder(installed):
    """The reference budget (10 epochs of 10,000 cluttered-MNIST images; 1–4 min for the plain CNN)
    repeats the reference set's own row of the same network and seed."""
    blocks = ["cn_r1_k3_s11_i32_o32", "cn_r1_k3_s22_i32_o64", "cn_r1_k3_s22_i64_o128"]  # its plain CNN
    result = json.loads(installed.run("evaluate", "--reference", "--seed", "0", "--json", "--quiet", *blocks,
                                      timeout=1800))
    row = next(r for r in read_reference() if r.key == "plain-cnn" and r.seed == 0)
    assert result["accuracy"] == pytest.approx(row.accuracy, abs=0.02)


@pytest.mark.slow
def test_demo_job_from_another_folder_quotes_the_proxy_fidelity(installed):
    """jobs/local-demo.toml whole (embedded Ray, b0-local proxy; ~10 min on 2 cores): its report
    quotes the b0-local proxy's measured Kendall τ from the installed package data."""
    shutil.copy2(ROOT / "jobs" / "local-demo.toml", installed.cwd / "demo.toml")
    installed.run("run", "demo.toml", "--out", "demo", "--quiet", timeout=3600)
    report = (installed.cwd / "demo" / "report.md").read_text(encoding="utf-8")
    assert "This proxy's Kendall τ against the converged reference set: " in report
    assert b0_local_sentence() in report
