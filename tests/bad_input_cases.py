"""Every bad input tried across the CLI and JOB.toml, with what the answer must say.

Shared by tests/test_engine_bad_input.py (asserts exit 2, one line, no traceback) and
docs/make_bad_input_table.py (writes docs/BAD_INPUT.md with the real answers).
Files the cases need are created by `prepare(folder)`; "{tmp}" in an argument is that folder.
"""

CASES: list[tuple[str, list[str], str]] = [
    # (what, argv, a fragment the one-line answer must contain)
    ("malformed block string", ["arch", "show", "r1_k3_zz"], "unknown key"),
    ("zero repeats", ["arch", "show", "r0_k3_s11_e1_i32_o16"], "repeats"),
    ("stride 3", ["arch", "show", "r1_k3_s33_e1_i32_o16"], "stride"),
    ("SE ratio above 1", ["arch", "show", "r1_k3_s11_e6_i32_o16_se1.5"], "SE ratio"),
    ("missing kernel", ["arch", "show", "r1_s11_e1_i32_o16"], "kernel"),
    ("garbage block", ["arch", "show", "hello"], "unknown architecture"),
    ("unknown preset", ["arch", "show", "efficientnet-b9"], "did you mean"),
    ("missing arch file", ["arch", "show", "{tmp}/nope.json"], "does not exist"),
    ("arch JSON of the wrong schema", ["arch", "show", "{tmp}/wrong_schema.json"], "schema"),
    ("arch JSON that is not JSON", ["arch", "show", "{tmp}/not_json.json"], "not valid JSON"),
    ("zero width", ["arch", "show", "efficientnet-b0", "--width", "0"], "width"),
    ("negative resolution", ["arch", "show", "efficientnet-b0", "--resolution", "-224"], "resolution"),
    ("non-numeric depth", ["arch", "show", "efficientnet-b0", "--depth", "deep"], "invalid float"),
    ("export without .pt2", ["arch", "export", "efficientnet-b0", "-o", "{tmp}/model.bin"], ".pt2"),
    ("space sample n = 0", ["space", "sample", "--n", "0"], "--n"),
    ("unknown command", ["frobnicate"], "invalid choice"),
    ("family: unreachable target", ["family", "--base", "efficientnet-b0", "--targets", "1M"], "smallest"),
    ("family: target not a size", ["family", "--base", "efficientnet-b0", "--targets", "lots"], "400M"),
    ("family: both phis and targets", ["family", "--base", "efficientnet-b0", "--phis", "1", "--targets", "1G"],
     "not allowed"),
    ("family: coefficients off the constraint", ["family", "--base", "efficientnet-b0", "--phis", "1",
                                                 "--coefficients", "2,2,2"], "2"),
    ("family: coefficient below 1", ["family", "--base", "efficientnet-b0", "--phis", "1",
                                     "--coefficients", "0.9,1.2,1.2"], "1"),
    ("family: missing coefficients file", ["family", "--base", "efficientnet-b0", "--phis", "1",
                                           "--coefficients-from", "{tmp}/none.json"], "none.json"),
    ("grid: unknown evaluator", ["grid", "--base", "efficientnet-b0", "--evaluator", "oracle", "--out", "{tmp}/g"],
     "oracle"),
    ("search: unknown strategy", ["search", "--target", "400M", "--strategy", "nope", "--trials", "1",
                                  "--out", "{tmp}/s1"], "nope"),
    ("search: unknown evaluator", ["search", "--target", "400M", "--evaluator", "oracle", "--trials", "1",
                                   "--out", "{tmp}/s2"], "oracle"),
    ("search: target <= 0", ["search", "--target", "0", "--trials", "1", "--out", "{tmp}/s3"], "positive"),
    ("search: trials < 1", ["search", "--target", "400M", "--trials", "0", "--out", "{tmp}/s4"], "trials"),
    ("search: missing data directory", ["search", "--target", "400M", "--evaluator", "proxy", "--data",
                                        "{tmp}/no-such-dir", "--trials", "1", "--out", "{tmp}/s5"], "does not exist"),
    ("search: a data set with one class", ["search", "--target", "400M", "--evaluator", "proxy", "--data",
                                           "{tmp}/one_class", "--trials", "1", "--out", "{tmp}/s6"], "class"),
    ("search: --out holding another run", ["search", "--target", "300M", "--strategy", "random", "--evaluator",
                                           "zero-cost", "--trials", "1", "--out", "{tmp}/other_run"], "--resume"),
    ("search: unreachable Ray address", ["search", "--target", "400M", "--strategy", "random", "--evaluator",
                                         "zero-cost", "--trials", "1", "--runner", "ray", "--ray-address",
                                         "127.0.0.1:1", "--out", "{tmp}/s7"], "127.0.0.1:1"),
    ("detector: unknown name", ["detector", "show", "d42"], "d42"),
    ("detector: negative phi", ["detector", "show", "--phi", "-1"], "--phi"),
    ("detector: family of the wrong schema", ["detector", "show", "--phi", "0", "--backbone",
                                              "{tmp}/wrong_family.json", "--member", "0"], "schema"),
    ("run: missing job file", ["run", "{tmp}/missing.toml"], "does not exist"),
    ("run: unknown key in JOB.toml", ["run", "{tmp}/unknown_key.toml"], "unknown key"),
    ("run: wrong type in JOB.toml", ["run", "{tmp}/wrong_type.toml"], "must be"),
    ("run: impossible target in JOB.toml", ["run", "{tmp}/impossible.toml"], "smallest"),
    ("run: corrupt ledger line in the middle", ["run", "{tmp}/corrupt.toml"], "line 2"),
    ("evaluate: unknown architecture", ["evaluate", "efficientnet-b9"], "did you mean"),
    ("evaluate: negative seed", ["evaluate", "mnasnet-a1", "--seed", "-1"], "seed"),
    ("evaluate: bad option value", ["evaluate", "mnasnet-a1", "--config", "epochs=-1"], "epochs"),
    ("evaluate: misspelt option", ["evaluate", "mnasnet-a1", "--config", "epoch=2"], "unknown evaluator option"),
    ("evaluate: preset and --reference", ["evaluate", "mnasnet-a1", "--preset", "b0-local", "--reference"],
     "not allowed"),
    ("evaluate: non-boolean proxy switch", ["evaluate", "mnasnet-a1", "--config", "zero_init_residual=2"],
     "true or false"),
]

