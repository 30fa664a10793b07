"""The training engine (nas.training) and `effnas train`: recipes, schedules, EMA, TF RMSProp, run
folders, the proxy and the train command on one loop, exact resume after SIGKILL."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from nas.evaluators import get_evaluator
from nas.training.ema import ModelEma
from nas.training.optimizers import RMSpropTF
from nas.training.recipe import get_recipe, member_dropout, scaled_lr
from nas.training.run import identity_difference, train_run
from nas.training.schedules import lr_at
from search_spaces import InputError, load_arch, load_weights

PLAIN = ["cn_r1_k3_s11_i32_o16", "cn_r1_k3_s22_i16_o32"]
TINY = {"data": "digits", "epochs": 2, "batch": 32, "subset": 160, "val_size": 60, "resolution": 12, "threads": 1}


def test_efficientnet_recipe_is_the_papers():
    """The published setup (docs/PAPER_FACTS.md "Training recipe")."""
    recipe = get_recipe("efficientnet")
    assert recipe["optimizer"] == "rmsprop-tf" and recipe["rms_decay"] == 0.9 and recipe["momentum"] == 0.9
    assert recipe["eps"] == 1e-3 and recipe["weight_decay"] == 1e-5 and recipe["label_smoothing"] == 0.1
    assert scaled_lr(recipe, 256) == pytest.approx(0.016) and scaled_lr(recipe, 4096) == pytest.approx(0.256)
    assert recipe["schedule"] == "exponential" and recipe["decay_rate"] == 0.97 and recipe["decay_epochs"] == 2.4
    assert recipe["ema_decay"] == 0.9999 and recipe["drop_connect"] == 0.2
    assert get_recipe("efficientnet", {"lr": "0.1"})["lr"] == 0.1
    with pytest.raises(InputError, match="unknown recipe option"):
        get_recipe("adam", {"learning_rate": 1})


def test_dropout_scales_with_the_member():
    """auto: 0.2 at B0's MACs, 0.5 at B7's, in between for the others, clipped outside."""
    rates = [member_dropout(load_arch(f"efficientnet-b{i}"), "auto") for i in range(8)]
    assert rates[0] == pytest.approx(0.2) and rates[7] == pytest.approx(0.5)
    assert rates == sorted(rates)
    assert member_dropout(load_arch("mobilenet-v2"), "auto") == pytest.approx(0.2)  # below B0's MACs
    assert member_dropout(load_arch("efficientnet-b3"), "arch") == 0.3
    assert member_dropout(load_arch(PLAIN), "0.4") == 0.4


def test_exponential_schedule_is_tf_staircase():
    base, per_epoch = 0.016, 100
    decay = 2.4 * per_epoch
    assert lr_at(0, 10_000, 500, base, "exponential", 0.97, decay) == pytest.approx(base / 500)
    assert lr_at(499, 10_000, 500, base, "exponential", 0.97, decay) == pytest.approx(base)
    assert lr_at(500, 10_000, 500, base, "exponential", 0.97, decay) == pytest.approx(base * 0.97 ** 2)
    assert lr_at(959, 10_000, 500, base, "exponential", 0.97, decay) == pytest.approx(base * 0.97 ** 3)
    assert lr_at(960, 10_000, 500, base, "exponential", 0.97, decay) == pytest.approx(base * 0.97 ** 4)


def test_ema_follows_tf_num_updates():
    model = torch.nn.Linear(2, 1, bias=False)
    torch.nn.init.zeros_(model.weight)
    ema = ModelEma(model, 0.9999)
    expected = 0.0
    for n in range(1, 6):
        with torch.no_grad():
            model.weight.fill_(float(n))
        d = min(0.9999, (1 + n) / (10 + n))
        expected = d * expected + (1 - d) * n
        ema.update(model)
    assert float(ema.module.weight[0, 0]) == pytest.approx(expected)


def test_rmsprop_tf_step():
    """ms starts at 1 and ε sits inside the square root (TF 1's RMSProp)."""
    weight = torch.nn.Parameter(torch.tensor([1.0]))
    optimizer = RMSpropTF([weight], lr=0.1, alpha=0.9, eps=1e-3, momentum=0.9)
    weight.grad = torch.tensor([2.0])
    optimizer.step()
    ms = 0.9 * 1.0 + 0.1 * 4.0
    assert float(weight.detach()) == pytest.approx(1.0 - 0.1 * 2.0 / math.sqrt(ms + 1e-3))


def test_run_folder_and_weights(tmp_path):
    """A run writes its files; model.pt (the EMA) loads into arch.json's arch; config.json has the recipe."""
    recipe = get_recipe("efficientnet", {"ema_decay": 0.99})
    last = train_run(load_arch(PLAIN), recipe, TINY, tmp_path)
    names = {p.name for p in tmp_path.iterdir()}
    assert {"config.json", "metrics.jsonl", "checkpoint.pt", "model.pt", "arch.json", "tensorboard"} <= names
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [row["epoch"] for row in rows] == [1, 2] and rows[-1] == last
    assert set(rows[0]) >= {"train_loss", "val_loss", "val_accuracy", "ema_val_accuracy", "lr", "images_per_s"}
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["recipe"] == recipe and config["options"]["batch"] == 32
    assert config["lr"] == pytest.approx(0.016 * 32 / 256)
    from search_spaces import Arch

    model = Arch.from_json(tmp_path / "arch.json").build()
    load_weights(model, torch.load(tmp_path / "model.pt", weights_only=True))
    assert any(p.name.startswith("events.out.tfevents") for p in (tmp_path / "tensorboard").iterdir())


def test_train_and_proxy_share_one_loop(tmp_path):
    """The adam recipe is the reference set's training: `effnas train` with it gives the proxy
    evaluator's per-epoch losses and final (BN-recalibrated) accuracy exactly."""
    arch = load_arch("mnasnet-a1")
    proxy = get_evaluator("proxy")(arch, {
        "dataset": "digits", "resolution": 16, "subset": 200, "epochs": 2, "batch": 50, "val_size": 100,
        "threads": 1, "seed": 3, "optimizer": "adam", "lr": 0.003, "weight_decay": 5e-5, "classifier_init": "zero",
        "zero_init_residual": True, "bn_batches": 16})
    train_run(arch, get_recipe("adam"), {"data": "digits", "resolution": 16, "subset": 200, "epochs": 2,
                                         "batch": 50, "val_size": 100, "threads": 1, "seed": 3}, tmp_path)
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [row["train_loss"] for row in rows] == proxy["epoch_losses"]
    assert rows[-1]["val_accuracy"] == proxy["accuracy"] and rows[-1]["val_loss"] == proxy["val_loss"]


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "effnas.cli", "train", *args]


