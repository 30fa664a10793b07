"""COCO-format detection data: the validated reader (detectors.data.coco), the bundled mnist-detection
task (detectors.data.mnist_detection) and `effnas data make|check`."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from detectors.data import MnistDetectionOptions, coco_set, make_mnist_detection, open_coco, read_coco
from detectors.data.mnist_detection import INK_THRESHOLD, MANIFEST, MNIST_TRAIN
from search_spaces import InputError
from search_spaces.bounds import MAX_FILE_BYTES

SMALL = MnistDetectionOptions(images=12, val_images=4, seed=7)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (relative path → bytes)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    return make_mnist_detection(tmp_path_factory.mktemp("mnist-detection") / "out", SMALL)


# ---- the generator -------------------------------------------------------------------------------------------

def test_layout_and_counts(made):
    folder = made.folder
    assert (folder / "annotations" / "instances_train.json").is_file()
    assert (folder / "annotations" / "instances_val.json").is_file()
    assert len(list((folder / "train").glob("*.png"))) == 12 and len(list((folder / "val").glob("*.png"))) == 4
    train, val = made.splits["train"], made.splits["val"]
    assert len(train.images) == 12 and len(val.images) == 4
    assert [c.name for c in train.categories] == [str(d) for d in range(10)]
    assert train.category_ids == tuple(range(1, 11))
    for data in (train, val):
        for image in data.images:
            assert 1 <= len(data.boxes_of(image.id)) <= SMALL.max_digits
            assert (image.width, image.height) == (128, 128)
    assert not made.reused
    summary = made.summary()
    assert summary["splits"]["train"]["images"] == 12 and summary["splits"]["train"]["large"] == 0


def test_same_seed_same_bytes_and_prefixes(made, tmp_path):
    again = make_mnist_detection(tmp_path / "again", SMALL)
    assert snapshot(again.folder) == snapshot(made.folder)
    other = make_mnist_detection(tmp_path / "other", MnistDetectionOptions(images=12, val_images=4, seed=8))
    assert snapshot(other.folder)["train/000001.png"] != snapshot(made.folder)["train/000001.png"]
    fewer = make_mnist_detection(tmp_path / "fewer", MnistDetectionOptions(images=5, val_images=2, seed=7))
    first, small = snapshot(made.folder), snapshot(fewer.folder)
    assert all(small[f"train/{i:06d}.png"] == first[f"train/{i:06d}.png"] for i in range(1, 6))
    assert all(small[f"val/{i:06d}.png"] == first[f"val/{i:06d}.png"] for i in range(1, 3))


def _pairs_iou(data):
    import torch

    from detectors.boxes import box_iou

    for image in data.images:
        boxes = torch.tensor([b.xyxy for b in data.boxes_of(image.id)], dtype=torch.float64)
        pairs = box_iou(boxes, boxes)
        yield from pairs[torch.triu_indices(len(boxes), len(boxes), 1).unbind()].tolist()


def test_digits_overlap_at_most_max_iou(made, tmp_path):
    ious = [v for data in made.splits.values() for v in _pairs_iou(data)]
    assert max(ious) <= SMALL.max_iou == 0.2
    apart = make_mnist_detection(tmp_path / "apart", MnistDetectionOptions(images=12, val_images=4, seed=7, max_iou=0))
    assert all(v == 0 for data in apart.splits.values() for v in _pairs_iou(data))
    many = make_mnist_detection(tmp_path / "many", MnistDetectionOptions(images=40, val_images=1, seed=1, max_digits=8))
    assert any(v > 0 for v in _pairs_iou(many.splits["train"]))  # overlaps do happen


def test_boxes_are_tight_on_the_ink_and_inside_the_canvas(made):
    for data in made.splits.values():
        for image in data.images:
            ink = np.asarray(Image.open(data.path(image.id))) >= INK_THRESHOLD
            assert ink.shape == (image.height, image.width)
            covered = np.zeros_like(ink)
            boxes = data.boxes_of(image.id)
            for box in boxes:
                x, y, w, h = (int(v) for v in (box.x, box.y, box.w, box.h))
                assert (x, y, w, h) == (box.x, box.y, box.w, box.h) and w > 0 and h > 0
                assert min(x, y) >= 0 and x + w <= image.width and y + h <= image.height
                region = ink[y:y + h, x:x + w]
                assert region[0].any() and region[-1].any() and region[:, 0].any() and region[:, -1].any()
                covered[y:y + h, x:x + w] = True
                assert box.area == w * h
            assert not (ink & ~covered).any()  # every ink pixel lies in a box


def test_classes_are_the_digits_and_splits_use_disjoint_digits(made):
    from nas.data.bundled import mnist_full

    labels = np.asarray(mnist_full().labels)
    used = {}
    for split in ("train", "val"):
        records = json.loads((made.folder / "annotations" / f"instances_{split}.json").read_text())["annotations"]
        used[split] = {r["mnist_index"] for r in records}
        assert all(r["category_id"] == labels[r["mnist_index"]] + 1 for r in records)
    assert used["train"] and used["val"] and not used["train"] & used["val"]
    assert max(used["train"]) < MNIST_TRAIN <= min(used["val"])


def test_pycocotools_loads_the_written_json(made):
    from pycocotools.coco import COCO

    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(made.folder / "annotations" / "instances_train.json"))
    assert len(coco.getImgIds()) == 12 and coco.getCatIds() == list(range(1, 11))
    assert len(coco.getAnnIds()) == len(made.splits["train"].boxes)


def test_ground_truth_of_the_task_scores_one(made):
    from detectors.coco_eval import coco_map

    val = made.splits["val"]
    detections = [{"image_id": b.image_id, "category_id": b.category_id, "bbox": [b.x, b.y, b.w, b.h], "score": 1.0}
                  for b in val.boxes]
    assert coco_map(val, detections)["AP"] == pytest.approx(1.0)


def test_a_finished_folder_is_reused_and_another_request_refused(made):
    before = {p: p.stat().st_mtime_ns for p in made.folder.rglob("*")}
    again = make_mnist_detection(made.folder, SMALL)
    assert again.reused and again.splits["train"].counts() == made.splits["train"].counts()
    with pytest.raises(InputError, match="already holds mnist-detection made with seed=7, not seed=8") as error:
        make_mnist_detection(made.folder, MnistDetectionOptions(images=12, val_images=4, seed=8))
    assert "\n" not in str(error.value)
    assert {p: p.stat().st_mtime_ns for p in made.folder.rglob("*")} == before


@pytest.mark.parametrize(("options", "message"), [
    ({"images": 0}, "--images must be in 1..60000"), ({"images": 60001}, "--images must be in 1..60000"),
    ({"val_images": 0}, "--val-images must be in 1..60000"), ({"seed": -1}, "--seed must be in"),
    ({"max_iou": 0.95}, r"--max-iou must be in \[0.0, 0.9\]"),
    ({"images": 2.5}, "--images must be a whole number"),
])
def test_bad_options_are_refused(options, message):
    with pytest.raises(InputError, match=message):
        MnistDetectionOptions(**options)


def test_an_out_that_is_a_file_or_a_foreign_folder_is_refused(tmp_path):
    file = tmp_path / "file"
    file.write_text("keep me")
    with pytest.raises(InputError, match="is a file, not a folder"):
        make_mnist_detection(file, SMALL)
    assert file.read_text() == "keep me"
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="folder of other files"):
        make_mnist_detection(foreign, SMALL)
    assert snapshot(foreign) == {"notes.txt": b"mine"}
    manifest = tmp_path / "other-manifest"
    manifest.mkdir()
    (manifest / MANIFEST).write_text('{"task": "something else"}')
    with pytest.raises(InputError, match="not an mnist-detection manifest"):
        make_mnist_detection(manifest, SMALL)


def test_a_folder_where_a_file_goes_is_refused_before_anything_is_written(tmp_path):
    out = tmp_path / "out"
    (out / "val" / "000002.png").mkdir(parents=True)
    with pytest.raises(InputError, match="it is a folder, not a regular file"):
        make_mnist_detection(out, SMALL)
    assert snapshot(out) == {} and not (out / "annotations").exists() and not (out / "train").exists()
    (out / "val" / "000002.png").rmdir()
    (out / "annotations").write_text("")
    with pytest.raises(InputError, match="is not a folder"):
        make_mnist_detection(out, SMALL)
    assert snapshot(out) == {"annotations": b""}


def test_an_unfinished_folder_is_completed(tmp_path, made):
    out = tmp_path / "out"
    (out / "train").mkdir(parents=True)
    (out / "train" / "000001.png").write_bytes(b"half")
    result = make_mnist_detection(out, SMALL)
    assert not result.reused and snapshot(out) == snapshot(made.folder)


def test_a_changed_finished_folder_is_refused_on_reuse(tmp_path):
    out = make_mnist_detection(tmp_path / "out", MnistDetectionOptions(images=2, val_images=1)).folder
    (out / "train" / "000002.png").unlink()
    with pytest.raises(InputError, match="was changed since .*000002.png' does not exist"):
        make_mnist_detection(out, MnistDetectionOptions(images=2, val_images=1))


# ---- the COCO reader -----------------------------------------------------------------------------------------

def coco_dict() -> dict:
    return {"images": [{"id": 1, "file_name": "a.png", "width": 100, "height": 80},
                       {"id": 2, "file_name": "b.png", "width": 50, "height": 50}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 3, "bbox": [10, 10, 30.5, 20], "area": 500},
                            {"id": 2, "image_id": 1, "category_id": 4, "bbox": [0, 0, 100, 80]},
                            {"id": 3, "image_id": 2, "category_id": 3, "bbox": [1, 2, 3, 4], "iscrowd": 1}],
            "categories": [{"id": 3, "name": "cat"}, {"id": 4, "name": "dog", "supercategory": "animal"}]}


def coco_folder(root: Path, data: dict, split: str = "val") -> Path:
    (root / "annotations").mkdir(parents=True)
    (root / split).mkdir()
    (root / "annotations" / f"instances_{split}.json").write_text(json.dumps(data))
    for image in data["images"]:
        Image.new("L", (image["width"], image["height"])).save(root / split / image["file_name"])
    return root


def test_reader_records_and_lookups(tmp_path):
    data = open_coco(coco_folder(tmp_path / "coco", coco_dict()), "val")
    assert data.image(1).file == "a.png" and data.image(2).width == 50
    assert [b.id for b in data.boxes_of(1)] == [1, 2] and data.boxes_of(2)[0].iscrowd == 1
    assert data.boxes_of(1)[0].xyxy == (10.0, 10.0, 40.5, 30.0) and data.boxes_of(1)[0].area == 500
    assert data.boxes_of(1)[1].area == 8000  # (no area given: w·h)
    assert data.category(4).supercategory == "animal" and data.category_ids == (3, 4)
    assert data.path(2) == tmp_path / "coco" / "val" / "b.png"
    assert data.counts() == {"images": 2, "boxes": 3, "categories": 2, "small": 2, "medium": 1, "large": 0}
    assert coco_set(data.to_coco()).boxes == data.boxes


def _broken(change) -> dict:
    data = coco_dict()
    change(data)
    return data


BAD_COCO = [
    (lambda d: d.pop("categories"), "not COCO instances JSON: no 'categories'"),
    (lambda d: d.update(images={}), "not COCO instances JSON: a non-list 'images'"),
    (lambda d: d["annotations"][0].update(bbox=[90, 10, 30, 20]), r"box \[90, 10, 30, 20\] outside its 100 × 80"),
    (lambda d: d["annotations"][0].update(bbox=[-5, 10, 30, 20]), "outside its"),
    (lambda d: d["annotations"][0].update(bbox=[10, 10, 0, 20]), "non-positive size 0 × 20 px"),
    (lambda d: d["annotations"][0].update(bbox=[10, 10, 5, -1]), "non-positive size"),
    (lambda d: d["annotations"][0].update(bbox=[10, 10, 5]), "needs bbox"),
    (lambda d: d["annotations"][0].update(category_id=9), r"category_id 9, which is not among the categories \(3, 4\)"),
    (lambda d: d["annotations"][0].update(image_id=7), "names image 7, which is not among the images"),
    (lambda d: d["annotations"][1].update(id=1), "duplicate annotation id 1"),
    (lambda d: d["images"][1].update(id=1), "duplicate image id 1"),
    (lambda d: d["categories"][1].update(id=3), "duplicate category id 3"),
    (lambda d: d["categories"][1].update(name="cat"), "duplicate category name 'cat'"),
    (lambda d: d["images"][0].update(width=0), "width 0; it must be a whole number >= 1"),
    (lambda d: d["images"][0].update(file_name="../a.png"), "leaves the image folder"),
    (lambda d: d["images"][0].update(file_name="/etc/passwd"), "leaves the image folder"),
    (lambda d: d["annotations"][0].update(iscrowd=2), "iscrowd 2"),
]


@pytest.mark.parametrize(("change", "message"), BAD_COCO)
def test_bad_coco_json_is_one_input_error(tmp_path, change, message):
    path = tmp_path / "instances.json"
    path.write_text(json.dumps(_broken(change)))
    with pytest.raises(InputError, match=message) as error:
        read_coco(path)
    assert "\n" not in str(error.value) and str(path) in str(error.value)


def test_missing_image_file_and_folder_problems(tmp_path):
    root = coco_folder(tmp_path / "coco", coco_dict())
    (root / "val" / "b.png").unlink()
    with pytest.raises(InputError, match="image 2's file 'b.png' does not exist"):
        open_coco(root, "val")
    assert len(open_coco(root, "val", check_files=False).images) == 2
    with pytest.raises(InputError, match="has no train split"):
        open_coco(root, "train")
    with pytest.raises(InputError, match="does not exist"):
        open_coco(tmp_path / "nowhere", "val")
    with pytest.raises(InputError, match="split must be a simple name"):
        open_coco(root, "../val")


def test_not_json_not_an_object_and_oversized(tmp_path, monkeypatch):
    path = tmp_path / "instances.json"
    path.write_text("{")
    with pytest.raises(InputError, match="is not valid JSON"):
        read_coco(path)
    path.write_text("[1, 2]")
    with pytest.raises(InputError, match="not COCO instances JSON"):
        read_coco(path)
    big = coco_dict()
    big["images"] += [{"id": 100 + i, "file_name": f"{i:07d}.png", "width": 64, "height": 64} for i in range(80_000)]
    path.write_text(json.dumps(big))
    assert path.stat().st_size > MAX_FILE_BYTES  # an instances JSON may be larger than an arch file
    assert len(read_coco(path).images) == 80_002
    monkeypatch.setattr("detectors.data.coco.MAX_DATA_FILE_BYTES", 4 * 2**20)
    with pytest.raises(InputError, match="larger than 4 MiB"):
        read_coco(path)


# ---- the CLI ---------------------------------------------------------------------------------------------------

def test_cli_make_and_check(run_cli, tmp_path):
    out = tmp_path / "data"
    code, stdout, stderr = run_cli("data", "make", "mnist-detection", "--out", out, "--images", "3", "--seed", "2")
    assert code == 0 and stderr == "" and f"wrote {out}" in stdout and "train" in stdout
    code, stdout, _ = run_cli("data", "make", "mnist-detection", "--out", out, "--images", "3", "--seed", "2",
                              "--json")
    summary = json.loads(stdout)
    assert code == 0 and summary["reused"] and summary["splits"]["train"]["images"] == 3
    assert summary["splits"]["val"]["images"] == 1 and summary["options"]["seed"] == 2
    code, stdout, _ = run_cli("data", "check", out, "--json")
    assert code == 0 and json.loads(stdout)["splits"]["val"]["images"] == 1
    code, stdout, _ = run_cli("data", "check", out, "--split", "train")
    assert code == 0 and "valid COCO detection data" in stdout and "val " not in stdout


@pytest.mark.parametrize(("args", "message"), [
    (["data", "make", "mnist-detection", "--out", "{out}", "--images", "3", "--seed", "5"], "made with seed=2"),
    (["data", "make", "mnist-detection", "--out", "{out}/manifest.json"], "is a file, not a folder"),
    (["data", "make", "mnist-detection", "--out", "{tmp}/x", "--images", "0"], "--images must be in 1..60000"),
    (["data", "make", "mnist-detection", "--out", "{tmp}/x", "--images", "many"], "invalid int value"),
    (["data", "make", "cifar-detection", "--out", "{tmp}/x"], "invalid choice"),
    (["data", "make", "mnist-detection"], "--out"),
    (["data", "check", "{tmp}/missing"], "does not exist"),
    (["data", "check", "{tmp}"], "has no annotations/instances_SPLIT.json"),
    (["data", "check", "{out}", "--split", "test"], "has no test split"),
])
def test_cli_bad_input_exits_2_in_one_line(run_cli, tmp_path, args, message):
    out = tmp_path / "data"
    assert run_cli("data", "make", "mnist-detection", "--out", out, "--images", "3", "--seed", "2")[0] == 0
    before = snapshot(tmp_path)
    code, stdout, stderr = run_cli(*(a.format(out=out, tmp=tmp_path) for a in args))
    assert code == 2 and stderr.startswith("effnas: error: ") and message in stderr
    assert stderr.count("\n") == 1
    assert snapshot(tmp_path) == before  # nothing written
