"""`effnas train`: train an architecture (a preset, a run's best.json, a family member) on real images.

One engine (nas.training): the recipe (``--recipe efficientnet``, the default, or ``adam``, the
reference set's) with ``--opt key=value`` overrides; a run folder with config.json, metrics.jsonl,
checkpoint.pt (every epoch), model.pt, arch.json, train.png and TensorBoard events; ``--resume``
continues a killed run exactly; ``--runner ray --workers N`` trains with Ray Train (DDP). Every
argument is checked, and the data loaded, before anything is written.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from nas.runners.settings import DEFAULT_RUNNER, RUNNERS
from search_spaces import InputError
from search_spaces.bounds import check_int, check_seed
from search_spaces.units import format_size

from ..archsource import resolve_member
from ..options import parse_config
from ..output import format_duration, format_table, print_json

MAX_WORKERS = 1024


def register(commands: argparse._SubParsersAction) -> None:
    train = commands.add_parser("train", help="train an architecture or family member on real images")
    train.add_argument("source", nargs="+", metavar="ARCH",
                       help="preset name, block strings, arch JSON, a run's best.json (or folder), or family.json")
    train.add_argument("--member", type=int, help="member index (0-based) of a family.json")
    train.add_argument("--data", required=True,
                       help="mnist, mnist-cluttered, mnist-full, digits, an ImageFolder directory or CIFAR arrays")
    train.add_argument("--epochs", type=float, help="epochs (default 10)")
    train.add_argument("--batch", type=int, help="global batch size (default 64)")
    train.add_argument("--resolution", type=int, help="input pixels (default: 32 on bundled sets, else the arch's)")
    train.add_argument("--subset", type=int, help="training images (class-balanced sample; default all)")
    train.add_argument("--val-size", type=int, help="held-out images (default 2000)")
    train.add_argument("--val-data", help="a validation set of its own (ImageFolder, CIFAR or array file, classes "
                                          "named as the training data's), used whole instead of a held-out split")
    train.add_argument("--recipe", default=None, help="efficientnet (default) or adam (the reference set's)")
    train.add_argument("--opt", action="append", default=[], metavar="KEY=VALUE",
                       help="override one recipe option (repeatable), e.g. --opt lr=0.01 --opt augment=none")
    train.add_argument("--seed", type=int, help="weights, batch order, dropout and augmentation (default 0)")
    train.add_argument("--device", default=None, help="cpu (default), cuda[:n] or auto")
    train.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    train.add_argument("--out", required=True, help="run folder")
    train.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    train.add_argument("--runner", default=DEFAULT_RUNNER,
                       help="inline (default) or ray (Ray Train, DDP)")
    train.add_argument("--workers", type=int, default=1, help="Ray Train workers (with --runner ray)")
    train.add_argument("--ray-address", help="join a Ray cluster (host:port or auto) instead of a local Ray")
    train.add_argument("--json", action="store_true", help="print the final metrics row as JSON")
    train.add_argument("--quiet", action="store_true", help="no per-epoch progress line on stderr")
    train.set_defaults(handler=cmd_train)


def options_from(args: argparse.Namespace) -> dict[str, Any]:
    """The run options given on the command line (the others take TrainOptions' defaults)."""
    given = {"data": args.data, "epochs": args.epochs, "batch": args.batch, "resolution": args.resolution,
             "subset": args.subset, "val_size": args.val_size, "val_data": args.val_data, "seed": args.seed,
             "device": args.device,
             "threads": args.threads}
    options = {key: value for key, value in given.items() if value is not None}
    if args.seed is not None:
        options["seed"] = check_seed(args.seed, "--seed")
    for key, flag in (("subset", "--subset"), ("val_size", "--val-size"), ("batch", "--batch")):
        if key in options:
            check_int(options[key], flag, 1 if key != "batch" else 2, 1 << 31)
    return options


def check_args(args: argparse.Namespace) -> None:
    if args.runner not in RUNNERS:
        raise InputError(f"--runner must be one of {', '.join(RUNNERS)}, got {args.runner!r}")
    check_int(args.workers, "--workers", 1, MAX_WORKERS)
    if args.workers > 1 and args.runner != "ray":
        raise InputError("--workers above 1 needs --runner ray (Ray Train)")
    if args.ray_address and args.runner != "ray":
        raise InputError("--ray-address needs --runner ray")


def progress(total: float, quiet: bool):
    """The per-epoch progress line on stderr: loss, accuracy (EMA), images/s, ETA."""
    began = time.perf_counter()
    first: list[int] = []

    def show(row: dict[str, Any]) -> None:
        if quiet:
            return
        if not first:
            first.append(row["epoch"] - 1)
        done = row["epoch"] - first[0]
        left = max(0.0, total - row["epoch"])
        eta = (time.perf_counter() - began) / done * left if done else None
        ema = row.get("ema_val_accuracy")
        ema_text = f" (EMA {ema:.4f})" if ema is not None else ""
        print(f"[epoch {row['epoch']}/{total:g}] train loss {row['train_loss']:.4f} | val loss {row['val_loss']:.4f} "
              f"acc {row['val_accuracy']:.4f}{ema_text} | {row['images_per_s']:.0f} img/s | "
              f"ETA {format_duration(eta)}", file=sys.stderr, flush=True)

    return show


def cmd_train(args: argparse.Namespace) -> int:
    from nas.training.recipe import DEFAULT_RECIPE, get_recipe
    from nas.training.run import read_options

    from ..runfolder import open_run, run_folder

    check_args(args)
    arch, source = resolve_member(args.source, args.member)
    recipe_name = args.recipe or DEFAULT_RECIPE
    recipe = get_recipe(recipe_name, parse_config(args.opt, what="--opt"))
    options = read_options(options_from(args))
    source = {**source, "recipe_name": recipe_name}
    run_folder(args.out)  # (an output path that is a file: refused before the data is loaded)
    with open_run(args.out) as folder:
        show = progress(options["epochs"], args.quiet)
        if args.runner == "ray":
            from nas.training.ray_train import train_with_ray

            last = train_with_ray(arch, recipe, options, folder, resume=args.resume, source=source,
                                  workers=args.workers, address=args.ray_address, on_epoch=show)
        else:
            from nas.training.run import train_run

            last = train_run(arch, recipe, options, folder, resume=args.resume, source=source, on_epoch=show)
        from nas.training.run import read_metrics

        from ..plots import plot_run_curves

        plot_run_curves(folder, f"{arch.name or 'arch'} · {recipe_name} recipe · {options['data']}")
        rows = read_metrics(folder)
    if args.json:
        print_json(last)
    else:
        print(summary(arch, rows, folder, recipe_name))
    return 0


def summary(arch, rows: list[dict[str, Any]], folder, recipe: str) -> str:
    """The last epochs as a table, and where the files are."""
    cost = arch.cost()
    shown = rows[-5:]
    table = format_table(
        ["epoch", "train_loss", "val_loss", "val_acc", "ema_val_acc", "lr", "img/s"],
        [[r["epoch"], f"{r['train_loss']:.4f}", f"{r['val_loss']:.4f}", f"{r['val_accuracy']:.4f}",
          "-" if r.get("ema_val_accuracy") is None else f"{r['ema_val_accuracy']:.4f}", f"{r['lr']:.3g}",
          f"{r['images_per_s']:.0f}"] for r in shown])
    return (f"{arch.name or 'arch'} ({format_size(cost.macs)} MACs at {arch.resolution} px, "
            f"{format_size(cost.params)} params), {recipe} recipe: {len(rows)} epochs in {folder}\n{table}\n"
            f"weights: {folder / 'model.pt'} (arch: {folder / 'arch.json'}); curves: {folder / 'train.png'}")
