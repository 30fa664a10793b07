"""JSON files: atomic writes (temp file in the same folder, fsync, rename over the target), and
reads that turn a missing or malformed file into one clear InputError."""

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .errors import InputError


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write `text` to `path` so that readers see either the old file or the whole new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def write_json_atomic(path: str | os.PathLike, obj: Any) -> Path:
    """Atomically write `obj` as indented JSON (with a trailing newline)."""
    return write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def read_json_file(path: str | os.PathLike, what: str = "JSON") -> Any:
    """Parse the JSON file at `path`; unreadable or invalid files raise InputError naming `what`."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except OSError as error:
        raise InputError(f"cannot read {what} file {str(path)!r}: {error.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        detail = f"{error.msg} at line {error.lineno}" if isinstance(error, json.JSONDecodeError) else str(error)
        raise InputError(f"{what} file {str(path)!r} is not valid JSON: {detail}") from None
