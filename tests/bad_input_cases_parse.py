"""Bad inputs of issue 13: block strings, arch/family/job file readers, numeric bounds."""

import json
import os

_BLOCK = "r1_k3_s11_e1_i32_o16"
_FAMILY = ["family", "--base", "efficientnet-b0"]
_BACKBONE = ["detector", "show", "--phi", "0", "--member", "0", "--backbone"]

CASES: list[tuple[str, list[str], str]] = [
    # (what, argv, a fragment the one-line answer must contain)
    ("block: superscript digit", ["arch", "show", "r²_k3_s11_e1_i32_o16"], "digits 0-9"),
    ("block: Arabic-Indic digit", ["arch", "show", "r١_k3_s11_e1_i32_o16"], "digits 0-9"),
    ("block: Arabic-Indic stride", ["arch", "show", "r1_k3_s١١_e1_i32_o16"], "stride"),
    ("block: Arabic-Indic SE ratio", ["arch", "show", "r1_k3_s11_e6_i32_o16_se٠.٥"], "SE ratio"),
    ("block: a 20-digit number", ["arch", "show", "r99999999999999999999_k3_s11_e1_i32_o16"], "too large"),
    ("block: a million repeats", ["arch", "graph", "r1000000_k3_s11_e1_i32_o16"], "repeats must be in 1..128"),
    ("block: 100k output filters", ["arch", "show", "r1_k3_s11_e1_i32_o100000"], "1..16384"),
    ("block: expansion past the channel bound", ["arch", "show", "r1_k3_s11_e16_i2048_o16"], "expanded filters"),
    ("blocks: more than 64", ["arch", "show", *[_BLOCK] * 65], "at most 64"),
    ("blocks: more than 512 layers", ["arch", "show", *["r100_k3_s11_e1_i16_o16"] * 6], "at most 512"),
    ("arch file: binary", ["arch", "show", "{tmp}/binary.json"], "not UTF-8"),
    ("arch file: /dev/zero", ["arch", "show", "/dev/zero"], "larger than 4 MiB"),
    ("arch file: too large", ["arch", "show", "{tmp}/huge.json"], "larger than 4 MiB"),
    ("arch file: nested 100000 deep", ["arch", "show", "{tmp}/deep.json"], "deeper than 64"),
    ("arch file: a folder", ["arch", "show", "{tmp}/folder.json"], "cannot read"),
    ("arch file: a FIFO nobody writes to", ["arch", "show", "{tmp}/fifo.json"], "not valid JSON"),
    ("arch JSON: stage_repeats a string", ["arch", "show", "{tmp}/repeats_string.json"], "stage_repeats must be"),
    ("arch JSON: stage_repeats a number", ["arch", "show", "{tmp}/repeats_number.json"], "stage_repeats must be"),
    ("arch JSON: stage_repeats 1e12", ["arch", "show", "{tmp}/repeats_huge.json"], "stage_repeats[0]"),
    ("arch JSON: stage_filters 1e6", ["arch", "show", "{tmp}/filters_huge.json"], "stage_filters[0]"),
    ("arch JSON: stem_filters 1e15", ["arch", "show", "{tmp}/stem_float.json"], "stem_filters"),
    ("arch JSON: stem_filters 10**15", ["arch", "export", "{tmp}/stem_int.json", "-o", "{tmp}/stem.pt2"],
     "stem_filters must be in 1..16384"),
    ("arch JSON: negative bn_eps", ["arch", "export", "{tmp}/bn_eps.json", "-o", "{tmp}/eps.pt2"], "bn_eps"),
    ("arch JSON: bn_momentum above 1", ["arch", "show", "{tmp}/bn_momentum.json"], "bn_momentum"),
    ("arch JSON: NaN dropout", ["arch", "show", "{tmp}/nan.json"], "not finite"),
    ("arch JSON: Infinity width", ["arch", "show", "{tmp}/infinity.json"], "not finite"),
    ("arch JSON: 1e400 depth", ["arch", "show", "{tmp}/overflow.json"], "not finite"),
    ("arch JSON: a 5000-digit integer", ["arch", "show", "{tmp}/long_int.json"], "not valid JSON"),
    ("arch JSON: 10 million classes", ["arch", "show", "{tmp}/classes.json"], "num_classes"),
    ("arch JSON: divisor 1000", ["arch", "show", "{tmp}/divisor.json"], "divisor"),
    ("arch JSON: resolution 100000", ["arch", "show", "{tmp}/resolution.json"], "resolution"),
    ("arch JSON text: NaN", ["arch", "show", '{"blocks": ["r1_k3_s11_e1_i32_o16"], "width": NaN}'], "not finite"),
    ("arch: --width 9999", ["arch", "export", "efficientnet-b0", "--width", "9999", "-o", "{tmp}/w.pt2"],
     "width multiplier must be in (0, 100]"),
    ("arch: --width 30 overflows the head", ["arch", "show", "efficientnet-b0", "--width", "30"], "16384"),
    ("arch: --depth 40 overflows a stage", ["arch", "show", "efficientnet-b0", "--depth", "40"], "repeats"),
    ("arch: --width inf", ["arch", "show", "efficientnet-b0", "--width", "inf"], "width multiplier"),
    ("arch: --width nan", ["arch", "show", "efficientnet-b0", "--width", "nan"], "finite"),
    ("arch: --resolution 100000", ["arch", "show", "efficientnet-b0", "--resolution", "100000"], "8192"),
    ("family: coefficients 1e300", [*_FAMILY, "--phis", "1", "--coefficients", "1e300,1e300,1e300",
                                    "--allow-any-coefficients"], "coefficient alpha must be in [0.01, 100]"),
    ("family: coefficients inf", [*_FAMILY, "--phis", "1", "--coefficients", "inf,1,1",
                                  "--allow-any-coefficients"], "finite"),
    ("family: target 1e400", [*_FAMILY, "--targets", "1e400"], "too large"),
    ("family: target nan", [*_FAMILY, "--targets", "nan"], "400M"),
    ("family: phi 60", [*_FAMILY, "--phis", "60"], "[-50, 50]"),
    ("family: phi 25 grows past the bounds", [*_FAMILY, "--phis", "25"], "after scaling"),
    ("family: coefficients file binary", [*_FAMILY, "--phis", "1", "--coefficients-from", "{tmp}/binary.json"],
     "not UTF-8"),
    ("family: coefficients file NaN", [*_FAMILY, "--phis", "1", "--coefficients-from", "{tmp}/coefficients_nan.json"],
     "not finite"),
    ("family.json: stage_filters of strings", [*_BACKBONE, "{tmp}/family_strings.json"],
     "member 0: arch: stage_filters[0]"),
    ("family.json: binary", [*_BACKBONE, "{tmp}/binary.json"], "not UTF-8"),
    ("family.json: nested 100000 deep", [*_BACKBONE, "{tmp}/deep.json"], "deeper than 64"),
    ("family.json: phi Infinity", [*_BACKBONE, "{tmp}/family_phi.json"], "not finite"),
    ("family.json: coefficient 1e300", [*_BACKBONE, "{tmp}/family_coefficient.json"], "coefficient alpha"),
    ("detector: 10 million classes", ["detector", "show", "d0", "--num-classes", "10000000"], "--num-classes"),
    ("detector: resolution 1e6", ["detector", "show", "d0", "--resolution", "1000064"], "--resolution"),
    ("run: JOB.toml nested 100000 deep", ["run", "{tmp}/deep.toml"], "deeper than 64"),
    ("run: JOB.toml with a 100000-part dotted key", ["run", "{tmp}/dotted.toml"], "dotted key"),
    ("run: JOB.toml binary", ["run", "{tmp}/binary.toml"], "not UTF-8"),
    ("run: JOB.toml too large", ["run", "/dev/zero"], "larger than 4 MiB"),
    ("run: JOB.toml with nan", ["run", "{tmp}/nan.toml"], "not finite"),
    ("space sample: --n above the bound", ["space", "sample", "--n", "1000000"], "--n must be in 1..100000"),
]


