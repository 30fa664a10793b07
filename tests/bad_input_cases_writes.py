"""Bad inputs of issue 13: atomic writes, run folders, locks, resume integrity. Same format as bad_input_cases.py."""

SEARCH = ["search", "--target", "400M", "--strategy", "random", "--evaluator", "zero-cost", "--trials", "2",
          "--quiet"]

CASES: list[tuple[str, list[str], str]] = [
    # (what, argv, a fragment the one-line answer must contain)
    # -- the one writer: only regular files (a symlink is followed; see test_hostile_writes.py)
    ("arch graph -o a device", ["arch", "graph", "efficientnet-b0", "-o", "/dev/full"], "not a regular file"),
    ("arch graph -o a folder", ["arch", "graph", "efficientnet-b0", "-o", "{tmp}/a_folder"], "a folder"),
    ("arch export -o a folder", ["arch", "export", "efficientnet-b0", "-o", "{tmp}/folder.pt2"], "a folder"),
    ("arch export -o a link to a device", ["arch", "export", "efficientnet-b0", "-o", "{tmp}/full.pt2"],
     "character device"),
    ("detector export -o a folder", ["detector", "export", "d0", "-o", "{tmp}/folder.pt2"], "a folder"),
    ("family -o a device", ["family", "--base", "efficientnet-b0", "--phis", "0", "-o", "/dev/full"],
     "not a regular file"),
    # -- run folders: one check for search, grid and run
    ("search --out /", [*SEARCH, "--out", "/"], "filesystem root"),
    ("search --out a file", [*SEARCH, "--out", "{tmp}/a_file"], "not a folder"),
    ("search --out under a file", [*SEARCH, "--out", "{tmp}/a_file/run"], "not a folder"),
    ("search --out ''", [*SEARCH, "--out", ""], "empty"),
    ("grid --out /", ["grid", "--base", "efficientnet-b0", "--evaluator", "zero-cost", "--out", "/"],
     "filesystem root"),
    ("grid --out a file", ["grid", "--base", "efficientnet-b0", "--evaluator", "zero-cost", "--out", "{tmp}/a_file"],
     "not a folder"),
    ("run: [job] out = '/'", ["run", "{tmp}/out_root.toml"], "filesystem root"),
    ("run: [job] out = a file", ["run", "{tmp}/out_file.toml"], "not a folder"),
    ("run: [job] name escaping results/", ["run", "{tmp}/name_escapes.toml"], "plain folder name"),
    ("run: [job] name with a slash", ["run", "{tmp}/name_slash.toml"], "plain folder name"),
    ("run --out /", ["run", "{tmp}/family_only.toml", "--out", "/"], "filesystem root"),
    # -- everything validated before the first write (test_hostile_writes.py checks no folder is left)
    ("search: corrupt image in --data", ["search", "--target", "400M", "--strategy", "random", "--evaluator",
                                         "proxy", "--data", "{tmp}/corrupt_images", "--trials", "1", "--quiet",
                                         "--out", "{tmp}/w1"], "cannot decode image"),
    ("grid: corrupt image in the data", ["grid", "--base", "efficientnet-b0", "--evaluator", "zero-cost", "--config",
                                         "dataset={tmp}/corrupt_images", "--out", "{tmp}/w2"], "cannot decode image"),
    ("grid: unreachable Ray address", ["grid", "--base", "efficientnet-b0", "--evaluator", "zero-cost", "--runner",
                                       "ray", "--ray-address", "127.0.0.1:1", "--out", "{tmp}/w3"], "127.0.0.1:1"),
    ("run: corrupt image in [search] data", ["run", "{tmp}/corrupt_data.toml"], "cannot decode image"),
    ("run: unreachable [job] ray_address", ["run", "{tmp}/ray_down.toml"], "127.0.0.1:1"),
    # -- locks: a folder held by a live effnas run
    ("search on a folder in use", [*SEARCH, "--out", "{tmp}/locked"], "in use"),
    ("run on a folder in use", ["run", "{tmp}/family_only.toml", "--out", "{tmp}/locked"], "in use"),
    ("run: the lock file is a folder", ["run", "{tmp}/family_only.toml", "--out", "{tmp}/lock_is_folder"],
     "is a folder"),
    # -- resume integrity
    ("search --resume: a trial id twice in the ledger", ["search", "--resume", "--quiet", "--out", "{tmp}/twice"],
     "recorded twice"),
    ("search --resume: a tampered strategy.pt", ["search", "--resume", "--quiet", "--out", "{tmp}/tampered"],
     "not a valid strategy state"),
]


