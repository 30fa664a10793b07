"""`effnas data make|check`: detection data in COCO format — make the bundled mnist-detection folder
(real MNIST digits on 128-px canvases, nothing downloaded), or validate a COCO folder and count it."""

from __future__ import annotations

import argparse
import os

from search_spaces import InputError

from ..output import format_table, print_json

TASKS = ("mnist-detection",)


def register(commands: argparse._SubParsersAction) -> None:
    data = commands.add_parser("data", help="detection data in COCO format: make mnist-detection, check a folder")
    verbs = data.add_subparsers(dest="verb", metavar="VERB", parser_class=type(data))

    make = verbs.add_parser("make", help="write a bundled detection task as a COCO folder (reused when finished)")
    make.add_argument("task", choices=TASKS, help="mnist-detection: 1-4 real MNIST digits per 128x128 px canvas")
    make.add_argument("--out", required=True, metavar="DIR",
                      help="folder to write: annotations/instances_{train,val}.json, train/, val/, manifest.json")
    make.add_argument("--images", type=int, default=2000, metavar="N", help="train images (default 2000)")
    make.add_argument("--val-images", type=int, metavar="N", help="val images (default: a quarter of --images, "
                                                                  "at least 1)")
    make.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    make.add_argument("--max-iou", type=float, default=0.2, metavar="F",
                      help="the most two digits' boxes may overlap, as IoU (default 0.2; 0: never)")
    make.add_argument("--json", action="store_true", help="machine-readable output")
    make.set_defaults(handler=cmd_make)

    check = verbs.add_parser("check", help="validate a COCO folder (DIR/annotations/instances_SPLIT.json + "
                                           "DIR/SPLIT/) and print its counts")
    check.add_argument("folder", metavar="DIR", help="the COCO folder")
    check.add_argument("--split", action="append", metavar="NAME",
                       help="check only this split (repeatable; default every instances_*.json)")
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.set_defaults(handler=cmd_check)
    data.set_defaults(handler=lambda args: data.print_help() or 2)


def cmd_make(args: argparse.Namespace) -> int:
    from detectors.data.mnist_detection import MnistDetectionOptions, make_mnist_detection

    if not args.out:
        raise InputError("--out needs a folder")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise InputError(f"--out {args.out!r} is a file, not a folder")
    val_images = args.val_images if args.val_images is not None else max(1, args.images // 4)
    options = MnistDetectionOptions(images=args.images, val_images=val_images, seed=args.seed, max_iou=args.max_iou)
    made = make_mnist_detection(args.out, options)
    summary = made.summary()
    if args.json:
        print_json(summary)
        return 0
    opts = summary["options"]
    print(f"{args.task}: {'reused the finished folder' if made.reused else 'wrote'} {made.folder}")
    print(f"{opts['canvas']}x{opts['canvas']} px gray canvases, 1-{opts['max_digits']} MNIST digits each "
          f"(digit frames {opts['min_side']}-{opts['max_side']} px), 10 classes '0'..'9' (COCO ids 1..10), "
          f"seed {opts['seed']}\n")
    _print_counts(summary["splits"])
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from detectors.data.coco import coco_splits, open_coco

    folder = args.folder
    if not os.path.isdir(folder):
        raise InputError(f"COCO folder {folder!r} {'is not a folder' if os.path.exists(folder) else 'does not exist'}")
    splits = args.split or coco_splits(folder)
    if not splits:
        raise InputError(f"COCO folder {folder!r} has no annotations/instances_SPLIT.json")
    report = {}
    for split in splits:
        data = open_coco(folder, split)
        report[split] = {**data.counts(), "annotations": os.path.join(folder, "annotations", f"instances_{split}.json"),
                         "images_dir": os.fspath(data.image_dir)}
    if args.json:
        print_json({"folder": folder, "valid": True, "splits": report})
        return 0
    print(f"{folder}: valid COCO detection data\n")
    _print_counts(report)
    return 0


def _print_counts(splits: dict[str, dict]) -> None:
    rows = [[split, c["images"], c["boxes"], c["categories"], c["small"], c["medium"], c["large"], c["annotations"]]
            for split, c in splits.items()]
    print(format_table(["split", "images", "boxes", "classes", "small", "medium", "large", "annotations"], rows,
                       align="lrrrrrrl"))
