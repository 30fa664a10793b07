"""Run folders: the one check of a run folder's path (:func:`run_folder`, :func:`named_folder`) and the
one way a command writes into one (:func:`open_run`: checked, created, locked).

A run folder is a folder, never a filesystem root; ``~`` is expanded (JOB.toml gets no shell);
a run name is one plain path component, so ``results/<name>`` stays inside ``results/``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from search_spaces import InputError

from .lock import RunLock


def run_folder(path: str | os.PathLike, what: str = "--out") -> Path:
    """`path` with ``~`` expanded; InputError for an empty path, a filesystem root, or something that
    exists (itself or a parent) and is not a folder. Nothing is created."""
    text = os.fspath(path)
    if not text.strip():
        raise InputError(f"{what} is empty; give a folder for the run, e.g. results/NAME")
    folder = Path(os.path.expanduser(text))
    real = Path(os.path.realpath(folder))
    if real.parent == real:
        raise InputError(f"{what} {text!r} is a filesystem root; give a folder for the run, e.g. results/NAME")
    existing = next((p for p in (real, *real.parents) if os.path.lexists(p)), None)
    if existing == real and not real.is_dir():
        raise InputError(f"{what} {text!r} exists and is not a folder")
    if existing is not None and not existing.is_dir():
        raise InputError(f"{what} {text!r} cannot be made: {str(existing)!r} is not a folder")
    return folder


def run_name(name: str, what: str = "run name") -> str:
    """`name` if it is one plain folder name (no separator, not '.' or '..'), else InputError."""
    if (not name.strip() or name in (".", "..") or "/" in name or "\\" in name or "\0" in name
            or name.startswith("~")):
        raise InputError(f"{what} must be a plain folder name (no '/', '..' or '~'), got {name!r}")
    return name


def named_folder(parent: str | os.PathLike, name: str, what: str = "run name") -> Path:
    """The run folder `parent/name`, `name` checked to stay inside `parent`."""
    return run_folder(Path(parent) / run_name(name, what), what)


@contextmanager
def open_run(path: str | os.PathLike, what: str = "--out") -> Iterator[Path]:
    """Check `path`, create it and hold its lock while the body writes into it. A folder this call
    created is removed again if the body fails before writing anything into it."""
    folder = run_folder(path, what)
    created = _missing_ancestors(folder)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with RunLock(folder):
            yield folder
    except BaseException:
        _remove_empty(created)
        raise


def _missing_ancestors(folder: Path) -> list[Path]:
    """`folder` and its parents that do not exist yet, deepest first."""
    missing = []
    for path in (folder, *folder.absolute().parents):
        if os.path.lexists(path):
            break
        missing.append(path)
    return missing


def _remove_empty(folders: list[Path]) -> None:
    for path in folders:
        try:
            path.rmdir()
        except OSError:
            return
