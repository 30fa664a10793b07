"""Feature-network graphs: official node lists, validation, graph-wired cells, fusion weights."""

import pytest
import torch

from detectors.bifpn import FeatureCell, FeatureNetwork
from detectors.fusion import Fusion
from detectors.topology import Topology, bifpn_nodes, fpn_nodes, panet_nodes
from search_spaces import InputError

# docs/PAPER_FACTS.md, "BiFPN nodes": 6:[3,4] 5:[2,5] 4:[1,6] 3:[0,7] 4:[1,7,8] 5:[2,6,9] 6:[3,5,10] 7:[4,11]
OFFICIAL = [(6, [3, 4]), (5, [2, 5]), (4, [1, 6]), (3, [0, 7]), (4, [1, 7, 8]), (5, [2, 6, 9]), (6, [3, 5, 10]),
            (7, [4, 11])]


def test_bifpn_node_list_is_official():
    assert bifpn_nodes(3, 7) == OFFICIAL
    topology = Topology.named("bifpn")
    assert topology.outputs == {3: 8, 4: 9, 5: 10, 6: 11, 7: 12}
    assert topology.order() == list(range(5, 13))


def test_p3_p8_and_other_topologies_validate():
    d7x = Topology.named("bifpn", 3, 8)
    assert len(d7x.nodes) == 10 and d7x.outputs[8] == 15
    fpn = Topology.named("fpn")
    assert fpn.outputs[7] == 4 and fpn.outputs[3] == 8
    panet = Topology.named("panet")
    assert len(panet.nodes) == 8 and panet_nodes()[4] == (4, [7, 8])
    assert fpn_nodes() == OFFICIAL[:4]


def test_cycle_is_rejected():
    nodes = [(6, [3, 6]), (5, [2, 5])] + OFFICIAL[2:]   # node 5 reads node 6, node 6 reads node 5
    with pytest.raises(InputError, match="cycle"):
        Topology(tuple(nodes))
    with pytest.raises(InputError, match="cycle"):
        Topology(((6, [3, 5]),) + tuple(OFFICIAL[1:]))   # node 5 reads itself


def test_missing_input_is_rejected():
    nodes = list(OFFICIAL)
    nodes[3] = (3, [0, 99])
    with pytest.raises(InputError, match="missing input 99"):
        Topology(tuple(nodes))


def test_unreachable_level_is_rejected():
    nodes = list(OFFICIAL)
    nodes[3] = (3, [0])             # P3 output no longer sees the top-down path
    nodes[4] = (4, [1, 8])
    with pytest.raises(InputError, match="P3 .* unreachable"):
        Topology(tuple(nodes))
    with pytest.raises(InputError, match="outside P3..P7"):
        Topology(tuple(OFFICIAL + [(9, [4])]))


def test_dead_node_and_empty_inputs_are_rejected():
    nodes = list(OFFICIAL)
    nodes.insert(0, (5, [2, 3]))    # a P5 node nobody reads, not the last at its level
    nodes = [(level, [i + 1 if i >= 5 else i for i in inputs]) for level, inputs in nodes]
    nodes[0] = (5, [2, 3])
    with pytest.raises(InputError, match="feed no output"):
        Topology(tuple(nodes))
    with pytest.raises(InputError, match="no inputs"):
        Topology(((6, []),) + tuple(OFFICIAL[1:]))


def test_cell_is_wired_from_the_graph():
    topology = Topology.named("bifpn")
    cell = FeatureCell(topology, [40, 112, 320, 64, 64], 64, "fastattn")
    assert [int(k) for k in cell.fuse] == topology.order()
    # 1x1 projections exactly where a backbone map feeds a node: C5 twice, C4 twice, C3 once
    projections = sum(r.project is not None for group in cell.resample.values() for r in group)
    assert projections == 5
    maps = [torch.randn(1, c, 32 // 2 ** i, 32 // 2 ** i) for i, c in enumerate([40, 112, 320, 64, 64])]
    out = cell(maps)
    assert [tuple(o.shape) for o in out] == [(1, 64, 32 // 2 ** i, 32 // 2 ** i) for i in range(5)]
    network = FeatureNetwork(Topology.named("panet"), [40, 112, 320], 32, 2, "sum")
    out = network(maps[:3])
    assert [o.shape[-1] for o in out] == [32, 16, 8, 4, 2] and out[0].shape[1] == 32


def test_fused_weights_are_normalised():
    fusion = Fusion(3, "fastattn")
    weights = fusion.normalised_weights()
    assert torch.allclose(weights.sum(), torch.tensor(1.0), atol=1e-4)
    with torch.no_grad():
        fusion.weight.copy_(torch.tensor([2.0, -1.0, 0.5]))
    weights = fusion.normalised_weights()
    assert weights[1] == 0 and torch.all(weights >= 0)
    assert torch.allclose(weights, torch.tensor([2.0, 0.0, 0.5]) / (2.5 + 1e-4))
    x = [torch.full((1, 1, 2, 2), v) for v in (1.0, 5.0, 3.0)]
    assert torch.allclose(fusion(x), (2 * 1 + 3 * 0.5) / (2.5 + 1e-4) * torch.ones(1, 1, 2, 2))
    attn = Fusion(3, "attn")
    assert torch.allclose(attn.normalised_weights().sum(), torch.tensor(1.0))
    plain = Fusion(3, "sum")
    assert plain.normalised_weights() is None and list(plain.parameters()) == []
    assert torch.allclose(plain(x), torch.full((1, 1, 2, 2), 9.0))
    with pytest.raises(InputError, match="unknown fusion"):
        Fusion(2, "max")
