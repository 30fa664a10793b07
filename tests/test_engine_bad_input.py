"""Bad input across the whole CLI and JOB.toml: exit 2, one clear line, no traceback."""

import pytest
from bad_input_cases import CASES, prepare


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("bad")
    prepare(path)
    return path


@pytest.mark.parametrize("what, argv, fragment", CASES, ids=[c[0] for c in CASES])
def test_bad_input(run_cli, folder, what, argv, fragment):
    code, out, err = run_cli(*[a.replace("{tmp}", str(folder)) for a in argv])
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, f"{what}: exit {code}, stderr {err!r}"
    assert len(lines) == 1 and "Traceback" not in err, err
    assert fragment in lines[0], lines[0]
