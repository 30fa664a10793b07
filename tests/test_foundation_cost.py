"""Analytic cost model against the official counts, the built module and an independent counter."""

import networkx as nx
import numpy as np
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from search_spaces import MnasNetSpace, load_arch

OFFICIAL_PARAMS = {  # REFERENCE.md, official implementation
    "efficientnet-b0": 5_288_548, "efficientnet-b1": 7_794_184, "efficientnet-b2": 9_109_994,
    "efficientnet-b3": 12_233_232, "efficientnet-b4": 19_341_616, "efficientnet-b5": 30_389_784,
    "efficientnet-b6": 43_040_704, "efficientnet-b7": 66_347_960,
}
PAPER_MACS = {"efficientnet-b0": 0.39e9, "efficientnet-b1": 0.70e9, "efficientnet-b2": 1.0e9,
              "efficientnet-b3": 1.8e9, "efficientnet-b4": 4.2e9, "efficientnet-b5": 9.9e9,
              "efficientnet-b6": 19e9, "efficientnet-b7": 37e9}


@pytest.mark.parametrize("name", OFFICIAL_PARAMS)
def test_official_param_counts_exact(name):
    assert load_arch(name).cost().params == OFFICIAL_PARAMS[name]


@pytest.mark.parametrize("name", PAPER_MACS)
def test_macs_near_paper(name):
    # the paper rounds, and B4/B5 differ most (REFERENCE.md); 5% is the expectation, not a fit
    assert load_arch(name).cost().macs == pytest.approx(PAPER_MACS[name], rel=0.05)


def _counted_macs(model, resolution):
    model.eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, 3, resolution, resolution))
    return counter.get_total_flops() / 2


def _members():
    space = MnasNetSpace()
    rng = np.random.default_rng(7)
    return [space.sample(rng) for _ in range(6)] + [load_arch("mnasnet-a1"), load_arch("efficientnet-b2")]


@pytest.mark.parametrize("arch", _members(), ids=lambda a: a.name)
def test_params_exact_and_macs_match_counter(arch):
    model = arch.build()
    assert arch.cost().params == sum(p.numel() for p in model.parameters())
    for resolution in (64, 97):
        counted = _counted_macs(model, resolution)
        assert arch.cost(resolution).macs == pytest.approx(counted, rel=0.005)


def test_same_padding_costs_the_same():
    arch = load_arch("efficientnet-b0")
    assert _counted_macs(arch.build(padding="same"), 96) == pytest.approx(arch.cost(96).macs, rel=0.005)


def test_graph_nodes_sum_to_cost(tmp_path):
    arch = load_arch("mnasnet-a1")
    graph = arch.graph()
    assert nx.is_directed_acyclic_graph(graph)
    cost = arch.cost()
    assert sum(d["macs"] for _, d in graph.nodes(data=True)) == cost.macs
    assert sum(d["params"] for _, d in graph.nodes(data=True)) == cost.params
    nx.write_graphml(graph, tmp_path / "g.graphml")
    assert nx.read_graphml(tmp_path / "g.graphml").number_of_nodes() == graph.number_of_nodes()
