"""networkx export: one node per layer with op, shapes, params and MACs (GraphML-safe attributes).

The nodes themselves are plain Python (:func:`graph_nodes`); networkx is imported only to build the
DiGraph, so a table of the nodes needs none."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .cost import classifier_cost, head_cost, layer_cost, stem_cost
from .geometry import STEM_KERNEL, STEM_STRIDE, layer_geometry, stem_output_size

if TYPE_CHECKING:
    import networkx as nx

    from .arch import Arch


def arch_graph(arch: Arch, resolution: int | None = None) -> nx.DiGraph:
    """A chain DiGraph stem → layer_0 … layer_n → head → classifier; node MACs sum to cost().macs."""
    import networkx as nx

    graph = nx.DiGraph(name=arch.name, resolution=resolution or arch.resolution)
    nodes = graph_nodes(arch, resolution)
    graph.add_nodes_from(nodes)
    nx.add_path(graph, [name for name, _ in nodes])
    return graph


def graph_nodes(arch: Arch, resolution: int | None = None) -> list[tuple[str, dict[str, Any]]]:
    """The chain's nodes in order as (name, attributes): stem, layer0 … layerN, head, classifier."""
    res = resolution or arch.resolution
    size = stem_output_size(res)
    stem = arch.stem_channels
    params, macs = stem_cost(arch.in_channels, stem, size)
    nodes: list[tuple[str, dict[str, Any]]] = [
        ("stem", {"op": f"conv{STEM_KERNEL}x{STEM_KERNEL}", "stride": STEM_STRIDE,
                  "in_shape": f"{arch.in_channels}x{res}x{res}", "out_shape": f"{stem}x{size}x{size}",
                  "params": params, "macs": macs})]
    last = stem
    for geometry in layer_geometry(arch, res):
        layer, size, out = geometry.layer, geometry.in_size, geometry.out_size
        params, macs, _ = layer_cost(layer, size)
        op = "conv" if layer.op == "conv" else ("dsconv" if layer.expand_ratio == 1 else f"mbconv{layer.expand_ratio}")
        nodes.append((f"layer{geometry.index}", {"op": op, "kernel": layer.kernel, "stride": layer.stride,
                                                 "se": float(layer.se_ratio), "skip": layer.skip,
                                                 "in_shape": f"{layer.in_filters}x{size}x{size}",
                                                 "out_shape": f"{layer.out_filters}x{out}x{out}", "params": params,
                                                 "macs": macs}))
        size, last = out, layer.out_filters
    head, classes = arch.head_channels, arch.num_classes
    params, macs = head_cost(last, head, size)
    nodes.append(("head", {"op": "conv1x1", "stride": 1, "in_shape": f"{last}x{size}x{size}",
                           "out_shape": f"{head}x{size}x{size}", "params": params, "macs": macs}))
    params, macs = classifier_cost(head, classes)
    nodes.append(("classifier", {"op": "linear", "stride": 1, "in_shape": f"{head}", "out_shape": f"{classes}",
                                 "params": params, "macs": macs}))
    return nodes