def _job(out: str, extra: str = "", name: str | None = None) -> str:
    head = "[job]\n" + (f"name = {name!r}\n" if name is not None else "") + (f"out = {out!r}\n" if out else "")
    return head + 'runner = "inline"\n' + (extra or "[family]\nbase = 'efficientnet-b0'\nphis = [0]\n")


def _images(folder) -> None:
    """An ImageFolder with two classes whose last image is not an image."""
    from PIL import Image

    for label, colour in (("a", (0, 0, 0)), ("b", (250, 0, 0))):
        (folder / label).mkdir(parents=True, exist_ok=True)
        for index in range(3):
            Image.new("RGB", (8, 8), colour).save(folder / label / f"{index}.png")
    (folder / "b" / "3.png").write_bytes(b"this is not a PNG")


def _search_run(folder, rows: list[dict]) -> None:
    """A search run folder as `SEARCH` would leave it, holding `rows` in trials.jsonl."""
    import json

    from nas.search import resolve_config

    folder.mkdir(parents=True, exist_ok=True)
    config = resolve_config(None, target=400_000_000, strategy="random", evaluator="zero-cost", trials=2)
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "trials.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))


def prepare(folder) -> None:
    """Write the files these cases refer to into `folder` (a pathlib.Path)."""
    import argparse
    import json
    import os
    import socket

    import torch

    from effnas.lock import process_start
    from search_spaces import load_arch

    (folder / "a_folder").mkdir(exist_ok=True)
    (folder / "folder.pt2").mkdir(exist_ok=True)
    (folder / "a_file").write_text("not a folder\n")
    if not (folder / "full.pt2").is_symlink():
        (folder / "full.pt2").symlink_to("/dev/full")
    _images(folder / "corrupt_images")
    (folder / "out_root.toml").write_text(_job("/"))
    (folder / "out_file.toml").write_text(_job(str(folder / "a_file")))
    (folder / "name_escapes.toml").write_text(_job("", name="../../escaped"))
    (folder / "name_slash.toml").write_text(_job("", name="a/b"))
    (folder / "family_only.toml").write_text(_job(str(folder / "family_only")))
    search = "[search]\ntarget = '400M'\nstrategy = 'random'\nevaluator = '{evaluator}'\ntrials = 1\n{data}"
    (folder / "corrupt_data.toml").write_text(_job(str(folder / "w4"), search.format(
        evaluator="proxy", data=f"data = {str(folder / 'corrupt_images')!r}\n")))
    (folder / "ray_down.toml").write_text(_job(str(folder / "w5"), search.format(evaluator="zero-cost", data=""))
                                          .replace('runner = "inline"', 'runner = "ray"\nray_address = "127.0.0.1:1"'))
    locked = folder / "locked"
    locked.mkdir(exist_ok=True)  # held by this (live) process: its pid and start time
    (locked / ".lock").write_text(json.dumps({"marker": "effnas", "pid": os.getpid(), "host": socket.gethostname(),
                                              "start": process_start(os.getpid())}))
    (folder / "lock_is_folder" / ".lock").mkdir(parents=True, exist_ok=True)
    arch = load_arch("efficientnet-b0").to_dict()
    row = {"trial": "t00000", "arch": arch, "params": 1, "macs": 1, "metric": 1.0, "reward": 1.0}
    _search_run(folder / "twice", [row, {**row, "trial": "t00001"}, row])
    _search_run(folder / "tampered", [row])
    torch.save({"strategy": argparse.Namespace(evil=True), "keys": ["t00000"]}, folder / "tampered" / "strategy.pt")
