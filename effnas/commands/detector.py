"""`effnas detector show|export`: EfficientDet D0–D7x, any φ, or a φ on a family member's backbone."""

from __future__ import annotations

import argparse
import os

from search_spaces import InputError
from search_spaces.bounds import MAX_CLASSES, MAX_PHI, MAX_RESOLUTION, check_int
from search_spaces.units import format_size

from ..archsource import looks_like_family
from ..export import add_export_args, check_export_args, describe_export, prepare_model, write_model
from ..output import format_table, print_json


def register(commands: argparse._SubParsersAction) -> None:
    detector = commands.add_parser("detector", help="EfficientDet detectors built on a backbone or family member")
    verbs = detector.add_subparsers(dest="verb", metavar="VERB", parser_class=type(detector))

    show = verbs.add_parser("show", help="config, params and MACs of a detector")
    _spec_args(show)
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(handler=cmd_show)

    export = verbs.add_parser("export", help="export the detector (eval mode) to .pt2 (torch.export) or .onnx "
                                             "(torch.onnx)")
    _spec_args(export)
    add_export_args(export, "the detector's state_dict (as model.state_dict() names it)")
    export.set_defaults(handler=cmd_export)
    detector.set_defaults(handler=lambda args: detector.print_help() or 2)


def _spec_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", help="d0 … d7x")
    parser.add_argument("--phi", type=float, help="compound coefficient φ >= 0 (formula config)")
    parser.add_argument("--backbone", help="family.json (with --member), arch JSON file or preset name")
    parser.add_argument("--member", type=int, help="member index (0-based) of the --backbone family file")
    parser.add_argument("--resolution", type=int, help="input size in pixels (default: the config's)")
    parser.add_argument("--num-classes", type=int, default=90, help="object classes (default 90, COCO)")


def resolve(args: argparse.Namespace):
    """(spec, backbone, overrides) from the arguments; bad combinations raise InputError."""
    from detectors.configs import get_config
    from detectors.family import family_member

    if (args.name is None) == (args.phi is None):
        raise InputError("give either a detector NAME (d0…d7x) or --phi P")
    if args.phi is not None and not args.phi >= 0:
        raise InputError(f"--phi must be >= 0, got {args.phi:g}")
    spec = args.name if args.name is not None else args.phi
    if args.phi is not None and float(args.phi).is_integer() and args.phi <= MAX_PHI:
        spec = int(args.phi)
    config = get_config(spec)
    backbone = None
    if args.member is not None and args.backbone is None:
        raise InputError("--member needs --backbone FAMILY.json")
    if args.backbone is not None:
        if args.member is not None:
            if not os.path.exists(args.backbone):
                raise InputError(f"--member needs --backbone FAMILY.json; {args.backbone!r} is not a file "
                                 "(for a preset or arch file, drop --member)")
            backbone = family_member(args.backbone, args.member)
        elif looks_like_family(args.backbone):
            raise InputError("--backbone is a family file: choose a member with --member I")
        else:
            backbone = args.backbone
    overrides = {}
    if args.resolution is not None:
        if args.resolution < config.size_multiple or args.resolution % config.size_multiple:
            raise InputError(f"--resolution must be a positive multiple of {config.size_multiple}, "
                             f"got {args.resolution}")
        check_int(args.resolution, "--resolution", config.size_multiple, MAX_RESOLUTION)
        overrides["image_size"] = args.resolution
    check_int(args.num_classes, "--num-classes", 1, MAX_CLASSES)
    return config, backbone, overrides


def describe(args: argparse.Namespace) -> dict:
    from detectors.backbone import resolve_backbone
    from detectors.cost import detector_cost

    config, backbone, overrides = resolve(args)
    total, parts = detector_cost(config, backbone=backbone, breakdown=True, num_classes=args.num_classes,
                                 **overrides)
    config = config.with_(num_classes=args.num_classes, **overrides)
    arch = resolve_backbone(config.backbone if backbone is None else backbone)
    size = config.image_size
    anchors = sum((size // 2 ** level) ** 2 for level in range(config.min_level, config.max_level + 1))
    return {"name": config.name if backbone is None else f"{config.name}+{arch.name}",
            "params": total.params, "macs": total.macs, "resolution": size,
            "fpn_filters": config.fpn_filters, "fpn_repeats": config.fpn_repeats,
            "head_repeats": config.head_repeats, "backbone": arch.name, "phi": config.phi,
            "fusion": config.fusion, "topology": config.topology,
            "levels": [f"P{level}" for level in range(config.min_level, config.max_level + 1)],
            "anchor_scale": config.anchor_scale, "anchors": anchors * config.num_anchors,
            "num_classes": config.num_classes,
            "parts": {name: {"params": c.params, "macs": c.macs} for name, c in parts.items()},
            "backbone_arch": arch.to_dict()}


def cmd_show(args: argparse.Namespace) -> int:
    info = describe(args)
    if args.json:
        print_json(info)
        return 0
    print(f"{info['name']}: {info['resolution']}px, backbone {info['backbone']}, {info['topology']} "
          f"W={info['fpn_filters']} D={info['fpn_repeats']} ({info['fusion']}), heads D={info['head_repeats']}, "
          f"{info['levels'][0]}-{info['levels'][-1]}, {info['anchors']:,} anchors")
    print(f"params {info['params']:,} ({format_size(info['params'])}), "
          f"MACs {info['macs']:,} ({format_size(info['macs'])})\n")
    rows = [[name, c["params"], format_size(c["macs"])] for name, c in info["parts"].items()]
    print(format_table(["part", "params", "MACs"], rows, align="lrr"))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    import torch

    from detectors import efficientdet

    check_export_args(args)
    config, backbone, overrides = resolve(args)
    model = prepare_model(lambda: efficientdet(config, backbone=backbone, num_classes=args.num_classes, **overrides),
                          args)
    size = model.config.image_size
    example = torch.randn(1, model.backbone_arch.in_channels, size, size)
    levels = [f"p{level}" for level in range(model.config.min_level, model.config.max_level + 1)]
    outputs = [f"class_{level}" for level in levels] + [f"box_{level}" for level in levels]
    record = write_model(model, example, args.output, "images", outputs, check=args.check)
    params = sum(p.numel() for p in model.parameters())
    batch = "N" if record["format"] == "onnx" else "1"
    print(f"exported {model.config.name} ({params:,} params, input {batch}x3x{size}x{size}; outputs: class and box "
          f"maps for {len(levels)} levels) to {args.output}")
    print(f"  {describe_export(record)}")
    return 0
