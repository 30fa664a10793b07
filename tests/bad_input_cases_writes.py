"""Bad inputs of issue 13: atomic writes, run folders, locks, resume integrity. Same format as bad_input_cases.py."""

CASES: list[tuple[str, list[str], str]] = [
    # (what, argv, a fragment the one-line answer must contain)
]


def prepare(folder) -> None:
    """Write the files these cases refer to into `folder` (a pathlib.Path)."""
