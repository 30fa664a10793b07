"""Results are never unpickled; weights load with weights_only=True (a scan of the product code)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("search_spaces", "nas", "scaling", "detectors", "effnas")


def _sources():
    for package in PACKAGES:
        yield from (ROOT / package).rglob("*.py")


def test_no_plain_pickle_loads():
    offenders = [str(p) for p in _sources() if re.search(r"\bpickle\.loads?\(|cPickle|dill\.load", p.read_text())]
    # the numpy-only restricted unpickler is the one allowed reader of pickled data files
    assert all("safe_pickle" in p for p in offenders), offenders


def test_torch_load_always_weights_only():
    for path in _sources():
        for match in re.finditer(r"torch\.load\(([^)]*)\)", path.read_text()):
            assert "weights_only=True" in match.group(1), f"{path}: {match.group(0)}"
