"""`effnas arch show|export|graph`: inspect, export and graph one architecture."""

from __future__ import annotations

import argparse

from search_spaces.atomic import write_text_atomic
from search_spaces.cost import stage_cost
from search_spaces.geometry import stage_geometry
from search_spaces.graph import graph_nodes
from search_spaces.units import format_size

from ..archsource import resolve_arch
from ..export import add_export_args, check_export_args, describe_export, prepare_model, write_model
from ..output import check_output_file, format_table, print_json


def register(commands: argparse._SubParsersAction) -> None:
    arch = commands.add_parser("arch", help="inspect, export or graph an architecture")
    verbs = arch.add_subparsers(dest="verb", metavar="VERB", parser_class=type(arch))

    show = verbs.add_parser("show", help="blocks, params and MACs of NAME, FILE or block strings")
    _source_args(show)
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(handler=cmd_show)

    export = verbs.add_parser("export", help="export the classifier to .pt2 (torch.export) or .onnx (torch.onnx)")
    _source_args(export)
    add_export_args(export, "the classifier's state_dict (efficientnet_pytorch key names accepted; torchvision's for "
                                    "ResNet and EfficientNetV2)")
    export.add_argument("--padding", choices=("symmetric", "same"), default="symmetric",
                        help="symmetric k//2 padding, or TensorFlow's 'same' (for TF-trained weights)")
    export.set_defaults(handler=cmd_export)

    graph = verbs.add_parser("graph", help="layer graph (networkx) as GraphML or JSON")
    _source_args(graph)
    graph.add_argument("-o", "--output", help="write GraphML here (default: print a summary)")
    graph.add_argument("--json", action="store_true", help="node-link JSON on stdout")
    graph.set_defaults(handler=cmd_graph)
    arch.set_defaults(handler=lambda args: arch.print_help() or 2)


def _source_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", nargs="+", metavar="NAME|FILE|BLOCKS",
                        help="preset name, arch JSON file, block strings, or a search run's best.json / folder")
    parser.add_argument("--width", type=float, help="width multiplier (overrides the arch's)")
    parser.add_argument("--depth", type=float, help="depth multiplier (overrides the arch's)")
    parser.add_argument("--resolution", type=int, help="input resolution in pixels")


def resolve(args: argparse.Namespace):
    arch = resolve_arch(args.source)
    if any(getattr(args, k) is not None for k in ("width", "depth", "resolution")):
        arch = arch.scaled(args.width, args.depth, args.resolution)
    return arch


def describe(arch) -> dict:
    cost = arch.cost()
    return {"name": arch.name, "params": cost.params, "macs": cost.macs, "resolution": arch.resolution,
            "width": arch.width, "depth": arch.depth, "blocks": arch.block_strings(),
            "stages": [s.to_string() for s in arch.stages], "layers": arch.num_layers,
            "stem_filters": arch.stem_channels, "head_filters": arch.head_channels,
            "activation": arch.activation, "dropout": arch.dropout, "drop_connect": arch.drop_connect,
            "arch": arch.to_dict()}


def cmd_show(args: argparse.Namespace) -> int:
    arch = resolve(args)
    info = describe(arch)
    if args.json:
        print_json(info)
        return 0
    print(f"{arch.name}: width {arch.width:g}, depth {arch.depth:g}, resolution {arch.resolution}, "
          f"{info['layers']} layers")
    print(f"params {info['params']:,} ({format_size(info['params'])}), "
          f"MACs {info['macs']:,} ({format_size(info['macs'])})\n")
    rows = []
    for geometry in stage_geometry(arch):
        params, macs, out = stage_cost(geometry.stage, geometry.in_size)
        rows.append([geometry.index + 1, geometry.stage.to_string(), f"{out}x{out}", params, format_size(macs)])
    print(format_table(["stage", "block (scaled)", "output", "params", "MACs"], rows, align="rlrrr"))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    import torch

    arch = resolve(args)
    check_export_args(args)
    model = prepare_model(lambda: arch.build(padding="same" if args.padding == "same" else None), args)
    example = torch.randn(1, arch.in_channels, arch.resolution, arch.resolution)
    record = write_model(model, example, args.output, "images", ["logits"], check=args.check)
    cost = arch.cost()
    batch = "N" if record["format"] == "onnx" else "1"
    print(f"exported {arch.name} ({cost.params:,} params, {format_size(cost.macs)} MACs, input "
          f"{batch}x{arch.in_channels}x{arch.resolution}x{arch.resolution}) to {args.output}")
    print(f"  {describe_export(record)}")
    return 0


def cmd_graph(args: argparse.Namespace) -> int:
    arch = resolve(args)
    if not args.output and not args.json:  # the table: the nodes alone, no networkx (an analytic answer)
        rows = [[n, d["op"], d["in_shape"], d["out_shape"], d["params"], d["macs"]] for n, d in graph_nodes(arch)]
        print(format_table(["node", "op", "in", "out", "params", "MACs"], rows, align="llllrr"))
        return 0
    import networkx as nx

    if args.output:
        check_output_file(args.output)
    graph = arch.graph()
    if args.output:
        text = "\n".join(nx.generate_graphml(graph))
        write_text_atomic(args.output, text + "\n")
        print(f"wrote {graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges to {args.output}")
    else:
        print_json(nx.node_link_data(graph, edges="edges"))
    return 0
