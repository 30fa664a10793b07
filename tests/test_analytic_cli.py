"""The analytic commands answer in closed form: they import neither torch nor Ray (issue 11 §2),
and the closed-form detector cost equals torch's count on the built module exactly.

Wall time is measured in benchmarks/bench_cli_startup.py, not here."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from detectors.cost import counted_detector_cost, detector_cost
from scaling import make_family
from search_spaces import InputError, load_arch

FORBIDDEN = ("torch", "ray")

ANALYTIC_COMMANDS = [
    ["arch", "show", "efficientnet-b0"],
    ["arch", "show", "mnasnet-a1", "--json"],
    ["arch", "graph", "efficientnet-b0"],
    ["arch", "graph", "efficientnet-b0", "--json"],
    ["space", "sample", "--n", "3", "--seed", "1"],
    ["space", "show", "--json"],
    ["family", "--base", "efficientnet-b0", "--phis", "0,1,2"],
    ["family", "--base", "efficientnet-b0", "--targets", "400M,1G", "--json"],
    ["detector", "show", "d0"],
    ["detector", "show", "d7x", "--json"],
    ["detector", "show", "--phi", "3", "--backbone", "efficientnet-b1"],
]


def imported_modules(args: list[str]) -> tuple[subprocess.CompletedProcess, set[str]]:
    """Run ``python -X importtime -m effnas.cli ARGS`` and return the process and the modules it imported."""
    process = subprocess.run([sys.executable, "-X", "importtime", "-m", "effnas.cli", *args],
                             capture_output=True, text=True, timeout=300)
    modules = set()
    for line in process.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":
                modules.add(name)
    return process, modules


@pytest.mark.parametrize("args", ANALYTIC_COMMANDS, ids=" ".join)
def test_analytic_command_imports_no_torch_or_ray(args):
    process, modules = imported_modules(args)
    assert process.returncode == 0, process.stderr[-2000:]
    assert "effnas.cli" in modules or "search_spaces" in modules  # the log was parsed
    heavy = sorted(m for m in modules if m.split(".")[0] in FORBIDDEN)
    assert not heavy, f"`effnas {' '.join(args)}` imported {heavy[:5]}"
    if "--json" in args:
        json.loads(process.stdout)


def test_graph_table_needs_no_networkx():
    """The default `arch graph` table is the nodes alone; networkx is for GraphML and --json."""
    process, modules = imported_modules(["arch", "graph", "efficientnet-b0"])
    assert process.returncode == 0 and "layer15" in process.stdout
    assert "networkx" not in modules


def test_importing_the_packages_imports_no_torch():
    code = ("import sys, search_spaces, scaling, detectors; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'ray')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", [f"d{i}" for i in range(8)])
def test_closed_form_detector_cost_equals_torch_count(name):
    assert detector_cost(name, breakdown=True) == counted_detector_cost(name)


@pytest.mark.parametrize("overrides", [{}, {"topology": "fpn", "num_classes": 7}, {"topology": "panet",
                                                                                  "fusion": "attn"}])
def test_closed_form_detector_cost_on_family_member(overrides):
    member = make_family("efficientnet-b0", phis=[1.5])[0]
    assert detector_cost(2, backbone=member.arch, breakdown=True, **overrides) == counted_detector_cost(
        2, backbone=member.arch, **overrides)


def test_closed_form_detector_cost_other_backbone_and_resolution():
    assert detector_cost("d0", resolution=256, backbone="mnasnet-a1", breakdown=True) == counted_detector_cost(
        "d0", resolution=256, backbone="mnasnet-a1")


HUGE = ["cn_r1_k3_s22_e1_i32_o16", "cn_r1_k3_s22_e1_i16_o24", "cn_r1_k3_s22_e1_i24_o40", "cn_r1_k3_s22_e1_i40_o16000",
        "cn_r3_k3_s11_e1_i16000_o16000"]  # 6.9G parameters: above MAX_BUILD_PARAMS


@pytest.mark.parametrize(("case", "refused"), [
    ({"resolution": 500, "pad": True}, False),              # padded up to 512, as the model pads its input
    ({"resolution": 500}, True),                            # not a multiple of 128
    ({"topology": "fpn", "max_level": 5}, True),            # the P5 output is the raw 320-channel map
    ({"topology": "fpn", "max_level": 5, "fpn_filters": 320}, False),
    ({"topology": "panet", "max_level": 9}, False),
    ({"backbone": "huge"}, True),                           # above MAX_BUILD_PARAMS, as build_model refuses
], ids=str)
def test_closed_form_detector_cost_refuses_and_pads_as_the_built_model(case, refused):
    case = {**case, "backbone": load_arch(HUGE)} if case.get("backbone") == "huge" else case

    def outcome(count):
        try:
            return count()
        except InputError as error:
            return f"InputError: {error}"

    closed = outcome(lambda: detector_cost("d0", breakdown=True, **case))
    assert closed == outcome(lambda: counted_detector_cost("d0", **case))
    assert isinstance(closed, str) == refused
