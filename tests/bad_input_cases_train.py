"""Bad inputs of `effnas train` (issue 25). Same format as bad_input_cases.py; nothing is written for any."""

TINY = ["--epochs", "1", "--batch", "16", "--subset", "64", "--val-size", "40", "--resolution", "12"]

CASES: list[tuple[str, list[str], str]] = [
    # (what, argv, a fragment the one-line answer must contain)
    ("train: member index out of range", ["train", "{tmp}/family.json", "--member", "7", "--data", "digits",
                                          "--out", "{tmp}/tr1", *TINY], "out of range"),
    ("train: family file without --member", ["train", "{tmp}/family.json", "--data", "digits",
                                             "--out", "{tmp}/tr2", *TINY], "--member"),
    ("train: a family file that is not one", ["train", "{tmp}/wrong_family.json", "--member", "0", "--data", "digits",
                                              "--out", "{tmp}/tr3", *TINY], "schema"),
    ("train: --member on a preset", ["train", "mnasnet-a1", "--member", "0", "--data", "digits",
                                     "--out", "{tmp}/tr4", *TINY], "family file"),
    ("train: missing data", ["train", "mnasnet-a1", "--data", "{tmp}/no-such-data", "--out", "{tmp}/tr5", *TINY],
     "not found"),
    ("train: data with one class", ["train", "mnasnet-a1", "--data", "{tmp}/one_class", "--out", "{tmp}/tr6", *TINY],
     "class"),
    ("train: batch larger than the data", ["train", "mnasnet-a1", "--data", "digits", "--out", "{tmp}/tr7",
                                           "--subset", "64", "--batch", "500"], "larger than"),
    ("train: unknown recipe", ["train", "mnasnet-a1", "--data", "digits", "--recipe", "sgd", "--out", "{tmp}/tr8"],
     "unknown recipe"),
    ("train: misspelt recipe option", ["train", "mnasnet-a1", "--data", "digits", "--opt", "lr_rate=1",
                                       "--out", "{tmp}/tr9"], "unknown recipe option"),
    ("train: recipe option out of range", ["train", "mnasnet-a1", "--data", "digits", "--opt", "ema_decay=2",
                                           "--out", "{tmp}/tr10"], "ema_decay"),
    ("train: --workers without ray", ["train", "mnasnet-a1", "--data", "digits", "--workers", "2",
                                      "--out", "{tmp}/tr11"], "--runner ray"),
    ("train: --workers above the cluster", ["train", "mnasnet-a1", "--data", "digits", "--runner", "ray",
                                            "--workers", "999", "--out", "{tmp}/tr12", *TINY], "--workers"),
    ("train: --resume on a folder of another run", ["train", "efficientnet-b0", "--data", "digits", "--resume",
                                                    "--out", "{tmp}/trained", *TINY], "another run"),
    ("train: fresh run into a used folder", ["train", "{tmp}/trained_arch.json", "--data", "digits",
                                             "--out", "{tmp}/trained", *TINY], "--resume"),
    ("train: a checkpoint that is not one", ["train", "mnasnet-a1", "--data", "digits", "--resume",
                                             "--out", "{tmp}/bad_checkpoint", *TINY], "not an effnas checkpoint"),
    ("train: output path that is a file", ["train", "mnasnet-a1", "--data", "digits", "--out", "{tmp}/a_file", *TINY],
     "not a folder"),
    ("train: zero epochs", ["train", "mnasnet-a1", "--data", "digits", "--epochs", "0", "--out", "{tmp}/tr13"],
     "epochs"),
    ("train: cuda without a GPU", ["train", "mnasnet-a1", "--data", "digits", "--device", "cuda",
                                   "--out", "{tmp}/tr14", *TINY], "CUDA"),
]


def prepare(folder) -> None:
    """The files the cases need: a family, a trained run (one epoch of a tiny plain CNN), a torn checkpoint."""
    import json

    from effnas.cli import main
    from scaling import make_family
    from search_spaces import load_arch

    family = make_family("efficientnet-b0", phis=[0, 1])
    (folder / "family.json").write_text(json.dumps(family.to_dict()))
    (folder / "a_file").write_text("not a folder\n")
    arch = load_arch(["cn_r1_k3_s11_i32_o8", "cn_r1_k3_s22_i8_o16"])
    (folder / "trained_arch.json").write_text(arch.to_json())
    if not (folder / "trained" / "model.pt").exists():
        code = main(["train", str(folder / "trained_arch.json"), "--data", "digits", "--out", str(folder / "trained"),
                     "--quiet", "--recipe", "adam", *TINY])
        assert code == 0
    torn = folder / "bad_checkpoint"
    torn.mkdir(exist_ok=True)
    (torn / "checkpoint.pt").write_bytes(b"PK\x03\x04 torn")
