import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import os

import pytest
import torch

os.environ.setdefault("RAY_DEDUP_LOGS", "0")
torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture
def run_cli(capsys):
    """Run `effnas ARGS...` in-process; returns (exit code, stdout, stderr)."""
    from effnas.cli import main

    def run(*args: str):
        code = main([str(a) for a in args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run