def _rows(folder) -> list[dict]:
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in row.items() if k not in ("seconds", "images_per_s")} for row in rows]


def test_resume_after_sigkill_is_bit_for_bit(tmp_path):
    """SIGKILL after the second epoch's checkpoint, --resume: the same metrics as an uninterrupted run
    (augmentation, dropout, drop-connect and EMA all on: every RNG and state is in the checkpoint)."""
    args = ["--data", "digits", "--epochs", "4", "--batch", "32", "--subset", "160", "--val-size", "60",
            "--resolution", "16", "--threads", "1", "--seed", "5", "--opt", "ema_decay=0.99", "--quiet"]
    arch = str(tmp_path / "arch.json")
    (tmp_path / "arch.json").write_text(load_arch(["cn_r1_k3_s11_i32_o16", "r1_k3_s22_e6_i16_o24_se0.25"]).to_json())
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    subprocess.run(_cli(arch, *args, "--out", str(whole)), check=True, env=env, capture_output=True)
    process = subprocess.Popen(_cli(arch, *args, "--out", str(cut)), env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and process.poll() is None:
        metrics = cut / "metrics.jsonl"
        if metrics.exists() and len(metrics.read_text().splitlines()) >= 2:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done = len((cut / "metrics.jsonl").read_text().splitlines())
    assert 2 <= done < 4, done
    resumed = subprocess.run(_cli(arch, *args, "--out", str(cut), "--resume"), env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert _rows(cut) == _rows(whole)
    assert [row["epoch"] for row in _rows(cut)] == [1, 2, 3, 4]


def test_image_folder_decoded_batch_by_batch(tmp_path):
    """An ImageFolder decoded lazily by DataLoader workers trains through the same loop; the worker
    count does not change what is trained."""
    from PIL import Image

    for label, colour in (("red", (200, 30, 30)), ("blue", (30, 30, 200))):
        folder = tmp_path / "images" / label
        folder.mkdir(parents=True)
        for index in range(24):
            Image.new("RGB", (20, 20), tuple(min(255, c + 3 * index) for c in colour)).save(folder / f"{index}.png")
    options = {"data": str(tmp_path / "images"), "epochs": 2, "batch": 8, "val_size": 8, "resolution": 16,
               "threads": 1, "lazy": True}
    recipe = get_recipe("adam")
    one = train_run(load_arch(PLAIN), recipe, {**options, "loader_workers": 0}, tmp_path / "w0")
    two = train_run(load_arch(PLAIN), recipe, {**options, "loader_workers": 2}, tmp_path / "w2")
    assert one["train_loss"] == two["train_loss"] and one["val_accuracy"] == two["val_accuracy"]
    assert json.loads((tmp_path / "w0" / "config.json").read_text())["train_images"] == 40


def test_identity_tolerates_an_option_an_older_run_predates():
    """A run saved before an option existed resumes when the option is at its default (None), and
    an option that really changed is named."""
    saved = {"arch": {"a": 1}, "recipe": {"lr": 0.1}, "resolution": 32, "options": {"epochs": 10.0, "batch": 64}}
    current = {**saved, "options": {"epochs": 10.0, "batch": 64, "lazy": None}}
    assert identity_difference(saved, current) == ""
    assert identity_difference(saved, {**saved, "options": {"epochs": 10.0, "batch": 32}}) == "options differ: batch"
    assert identity_difference(saved, {**current, "options": {**current["options"], "lazy": True}}) == \
        "options differ: lazy"
    assert identity_difference(saved, {**saved, "recipe": {"lr": 0.2}}) == "recipe differs"


def _folder(root, per_class, colours=(("red", (200, 30, 30)), ("blue", (30, 30, 200)))):
    from PIL import Image

    for label, colour in colours:
        folder = root / label
        folder.mkdir(parents=True)
        for index in range(per_class):
            Image.new("RGB", (20, 20), tuple(min(255, c + 3 * index) for c in colour)).save(folder / f"{index}.png")
    return root


def test_a_given_validation_folder_is_used_whole(run_cli, tmp_path):
    """--val-data: every training image trains, the validation folder is scored whole (classes matched by
    name, in any order); a folder with a class the training data lacks is refused before anything is written."""
    train = _folder(tmp_path / "train", 12)
    val = _folder(tmp_path / "val", 5, colours=(("blue", (40, 40, 190)), ("red", (190, 40, 40))))
    tiny = ["--recipe", "adam", "--epochs", "1", "--batch", "8", "--resolution", "12", "--threads", "1", "--quiet"]
    code, out, err = run_cli("train", *PLAIN, "--data", train, "--val-data", val, *tiny, "--out", tmp_path / "run")
    assert code == 0, err
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert (config["train_images"], config["val_images"]) == (24, 10)
    assert config["options"]["val_data"] == str(val)
    odd = _folder(tmp_path / "odd", 3, colours=(("red", (200, 30, 30)), ("green", (30, 200, 30))))
    code, out, err = run_cli("train", *PLAIN, "--data", train, "--val-data", odd, *tiny, "--out", tmp_path / "run2")
    assert code == 2 and "'green'" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run2").exists()
