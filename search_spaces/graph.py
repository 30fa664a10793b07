"""networkx export: one node per layer with op, shapes, params and MACs (GraphML-safe attributes).

The nodes themselves are plain Python (:func:`graph_nodes`); networkx is imported only to build the
DiGraph, so a table of the nodes needs none."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .cost import classifier_cost, head_cost, layer_cost, stem_cost
from .geometry import layer_geometry, stem_output_size

if TYPE_CHECKING:
    import networkx as nx

    from .arch import Arch


def arch_graph(arch: Arch, resolution: int | None = None) -> nx.DiGraph:
    """A chain DiGraph stem → layer_0 … layer_n → head (where the arch has one) → classifier; node MACs
    sum to cost().macs."""
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
    params, macs = stem_cost(arch.in_channels, stem, size, arch.stem_kernel)
    k = arch.stem_kernel
    size = stem_output_size(res, arch.stem_pool)
    nodes: list[tuple[str, dict[str, Any]]] = [
        ("stem", {"op": f"conv{k}x{k}" + ("+maxpool" if arch.stem_pool else ""), "stride": arch.stem_stride,
                  "in_shape": f"{arch.in_channels}x{res}x{res}", "out_shape": f"{stem}x{size}x{size}",
                  "params": params, "macs": macs})]
    last = stem
    for geometry in layer_geometry(arch, res):
        layer, size, out = geometry.layer, geometry.in_size, geometry.out_size
        params, macs, _ = layer_cost(layer, size)
        node = {"op": layer.kind.node(layer), "kernel": layer.kernel, "stride": layer.stride,
                "se": float(layer.se_ratio), "skip": layer.skip, "in_shape": f"{layer.in_filters}x{size}x{size}",
                "out_shape": f"{layer.out_filters}x{out}x{out}", "params": params, "macs": macs}
        nodes.append((f"layer{geometry.index}", node))
        size, last = out, layer.out_filters
    head, classes, features = arch.head_channels, arch.num_classes, arch.classifier_features
    if head:
        params, macs = head_cost(last, head, size)
        nodes.append(("head", {"op": "conv1x1", "stride": 1, "in_shape": f"{last}x{size}x{size}",
                               "out_shape": f"{head}x{size}x{size}", "params": params, "macs": macs}))
    params, macs = classifier_cost(features, classes)
    nodes.append(("classifier", {"op": "linear", "stride": 1, "in_shape": f"{features}", "out_shape": f"{classes}",
                                 "params": params, "macs": macs}))
    return nodes
