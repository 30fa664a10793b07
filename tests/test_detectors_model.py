"""EfficientDet model: configs, shapes, anchors, boxes, matching, loss, training step, detect, NMS."""

import math

import pytest
import torch
from detectors_synthetic import rectangles, tiny_detector

from detectors import RELEASED, anchor_boxes, detector_cost, efficientdet, from_phi, get_config, released
from detectors.backbone import REQUIRED_STRIDES, pyramid_stages
from detectors.boxes import box_iou, decode, encode
from detectors.loss import match_anchors
from detectors.postprocess import batched_nms, postprocess
from search_spaces import InputError, load_arch


def test_d0_shapes_at_512_and_49104_anchors():
    with torch.device("meta"):
        model = efficientdet("d0")
        class_out, box_out = model(torch.empty(2, 3, 512, 512))
    sizes = [512 // 2 ** level for level in range(3, 8)]
    assert [tuple(o.shape) for o in class_out] == [(2, 9 * 90, s, s) for s in sizes]
    assert [tuple(o.shape) for o in box_out] == [(2, 9 * 4, s, s) for s in sizes]
    assert sum(o.shape[2] * o.shape[3] * 9 for o in class_out) == 49_104
    assert anchor_boxes(512, 512).shape == (49_104, 4)


def test_anchor_geometry():
    anchors = anchor_boxes(128, 128, 3, 7)
    first = anchors[:9]                                   # P3, location (4, 4), 9 configs
    centres = (first[:, :2] + first[:, 2:]) / 2
    assert torch.allclose(centres, torch.tensor([4.0, 4.0]).expand(9, 2))
    sizes = first[:, 2:] - first[:, :2]                   # anchor scale 4 x stride 8 = 32 px at octave 0
    assert torch.allclose(sizes[0], torch.tensor([32.0, 32.0]))
    assert torch.allclose(sizes[1], torch.tensor([32 * 1.4, 32 * 0.7]))
    assert torch.allclose(sizes[3], torch.tensor([32.0, 32.0]) * 2 ** (1 / 3))
    assert torch.allclose(anchors[9, :2] - anchors[0, :2], torch.tensor([8.0, 0.0]))  # next x along the row


def test_released_configs_and_formulas():
    d7x = released("d7x")
    assert (d7x.image_size, d7x.fpn_filters, d7x.max_level, d7x.anchor_scale, d7x.fusion) == (1536, 384, 8, 4.0, "sum")
    assert released("d7").anchor_scale == 5.0 and released("d5").fusion == "fastattn"
    row = RELEASED["d2"]                                  # named frozen records, not positional tuples
    assert (row.phi, row.image_size, row.backbone, row.fpn_filters, row.fpn_repeats, row.head_repeats) == (
        2, 768, "efficientnet-b2", 112, 5, 3)
    with pytest.raises(AttributeError):
        row.fpn_filters = 120
    assert [released(name).name for name in RELEASED] == [f"efficientdet-{name}" for name in RELEASED]
    for phi in range(8):
        config = from_phi(phi)
        assert config.fpn_filters % 8 == 0 and abs(config.fpn_filters - 64 * 1.35 ** phi) <= 4
        assert (config.fpn_repeats, config.head_repeats, config.image_size) == (3 + phi, 3 + phi // 3, 512 + 128 * phi)
    assert [from_phi(p).fpn_filters for p in range(4)] == [64, 88, 120, 160]
    assert from_phi(1.5).backbone == "efficientnet-b0@phi1.5" and get_config("2").fpn_filters == 120
    with pytest.raises(InputError, match=">= 0"):
        get_config(-1)
    with pytest.raises(InputError, match="unknown detector"):
        get_config("d8")


def test_d0_cost_matches_paper():
    cost = detector_cost("d0")                           # paper: 3.9M params, 2.54B MACs
    assert abs(cost.params / 3.9e6 - 1) < 0.03 and abs(cost.macs / 2.54e9 - 1) < 0.06


def test_phi_on_family_member_and_bad_backbones():
    member = {"phi": 0.5, "macs": 0, "arch": load_arch("mnasnet-a1").scaled(width=1.2, depth=1.1).to_dict()}
    with torch.device("meta"):
        model = efficientdet(1, backbone=member)
        class_out, _ = model(torch.empty(1, 3, 640, 640))
    assert model.config.backbone == "mnasnet-a1" and class_out[0].shape == (1, 810, 80, 80)
    shallow = load_arch(["r1_k3_s11_e1_i32_o16", "r2_k3_s22_e6_i16_o24", "r2_k5_s22_e6_i24_o40"])
    with pytest.raises(InputError, match="strides 8/16/32"):
        efficientdet(0, backbone=shallow)


def test_backbone_is_the_features_only_model_at_the_required_strides():
    """The detector's backbone: stem and stages only, returning the last map at each of REQUIRED_STRIDES
    (chosen from feature_info); one seed gives it the classifier's weights, its maps the classifier's."""
    arch = load_arch("efficientnet-b0").scaled(width=0.5, depth=0.5)
    torch.manual_seed(0)
    model = efficientdet(0, backbone=arch, num_classes=3, fpn_filters=16, fpn_repeats=1, head_repeats=1).eval()
    torch.manual_seed(0)
    classifier = arch.build().eval()
    backbone = model.backbone
    assert not any(hasattr(backbone, name) for name in ("head", "dropout", "classifier"))
    assert backbone.out_indices == pyramid_stages(arch.feature_strides, arch.name) == (2, 4, 6)
    assert tuple(backbone.feature_info[i].reduction for i in backbone.out_indices) == REQUIRED_STRIDES
    body = classifier.state_dict()
    assert all(torch.equal(value, body[key]) for key, value in backbone.state_dict().items())
    images = torch.randn(1, 3, 128, 128)
    with torch.no_grad():
        maps, expected = backbone(images), classifier.features(images)
    assert len(maps) == 3 and all(torch.equal(a, b) for a, b in zip(maps, expected, strict=True))
    assert [m.shape[1] for m in maps] == [backbone.feature_info[i].channels for i in backbone.out_indices]


def test_pyramid_stages_rule():
    assert pyramid_stages((2, 4, 8, 16, 16, 32, 32), "b0") == (2, 4, 6)   # the last stage at each stride
    assert pyramid_stages((2, 4, 8, 16, 32), "x") == (2, 3, 4)
    for reductions in [(2, 4, 8, 16), (2, 4, 16, 32), (2, 4, 8, 16, 32, 64)]:
        with pytest.raises(InputError, match="must end at stride 32 with features at strides 8/16/32"):
            pyramid_stages(reductions, "x")


def test_input_size_refused_or_padded():
    model = tiny_detector().eval()
    with pytest.raises(InputError, match="multiple of 2\\^7 = 128"):
        model(torch.randn(1, 3, 100, 100))
    with pytest.raises(InputError, match="N x 3 x H x W"):
        model(torch.randn(3, 128, 128))
    detections = model.detect(torch.randn(1, 3, 100, 120), score_threshold=0.0, pad=True)
    boxes = detections[0]["boxes"]
    assert len(boxes) > 0 and boxes[:, 2].max() <= 120 and boxes[:, 3].max() <= 100


def test_box_coder_round_trip_and_matching():
    anchors = anchor_boxes(128, 128)
    boxes = torch.tensor([[10.0, 20.0, 50.0, 90.0], [60.0, 60.0, 70.0, 66.0]])
    codes = encode(boxes[:1].expand(5, 4), anchors[:5])
    assert torch.allclose(decode(codes, anchors[:5]), boxes[:1].expand(5, 4), atol=1e-4)
    classes, targets = match_anchors(anchors, boxes, torch.tensor([2, 1]))
    iou = box_iou(anchors, boxes)
    assert torch.equal(classes >= 0, (iou.max(1).values >= 0.5) | torch.isin(torch.arange(len(anchors)), iou.argmax(0)))
    assert classes[iou[:, 1].argmax()] == 1            # small box: force-matched to its best anchor
    assert torch.all(targets[classes < 0] == 0)
    matched = classes >= 0
    best = iou.max(1).indices[matched]
    best[classes[matched] == 1] = 1
    assert torch.allclose(decode(targets[matched], anchors[matched]), boxes[best], atol=1e-3)


def test_training_step_runs_and_updates():
    torch.manual_seed(0)
    model = tiny_detector()
    images, targets = rectangles(2, 128)
    optimiser = torch.optim.SGD(model.parameters(), lr=0.01)
    losses = model.loss(images, targets)
    assert math.isfinite(losses["loss"].item()) and losses["num_positives"] > 0
    before = model.class_net.predict.pointwise.bias.detach().clone()
    optimiser.zero_grad()
    losses["loss"].backward()
    fusion_weight = next(iter(model.fpn.cells[0].fuse.values())).weight
    assert fusion_weight.grad is not None and fusion_weight.grad.abs().sum() > 0
    optimiser.step()
    assert not torch.equal(before, model.class_net.predict.pointwise.bias)
    with pytest.raises(InputError, match="class ids"):
        model.loss(images, [(targets[0][0], torch.tensor([0, 7])), targets[1]])


def test_nms_removes_duplicates_per_class():
    boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 10, 10], [0, 0, 10, 10], [50, 50, 60, 60]], dtype=torch.float32)
    scores = torch.tensor([0.9, 0.8, 0.7, 0.6])
    classes = torch.tensor([0, 0, 1, 0])
    keep = batched_nms(boxes, scores, classes, 0.5)
    assert keep.tolist() == [0, 2, 3]                  # duplicate of class 0 gone; class 1 kept
    assert batched_nms(boxes, scores, classes, 0.5, max_keep=2).tolist() == [0, 2]


def test_postprocess_gives_sane_detections():
    anchors = anchor_boxes(128, 128)
    shapes = [(128 // 2 ** level) for level in range(3, 8)]
    class_out = [torch.full((1, 9 * 3, s, s), -10.0) for s in shapes]
    box_out = [torch.zeros(1, 36, s, s) for s in shapes]
    class_out[0][0, 0 * 3 + 1, 5, 5] = 5.0             # anchor 0 at (5, 5), class 1
    class_out[0][0, 3 * 3 + 1, 5, 5] = 4.0             # anchor 3 (bigger, same centre): duplicate
    class_out[0][0, 0 * 3 + 2, 0, 0] = 3.0             # corner anchor, class 2: partly outside -> clipped
    results = postprocess(class_out, box_out, anchors, (128, 128), 3, score_threshold=0.5)[0]
    assert results["classes"].tolist() == [1, 2]
    assert torch.all(results["scores"][:-1] >= results["scores"][1:])
    assert torch.allclose(results["boxes"][0], torch.tensor([28.0, 28.0, 60.0, 60.0]))
    assert results["boxes"].min() >= 0 and results["boxes"].max() <= 128
