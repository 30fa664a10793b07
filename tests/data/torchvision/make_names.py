"""Regenerate the torchvision state_dict name/shape lists in this folder.

The models come from reference_models.py beside this file: torchvision 0.29.1's model code (wheel
torchvision-0.29.1-cp311-cp311-manylinux_2_28_x86_64.whl, git 1f1a920d685d46dfbe187934b785b7ecb7a182f2),
copied with its class structure and attribute names, which are the point.

Running ``python tests/data/torchvision/make_names.py`` (needs only torch) writes, for resnet18/34/50/101/152 and
efficientnet_v2_s/m/l with torchvision's default arguments (1000 classes, weights=None), ``<model>.json``:
{"model": ..., "torchvision": "0.29.1", "params": <sum of numel of parameters()>,
"state_dict": [[name, [shape...]], ...]} in state_dict order, buffers included.
"""

import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference_models import (  # noqa: E402
    efficientnet_v2_l,
    efficientnet_v2_m,
    efficientnet_v2_s,
    resnet18,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
)

TORCHVISION_VERSION = "0.29.1"

# torchvision's published num_params (weights meta in resnet.py / efficientnet.py), used as a check.
PUBLISHED_PARAMS = {
    "resnet18": 11689512,
    "resnet34": 21797672,
    "resnet50": 25557032,
    "resnet101": 44549160,
    "resnet152": 60192808,
    "efficientnet_v2_s": 21458488,
    "efficientnet_v2_m": 54139356,
    "efficientnet_v2_l": 118515272,
}

MODELS = {
    "resnet18": resnet18,
    "resnet34": resnet34,
    "resnet50": resnet50,
    "resnet101": resnet101,
    "resnet152": resnet152,
    "efficientnet_v2_s": efficientnet_v2_s,
    "efficientnet_v2_m": efficientnet_v2_m,
    "efficientnet_v2_l": efficientnet_v2_l,
}


def main() -> None:
    out_dir = Path(__file__).resolve().parent
    for name, builder in MODELS.items():
        with torch.device("meta"):  # shapes only: no memory, no weight init cost
            model = builder()
        params = sum(p.numel() for p in model.parameters())
        if params != PUBLISHED_PARAMS[name]:
            raise SystemExit(f"{name}: {params} parameters, torchvision publishes {PUBLISHED_PARAMS[name]}")
        record = {
            "model": name,
            "torchvision": TORCHVISION_VERSION,
            "params": params,
            "state_dict": [[key, list(t.shape)] for key, t in model.state_dict().items()],
        }
        path = out_dir / f"{name}.json"
        path.write_text(json.dumps(record, separators=(",", ":")) + "\n")
        print(f"{path.name}: {params} params, {len(record['state_dict'])} entries")


if __name__ == "__main__":
    main()
