"""The reference-set generator: its architectures, resumable generation, the row schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from effnas.reference_set import MACS_RANGE, main, reference_archs
from nas.reference import REFERENCE_CONFIG, ReferenceRow, mean_accuracy, read_reference
from search_spaces import InputError

TINY = ["--set", "dataset=digits", "--set", "subset=40", "--set", "epochs=0.5", "--set", "resolution=16",
        "--set", "val_size=30", "--set", "batch=20", "--set", "bn_batches=1"]


def test_reference_archs_cover_named_scaled_baseline_and_random_members() -> None:
    archs = reference_archs(random_count=53, space_seed=7)
    keys = [key for key, _, _ in archs]
    assert len(archs) >= 60 and len(set(keys)) == len(keys)
    assert keys[:3] == ["efficientnet-b0", "mnasnet-a1", "mobilenet-v2"]
    groups = {group for _, group, _ in archs}
    assert groups == {"named", "scaled", "baseline", "random"}
    base_macs = archs[0][2].cost().macs
    for key, group, arch in archs:
        if group == "scaled":  # about 2x B0's MACs, each by its own rule
            assert 1.7 < arch.cost().macs / base_macs < 2.4, key
        if group == "random":
            assert MACS_RANGE[0] <= arch.cost().macs <= MACS_RANGE[1]
    randoms = sorted(arch.cost().macs for _, group, arch in archs if group == "random")
    assert randoms[0] < 300e6 and randoms[-1] > 600e6  # spans the range


def test_generation_resumes_and_writes_typed_rows(tmp_path) -> None:
    out = tmp_path / "ref"
    assert main(["--random", "1", "--seeds", "0,1", "--limit", "3", "--out", str(out), *TINY]) == 0
    assert len(read_reference(out / "reference.jsonl")) == 3
    assert main(["--random", "1", "--seeds", "0,1", "--out", str(out), *TINY]) == 0
    rows = read_reference(out / "reference.jsonl")
    assert len(rows) == 2 * 9  # 3 named + 4 scaled + plain CNN + 1 random, 2 seeds, none repeated
    assert {(r.key, r.seed) for r in rows} == {(k, s) for k, _, _ in reference_archs(1, 7) for s in (0, 1)}
    by_key = {(r.key, r.seed): r for r in rows}
    b0, res = by_key[("efficientnet-b0", 0)], by_key[("b0-resolution-x2", 0)]
    assert b0.config["resolution"] == 16 and res.config["resolution"] > 16  # proxy px follow the arch
    assert b0.config["seed"] == 0 and by_key[("efficientnet-b0", 1)].config["seed"] == 1
    assert 0.0 <= b0.accuracy <= 1.0 and b0.train_loss > 0 and b0.epoch_losses and b0.macs == 385_814_752
    assert b0.architecture.name == "efficientnet-b0"
    assert set(mean_accuracy(rows)) == {r.key for r in rows}
    line = json.loads((out / "reference.jsonl").read_text().splitlines()[0])
    for key in ("arch", "seed", "accuracy", "train_loss", "macs", "params", "seconds", "config"):
        assert key in line


def test_reference_reader_refuses_foreign_lines(tmp_path) -> None:
    path = tmp_path / "reference.jsonl"
    path.write_text('{"not": "a row"}\n')
    with pytest.raises(InputError, match="reference.jsonl:1"):
        read_reference(path)
    with pytest.raises(InputError, match="no reference set"):
        read_reference(tmp_path / "missing.jsonl")


def test_ledgers_never_go_into_the_package(tmp_path) -> None:
    """The default --out is the package's reference set (nas/reference_data); its trial ledgers are run
    folders and go to results/reference-set/work under the current folder, not beside it."""
    from effnas.reference_set import WORK_DIR, ledger_folder
    from nas.reference import FIDELITY_FILE, REFERENCE_DIR, REFERENCE_FILE

    assert REFERENCE_FILE.parent == FIDELITY_FILE.parent == REFERENCE_DIR
    import nas

    assert Path(nas.__file__).resolve().parent / "reference_data" == REFERENCE_DIR
    assert ledger_folder(REFERENCE_DIR) == WORK_DIR == Path("results/reference-set/work")
    assert ledger_folder(tmp_path / "ref") == tmp_path / "ref" / "work"
    assert ledger_folder(REFERENCE_DIR, str(tmp_path / "w")) == tmp_path / "w"
    # in a checkout the package's files are links to the measured data in results/reference-set
    checkout = Path(__file__).resolve().parents[1] / "results" / "reference-set"
    assert REFERENCE_FILE.resolve() == checkout / "reference.jsonl"
    assert FIDELITY_FILE.resolve() == checkout / "fidelity.json"


def test_reference_config_is_a_valid_proxy_config() -> None:
    from nas.evaluators.common import read_options
    from nas.evaluators.proxy import OPTIONS

    options = read_options(REFERENCE_CONFIG, OPTIONS)
    assert options["classifier_init"] == "zero" and options["zero_init_residual"] is True
    assert ReferenceRow.__dataclass_fields__.keys() >= {"arch", "seed", "accuracy", "train_loss", "config"}


def test_reference_config_follows_the_arch_resolution() -> None:
    from nas.reference import reference_config_for
    from scaling.grid import proxy_resolution
    from search_spaces import load_arch

    b0 = load_arch("efficientnet-b0")
    for arch in (b0, b0.scaled(resolution=320), b0.scaled(resolution=260)):
        config = reference_config_for(arch, seed=1)
        assert config["seed"] == 1
        # the same rule as the scaling grid's, which the generator trains with
        assert config["resolution"] == proxy_resolution(b0, arch, REFERENCE_CONFIG, True)


def test_fidelity_record_is_found_by_proxy_config_and_quoted_by_reports(tmp_path) -> None:
    from effnas.report import fidelity_sentence
    from nas.presets import get_preset
    from nas.reference import FIDELITY_SCHEMA, fidelity_for

    config = get_preset("b0-local")["evaluator_configs"]["proxy"]
    path = tmp_path / "fidelity.json"
    entry = {"name": "b0-local", "config": config, "tau": 0.5, "tau_p": 0.02, "rho": 0.7, "rho_p": 0.01,
             "seed_tau": 0.8}
    path.write_text(json.dumps({"schema": FIDELITY_SCHEMA, "reference_archs": 12, "reference_rows": 12,
                                "proxies": [entry]}))
    found = fidelity_for({**config, "seed": 3, "threads": 2}, path)  # seed and threads do not change the proxy
    assert found is not None and found["tau"] == 0.5 and found["reference_archs"] == 12
    assert fidelity_for({**config, "epochs": 5}, path) is None
    assert fidelity_for(config, tmp_path / "missing.json") is None
    assert "not measured" in fidelity_sentence({"dataset": "nowhere"})


def test_reports_quote_the_fidelity_measured_near_the_search_target() -> None:
    from effnas.report import fidelity_sentence
    from nas.presets import get_preset
    from nas.reference import fidelity_for

    preset = get_preset("b0-local")
    config = preset["evaluator_configs"]["proxy"]
    record = fidelity_for(config)  # the committed measurement (bench_proxy_fidelity.py)
    assert record is not None and {cell["window"] for cell in record["near_target"]} == {0.25, preset["band"]}
    near = fidelity_sentence(config, preset["target"])
    assert "within ±25% of 400M MACs: τ" in near and "within ±10% of 400M MACs: τ" in near
    assert "within" not in fidelity_sentence(config, 2 * preset["target"])  # not measured near 800M
    assert "within" not in fidelity_sentence(config)
