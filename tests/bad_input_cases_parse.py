"""Bad inputs of issue 13: block strings, arch/family/job file readers, numeric bounds."""

CASES: list[tuple[str, list[str], str]] = [
    # (what, argv, a fragment the one-line answer must contain)
]


def prepare(folder) -> None:
    """Write the files these cases refer to into `folder` (a pathlib.Path)."""
