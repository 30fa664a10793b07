"""networkx export: one node per layer with op, shapes, params and MACs (GraphML-safe attributes)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import networkx as nx

from .cost import layer_cost

if TYPE_CHECKING:
    from .arch import Arch


def arch_graph(arch: Arch, resolution: int | None = None) -> nx.DiGraph:
    """A chain DiGraph stem → layer_0 … layer_n → head → classifier; node MACs sum to cost().macs."""
    graph = nx.DiGraph(name=arch.name, resolution=resolution or arch.resolution)
    res = resolution or arch.resolution
    size = -(-res // 2)
    stem = arch.stem_channels
    graph.add_node("stem", op="conv3x3", stride=2, in_shape=f"{arch.in_channels}x{res}x{res}",
                   out_shape=f"{stem}x{size}x{size}", params=9 * arch.in_channels * stem + 2 * stem,
                   macs=size * size * 9 * arch.in_channels * stem)
    previous = "stem"
    for index, layer in enumerate(arch.layers()):
        params, macs, out = layer_cost(layer, size)
        op = "conv" if layer.op == "conv" else ("dsconv" if layer.expand_ratio == 1 else f"mbconv{layer.expand_ratio}")
        node = f"layer{index}"
        graph.add_node(node, op=op, kernel=layer.kernel, stride=layer.stride, se=float(layer.se_ratio),
                       skip=layer.skip, in_shape=f"{layer.in_filters}x{size}x{size}",
                       out_shape=f"{layer.out_filters}x{out}x{out}", params=params, macs=macs)
        graph.add_edge(previous, node)
        previous, size = node, out
    last, head, classes = arch.stages[-1].out_filters, arch.head_channels, arch.num_classes
    graph.add_node("head", op="conv1x1", stride=1, in_shape=f"{last}x{size}x{size}",
                   out_shape=f"{head}x{size}x{size}", params=last * head + 2 * head,
                   macs=size * size * last * head)
    graph.add_node("classifier", op="linear", stride=1, in_shape=f"{head}", out_shape=f"{classes}",
                   params=head * classes + classes, macs=head * classes)
    graph.add_edge(previous, "head")
    graph.add_edge("head", "classifier")
    return graph