# Issue 13's hostile-input pass, one module per area (each with its own CASES and prepare()).
import bad_input_cases_bases as _bases  # noqa: E402
import bad_input_cases_options as _options  # noqa: E402
import bad_input_cases_parse as _parse  # noqa: E402
import bad_input_cases_train as _train  # noqa: E402
import bad_input_cases_writes as _writes  # noqa: E402

CASES += _parse.CASES + _writes.CASES + _options.CASES + _train.CASES + _bases.CASES


def prepare(folder) -> None:
    """Write the files the cases refer to into `folder` (a pathlib.Path)."""
    import json

    (folder / "wrong_schema.json").write_text(json.dumps({"schema": "nope/9", "blocks": ["r1_k3_s11_e1_i32_o16"]}))
    (folder / "not_json.json").write_text("{blocks: [")
    (folder / "wrong_family.json").write_text(json.dumps({"schema": "effnas.family/0", "members": []}))
    one = folder / "one_class" / "cat"
    one.mkdir(parents=True, exist_ok=True)
    from PIL import Image

    for index in range(3):
        Image.new("RGB", (8, 8), (index * 40, 0, 0)).save(one / f"{index}.png")
    other = folder / "other_run"
    other.mkdir(exist_ok=True)
    (other / "config.json").write_text(json.dumps({"schema": "effnas.search/1", "target": 1}))
    job = '[job]\nout = "{out}"\nrunner = "inline"\n'
    (folder / "unknown_key.toml").write_text(job.format(out=folder / "j1") + "[family]\nbase = 'efficientnet-b0'\n"
                                             "phis = [0]\nflavour = 'x'\n")
    (folder / "wrong_type.toml").write_text(job.format(out=folder / "j2") + "[family]\nbase = 'efficientnet-b0'\n"
                                            "phis = '0,1'\n")
    (folder / "impossible.toml").write_text(job.format(out=folder / "j3") + "[family]\nbase = 'efficientnet-b0'\n"
                                            "targets = ['1M']\n")
    corrupt = folder / "j4"
    (folder / "corrupt.toml").write_text(job.format(out=corrupt) + "[search]\ntarget = '400M'\nstrategy = 'random'\n"
                                         "evaluator = 'zero-cost'\ntrials = 3\n[family]\nphis = [0]\n")
    (corrupt / "search").mkdir(parents=True, exist_ok=True)  # (a finished trial, a torn one, a finished one)
    (corrupt / "search" / "trials.jsonl").write_text('{"trial": "t00000"}\n{"trial": \n{"trial": "t00002"}\n')
    for area in (_parse, _writes, _options, _train):
        area.prepare(folder)
