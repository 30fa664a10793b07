"""JOB.toml's [train] stage: family members trained by `effnas train`'s engine, report section, checks."""

from __future__ import annotations

import json

import pytest

from effnas.jobs import parse_job
from search_spaces import InputError, load_arch

TINY_BASE = ["cn_r1_k3_s11_i32_o16", "r1_k3_s22_e6_i16_o24_se0.25"]


def job_text(out, base, train: str) -> str:
    return (f'[job]\nname = "t"\nout = "{out}"\nrunner = "inline"\n\n[family]\nbase = "{base}"\nphis = [0, 1]\n\n'
            f"[train]\n{train}")


TRAIN = 'data = "digits"\nrecipe = "adam"\nepochs = 1\nbatch = 32\nsubset = 96\nval_size = 40\nresolution = 12\n'


@pytest.mark.parametrize("train, match", [
    ('recipe = "adam"\n', "data"),
    (TRAIN + "members = [5]\n", "no member 5"),
    (TRAIN + "flavour = 1\n", "unknown key"),
])
def test_bad_train_sections(tmp_path, train, match):
    with pytest.raises(InputError, match=match):
        parse_job(job_text(tmp_path / "out", "efficientnet-b0", train))


def test_train_needs_a_family(tmp_path):
    with pytest.raises(InputError, match="needs a \\[family\\]"):
        parse_job(f'[job]\nout = "{tmp_path}"\n[train]\n{TRAIN}')


def test_train_stage_trains_members_and_reports(tmp_path, run_cli):
    base = tmp_path / "base.json"
    base.write_text(load_arch(TINY_BASE).to_json())
    job = tmp_path / "job.toml"
    job.write_text(job_text(tmp_path / "out", base, TRAIN))
    code, _, err = run_cli("run", job)
    assert code == 0, err
    out = tmp_path / "out"
    trained = json.loads((out / "train.json").read_text())
    assert [m["member"] for m in trained["members"]] == [0, 1]
    assert trained["members"][1]["macs"] > trained["members"][0]["macs"]
    for index in (0, 1):
        files = {p.name for p in (out / "train" / f"member-{index}").iterdir()}
        assert {"model.pt", "metrics.jsonl", "train.png"} <= files
    report = (out / "report.md").read_text()
    assert "## Trained members" in report and (out / "train.png").exists()
    code, _, err = run_cli("run", job)  # finished: skipped
    assert code == 0 and "[train] already finished" in err


def test_bad_train_recipe_option_refused_before_running(tmp_path, run_cli):
    job = tmp_path / "job.toml"
    job.write_text(job_text(tmp_path / "out", "efficientnet-b0", TRAIN + "options = { lr = -1 }\n"))
    code, _, err = run_cli("run", job)
    assert code == 2 and "lr" in err and not (tmp_path / "out").exists()
