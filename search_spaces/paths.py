"""Input paths: one check that a named file or folder exists, with the message a user needs."""

from __future__ import annotations

import os

from .errors import InputError


def check_exists(path: str | os.PathLike, what: str) -> str:
    """`path` with ``~`` expanded; InputError if it is empty, missing, or a dangling symlink/loop."""
    text = os.fspath(path)
    if not text.strip():
        raise InputError(f"{what} is empty: name a file or folder")
    text = os.path.expanduser(text)
    if not os.path.exists(text):
        if os.path.islink(text):
            raise InputError(f"{what} {text!r} is a symbolic link to nothing (dangling, or a loop)")
        raise InputError(f"{what} {text!r} does not exist")
    return text
