"""Bad inputs of issue 13: CLI options, JOB.toml semantics, misleading messages."""

CASES: list[tuple[str, list[str], str]] = [
    # (what, argv, a fragment the one-line answer must contain)
    ("search: unknown evaluator option", ["search", "--target", "400M", "--evaluator", "zero-cost", "--eval-opt",
                                         "frobnicate=1", "--trials", "1", "--out", "{tmp}/o1"], "frobnicate"),
    ("grid: unknown evaluator option", ["grid", "--base", "efficientnet-b0", "--evaluator", "zero-cost", "--config",
                                       "frobnicate=1", "--out", "{tmp}/o2"], "frobnicate"),
    ("search: --alpha without --reward user", ["search", "--target", "400M", "--alpha", "5", "--trials", "1",
                                               "--out", "{tmp}/o3"], "--reward user"),
    ("search: empty --data", ["search", "--target", "400M", "--evaluator", "proxy", "--data", "", "--trials", "1",
                              "--out", "{tmp}/o4"], "empty"),
    ("search: --data a symlink loop", ["search", "--target", "400M", "--evaluator", "proxy", "--data",
                                       "{tmp}/loop_a", "--trials", "1", "--out", "{tmp}/o5"], "symbolic link"),
    ("search: more CPUs per trial than any node", ["search", "--target", "400M", "--evaluator", "zero-cost",
                                                   "--trials", "1", "--runner", "ray", "--cpus-per-trial", "999",
                                                   "--out", "{tmp}/o6"], "--cpus-per-trial"),
    ("search: --band of 1 or more", ["search", "--target", "400M", "--evaluator", "zero-cost", "--band", "1.5",
                                     "--trials", "1", "--out", "{tmp}/o7"], "cost band"),
    ("search: --band no member reaches", ["search", "--target", "1M", "--evaluator", "zero-cost", "--band", "0.01",
                                          "--trials", "1", "--out", "{tmp}/o8"], "widen --band"),
    ("detector: --member with a preset backbone", ["detector", "show", "--phi", "0", "--backbone",
                                                   "efficientnet-b0", "--member", "0"], "drop --member"),
    ("run: [detectors] fpn unknown", ["run", "{tmp}/fpn.toml"], "nasfpn"),
    ("run: [detectors] members a word", ["run", "{tmp}/members_word.toml"], '"all"'),
    ("run: [detectors] member out of range", ["run", "{tmp}/members_range.toml"], "no member 3"),
    ("run: [job] max_concurrent negative", ["run", "{tmp}/max_concurrent.toml"], "max_concurrent"),
    ("run: [job] seed negative", ["run", "{tmp}/seed.toml"], "seed"),
    ("run: job file a symlink loop", ["run", "{tmp}/loop_a"], "symbolic link"),
    ("run: state.json a list", ["run", "{tmp}/state_list.toml"], "not an effnas run state"),
    ("run: state.json without its fingerprint", ["run", "{tmp}/state_nofp.toml"], "not an effnas run state"),
    ("run: state.json binary", ["run", "{tmp}/state_bin.toml"], "not UTF-8"),
    ("grid: config.json a list", ["grid", "--base", "efficientnet-b0", "--evaluator", "zero-cost", "--out",
                                  "{tmp}/grid_list"], "not a grid config"),
    ("search --resume: config.json binary", ["search", "--target", "400M", "--evaluator", "zero-cost", "--trials",
                                             "1", "--resume", "--out", "{tmp}/search_bin"], "not UTF-8"),
    ("space sample: negative seed", ["space", "sample", "--seed", "-1"], "--seed"),
    ("search: negative seed", ["search", "--target", "400M", "--seed", "-1", "--trials", "1", "--out", "{tmp}/o7"],
     "seed"),
    ("search: a trillion trials", ["search", "--target", "400M", "--trials", "1000000000000", "--out", "{tmp}/o8"],
     "trials"),
    ("search: Ray address whose host does not resolve", ["search", "--target", "400M", "--evaluator", "zero-cost",
                                                         "--trials", "1", "--runner", "ray", "--ray-address",
                                                         "no-such-host.invalid:6379", "--out", "{tmp}/ray1"],
     "does not resolve"),
    ("search: Ray address port out of range", ["search", "--target", "400M", "--evaluator", "zero-cost", "--trials",
                                               "1", "--runner", "ray", "--ray-address", "127.0.0.1:70000", "--out",
                                               "{tmp}/ray2"], "host:port"),
]

JOB = '[job]\nout = "{out}"\nrunner = "inline"\n{job}[family]\nbase = "efficientnet-b0"\nphis = [0, 1]\n'


def prepare(folder) -> None:
    """Write the files these cases refer to into `folder` (a pathlib.Path)."""
    import os

    for name, job, detectors in (("fpn", "", 'fpn = "nasfpn"'), ("members_word", "", 'members = "some"'),
                                 ("members_range", "", "members = [0, 3]"),
                                 ("max_concurrent", "max_concurrent = -3\n", ""), ("seed", "seed = -1\n", "")):
        text = JOB.format(out=folder / f"job-{name}", job=job) + (f"[detectors]\n{detectors}\n" if detectors else "")
        (folder / f"{name}.toml").write_text(text)
    (folder / "fpn.toml").write_bytes(b"\xef\xbb\xbf" + (folder / "fpn.toml").read_bytes())  # a BOM is accepted
    for name, state in (("state_list", b"[1, 2]"), ("state_nofp", b'{"schema": "effnas.run/1", "done": {}}'),
                        ("state_bin", bytes(range(128, 256)))):
        (folder / f"{name}.toml").write_text(JOB.format(out=folder / name, job=""))
        (folder / name).mkdir(exist_ok=True)
        (folder / name / "state.json").write_bytes(state)
    for name, data in (("grid_list", b"[1]"), ("search_bin", bytes(range(128, 256)))):
        (folder / name).mkdir(exist_ok=True)
        (folder / name / "config.json").write_bytes(data)
    if not os.path.lexists(folder / "loop_a"):
        os.symlink(folder / "loop_b", folder / "loop_a")
        os.symlink(folder / "loop_a", folder / "loop_b")
