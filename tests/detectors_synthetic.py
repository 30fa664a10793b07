"""Synthetic detection data for the detector tests: coloured rectangles on noise."""

from __future__ import annotations

import torch

COLOURS = torch.tensor([[1.0, -1.0, -1.0], [-1.0, 1.0, -1.0], [-1.0, -1.0, 1.0]])


def rectangles(count: int, size: int = 128, per_image: int = 2, seed: int = 0):
    """`count` images N×3×size×size (noise σ=0.3) with `per_image` solid rectangles each;
    targets: (boxes x1 y1 x2 y2 pixels, classes = colour index)."""
    generator = torch.Generator().manual_seed(seed)
    images = 0.3 * torch.randn(count, 3, size, size, generator=generator)
    targets = []
    for index in range(count):
        boxes, classes = [], []
        for _ in range(per_image):
            w, h = torch.randint(size // 5, size // 2, (2,), generator=generator).tolist()
            x, y = torch.randint(0, size - w, (1,), generator=generator).item(), \
                torch.randint(0, size - h, (1,), generator=generator).item()
            colour = torch.randint(0, len(COLOURS), (1,), generator=generator).item()
            images[index, :, y:y + h, x:x + w] = COLOURS[colour][:, None, None]
            boxes.append([x, y, x + w, y + h])
            classes.append(colour)
        targets.append((torch.tensor(boxes, dtype=torch.float32), torch.tensor(classes)))
    return images, targets


def tiny_detector(num_classes: int = 3, size: int = 128, **overrides):
    """A D0-like narrow detector: B0 at width 0.25, one layer per stage, W=32, 2 BiFPN/head repeats."""
    from detectors import efficientdet
    from search_spaces import load_arch

    backbone = load_arch("efficientnet-b0").scaled(width=0.25, depth=0.25).with_(name="b0-tiny", drop_connect=0.0)
    settings = dict(fpn_filters=32, fpn_repeats=2, head_repeats=2, image_size=size)
    settings.update(overrides)
    return efficientdet(0, backbone=backbone, num_classes=num_classes, **settings)
