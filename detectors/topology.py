"""Feature-network topologies (BiFPN, FPN, PANet) as validated networkx DiGraphs.

A topology is a node list in the official automl format: input nodes 0…L−1 are the backbone
levels P_min…P_max; each listed node k gets id L + k and is ``(level, [input ids])``. The graph
has an edge input → node for every input, nodes carry ``level`` and ``order`` (position in the
list; inputs have order −1). Validation on construction (EfficientDet §3, Fig. 2):

- every input id exists (missing input), the graph is acyclic (cycle), levels lie in
  [min_level, max_level] and every listed node has inputs;
- every level's output (its last node, or the input itself) is reachable from the top input
  P_max (top-down information reaches every level: an unreachable level is refused);
- every input and every node feeds some output (no dead features).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from search_spaces import InputError

if TYPE_CHECKING:  # networkx is imported where a graph is built: configs and costs stay light
    import networkx as nx

NodeSpec = tuple[int, Sequence[int]]


def bifpn_nodes(min_level: int = 3, max_level: int = 7) -> list[NodeSpec]:
    """Official BiFPN node list: a top-down path, then a bottom-up path with same-level skips."""
    levels = range(min_level, max_level + 1)
    ids = {level: [i] for i, level in enumerate(levels)}
    counter, nodes = len(ids), []
    for level in range(max_level - 1, min_level - 1, -1):
        nodes.append((level, [ids[level][-1], ids[level + 1][-1]]))
        ids[level].append(counter)
        counter += 1
    for level in range(min_level + 1, max_level + 1):
        nodes.append((level, [*ids[level], ids[level - 1][-1]]))
        ids[level].append(counter)
        counter += 1
    return nodes


def fpn_nodes(min_level: int = 3, max_level: int = 7) -> list[NodeSpec]:
    """FPN (Lin et al.): one top-down path; the top level passes through unchanged."""
    levels = range(min_level, max_level + 1)
    last = {level: i for i, level in enumerate(levels)}
    counter, nodes = len(last), []
    for level in range(max_level - 1, min_level - 1, -1):
        nodes.append((level, [last[level], last[level + 1]]))
        last[level] = counter
        counter += 1
    return nodes


def panet_nodes(min_level: int = 3, max_level: int = 7) -> list[NodeSpec]:
    """PANet (Liu et al.): top-down path, then a bottom-up path without same-level skips."""
    nodes = fpn_nodes(min_level, max_level)
    levels = range(min_level, max_level + 1)
    last = {level: i for i, level in enumerate(levels)}
    counter = len(last)
    for level, _ in nodes:
        last[level] = counter
        counter += 1
    for level in range(min_level + 1, max_level + 1):
        nodes.append((level, [last[level], last[level - 1]]))
        last[level] = counter
        counter += 1
    return nodes


TOPOLOGIES = {"bifpn": bifpn_nodes, "fpn": fpn_nodes, "panet": panet_nodes}


@dataclass(frozen=True)
class Topology:
    """A validated feature network over levels P_min…P_max (see module docstring)."""

    nodes: tuple[tuple[int, tuple[int, ...]], ...]
    min_level: int = 3
    max_level: int = 7
    name: str = "custom"

    def __post_init__(self) -> None:
        nodes = tuple((int(level), tuple(int(i) for i in inputs)) for level, inputs in self.nodes)
        object.__setattr__(self, "nodes", nodes)
        validate(self.graph, self.min_level, self.max_level)

    @classmethod
    def named(cls, name: str, min_level: int = 3, max_level: int = 7) -> Topology:
        if name not in TOPOLOGIES:
            raise InputError(f"unknown feature network {name!r}; known: {', '.join(TOPOLOGIES)}")
        return cls(tuple(TOPOLOGIES[name](min_level, max_level)), min_level, max_level, name)

    @property
    def levels(self) -> range:
        return range(self.min_level, self.max_level + 1)

    @property
    def num_inputs(self) -> int:
        return len(self.levels)

    @cached_property
    def graph(self) -> nx.DiGraph:
        return build_graph(self.nodes, self.min_level, self.max_level)

    @cached_property
    def outputs(self) -> dict[int, int]:
        """level → id of the node that is that level's output (its last node)."""
        return output_ids(self.graph, self.min_level, self.max_level)

    def order(self) -> list[int]:
        """Ids of the listed nodes in a topological order (ties broken by list position)."""
        import networkx as nx

        key = lambda n: self.graph.nodes[n]["order"]  # noqa: E731
        return [n for n in nx.lexicographical_topological_sort(self.graph, key=key)
                if self.graph.nodes[n]["order"] >= 0]


def build_graph(nodes: Iterable[tuple[int, Sequence[int]]], min_level: int, max_level: int) -> nx.DiGraph:
    """DiGraph of inputs and nodes, edges input → consumer with ``slot`` (position among inputs)."""
    if not (isinstance(min_level, int) and isinstance(max_level, int) and 1 <= min_level < max_level <= 12):
        raise InputError(f"feature levels must satisfy 1 <= min_level < max_level <= 12, got {min_level}..{max_level}")
    import networkx as nx

    graph = nx.DiGraph()
    for index, level in enumerate(range(min_level, max_level + 1)):
        graph.add_node(index, level=level, order=-1)
    first = max_level - min_level + 1
    nodes = list(nodes)
    for k, (level, _) in enumerate(nodes):
        graph.add_node(first + k, level=level, order=k)
    for k, (level, inputs) in enumerate(nodes):
        node = first + k
        if not min_level <= level <= max_level:
            raise InputError(f"node {node} is at level P{level}, outside P{min_level}..P{max_level}")
        if not inputs:
            raise InputError(f"node {node} (P{level}) has no inputs")
        for slot, source in enumerate(inputs):
            if source not in graph:
                raise InputError(f"node {node} (P{level}) reads missing input {source}")
            if source == node:
                raise InputError(f"node {node} (P{level}) reads itself: cycle")
            graph.add_edge(source, node, slot=slot)
    return graph


def output_ids(graph: nx.DiGraph, min_level: int, max_level: int) -> dict[int, int]:
    last: dict[int, int] = {}
    for node, data in sorted(graph.nodes(data=True), key=lambda item: item[1]["order"]):
        last[data["level"]] = node
    return {level: last[level] for level in range(min_level, max_level + 1)}


def validate(graph: nx.DiGraph, min_level: int, max_level: int) -> None:
    """Raise InputError for a cycle, an unreachable output level or a dead input/node."""
    import networkx as nx

    if not nx.is_directed_acyclic_graph(graph):
        cycle = nx.find_cycle(graph)
        raise InputError(f"feature network has a cycle: {' -> '.join(str(u) for u, _ in cycle)} -> {cycle[0][0]}")
    outputs = output_ids(graph, min_level, max_level)
    top = max_level - min_level
    reach = nx.descendants(graph, top) | {top}
    for level, node in outputs.items():
        if node not in reach:
            raise InputError(f"output level P{level} (node {node}) is unreachable from the top input P{max_level}")
    live = set(outputs.values())
    for node in outputs.values():
        live |= nx.ancestors(graph, node)
    dead = sorted(set(graph) - live)
    if dead:
        raise InputError(f"feature network nodes {dead} feed no output level")