def _arch(**fields) -> dict:
    return {"schema": "effnas.arch/1", "blocks": [_BLOCK], **fields}


def _family(folder, **changes) -> None:
    """A valid one-member family.json from the engine, then `changes` applied; written to family_NAME.json."""
    from scaling import make_family

    data = make_family("efficientnet-b0", phis=[0]).to_dict()
    for name, change in changes.items():
        copy = json.loads(json.dumps(data))
        change(copy)
        (folder / f"family_{name}.json").write_text(json.dumps(copy))


def prepare(folder) -> None:
    """Write the files these cases refer to into `folder` (a pathlib.Path)."""
    (folder / "binary.json").write_bytes(bytes(range(256)) * 8)
    (folder / "binary.toml").write_bytes(b"[job]\nname = '\xff\xfe'\n")
    (folder / "huge.json").write_text(" " * (4 * 2**20) + "{}")
    (folder / "deep.json").write_text("[" * 100_000)
    (folder / "deep.toml").write_text("[job]\nname = " + "[" * 100_000)
    (folder / "dotted.toml").write_text("[job]\n" + "a." * 100_000 + "a = 1\n")
    (folder / "nan.toml").write_text("[job]\n[grid]\nbase = 'efficientnet-b0'\nphi = nan\n")
    (folder / "folder.json").mkdir(exist_ok=True)
    if not (folder / "fifo.json").exists():
        os.mkfifo(folder / "fifo.json")
    files = {
        "repeats_string": _arch(stage_repeats="a"), "repeats_number": _arch(stage_repeats=5),
        "repeats_huge": _arch(stage_repeats=[1e12]), "filters_huge": _arch(stage_filters=[10**6]),
        "stem_float": _arch(stem_filters=1e15), "stem_int": _arch(stem_filters=10**15),
        "bn_eps": _arch(bn_eps=-1), "bn_momentum": _arch(bn_momentum=2), "classes": _arch(num_classes=10**7),
        "divisor": _arch(divisor=1000), "resolution": _arch(resolution=100_000),
    }
    for name, data in files.items():
        (folder / f"{name}.json").write_text(json.dumps(data))
    raw = json.dumps(_arch(dropout=0.5, width=1.5, depth=2.5))
    (folder / "nan.json").write_text(raw.replace("0.5", "NaN"))
    (folder / "infinity.json").write_text(raw.replace("1.5", "Infinity"))
    (folder / "overflow.json").write_text(raw.replace("2.5", "1e400"))
    (folder / "long_int.json").write_text(raw.replace("2.5", "1" * 5000))
    (folder / "coefficients_nan.json").write_text('{"alpha": NaN, "beta": 1.1, "gamma": 1.15}')
    _family(folder,
            strings=lambda d: d["members"][0]["arch"].__setitem__("stage_filters", ["x"] * 7),
            phi=lambda d: d["members"][0].__setitem__("phi", float("inf")),
            coefficient=lambda d: d["coefficients"].__setitem__("alpha", 1e300))
