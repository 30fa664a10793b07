"""The one reader of user files (JSON and TOML): bounded size, strict UTF-8, bounded nesting, finite numbers.

Every problem is an InputError naming the file: a missing or unreadable file, one larger than
MAX_FILE_BYTES (at most that many bytes plus one are read, so /dev/zero is refused at once), bytes
that are not UTF-8, syntax errors, nesting deeper than MAX_NESTING, NaN/Infinity or numbers out of
the float range (unless ``finite=False``), and integers too long to convert.
"""

from __future__ import annotations

import json
import math
import os
import re
import tomllib
from collections.abc import Callable
from typing import Any

from .bounds import MAX_FILE_BYTES, MAX_KEY_PARTS, MAX_NESTING
from .errors import InputError

# a dotted TOML key (at a line start, in a [header] or an inline table) of more than MAX_KEY_PARTS parts
_PART = r"""(?:[A-Za-z0-9_-]++|"[^"\n]*+"|'[^'\n]*+')"""
_LONG_KEY = re.compile(rf"(?:^|[{{,\[])[ \t]*+{_PART}(?:[ \t]*+\.[ \t]*+{_PART}){{{MAX_KEY_PARTS}}}", re.MULTILINE)


def read_text_file(path: str | os.PathLike, what: str, *, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The UTF-8 text of the file at `path` (at most `max_bytes`); `what` names it in errors."""
    name = f"{what} file {os.fspath(path)!r}"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO without a writer must not hang the open
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputError(f"cannot read {name}: it does not exist") from None
    except OSError as error:
        raise InputError(f"cannot read {name}: {error.strerror or error}") from None
    if len(data) > max_bytes:
        raise InputError(f"{name} is larger than {max_bytes // 2**20} MiB, the limit for input files")
    try:
        return data.decode("utf-8-sig")  # a leading byte-order mark is not part of the text
    except UnicodeDecodeError as error:
        raise InputError(f"{name} is not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start}); "
                         "is it a binary file?") from None


def _check_length(text: str, source: str, max_bytes: int = MAX_FILE_BYTES) -> None:
    if len(text) > max_bytes:
        raise InputError(f"{source} is longer than {max_bytes // 2**20} MiB, the limit for input text")


def _too_deep(source: str) -> InputError:
    return InputError(f"{source} nests lists/objects/tables deeper than {MAX_NESTING} levels")


def _check_nesting(data: Any, source: str) -> None:
    """Refuse more than MAX_NESTING lists/objects inside each other (walked without recursion)."""
    stack = [(data, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            if level > MAX_NESTING:
                raise _too_deep(source)
            stack.extend((value, level + 1) for value in (item.values() if isinstance(item, dict) else item))


def _finite_float(source: str):
    def parse(text: str) -> float:
        value = float(text)
        if not math.isfinite(value):
            raise InputError(f"{source} holds the number {text!r}, which is not finite (NaN, Infinity and "
                             "numbers beyond 1.8e308 are refused)")
        return value
    return parse


def _parse(loads: Callable[[], Any], source: str, kind: str, errors: tuple[type[Exception], ...]) -> Any:
    """Run a parser; its syntax errors, deep nesting and oversized numbers become one InputError."""
    try:
        data = loads()
    except InputError:
        raise
    except errors as error:
        detail = f"{error.msg} at line {error.lineno}" if isinstance(error, json.JSONDecodeError) else str(error)
        raise InputError(f"{source} is not valid {kind}: {detail}") from None
    except RecursionError:
        raise _too_deep(source) from None
    except ValueError as error:  # e.g. an integer of more than 4300 digits
        raise InputError(f"{source} is not valid {kind}: {error}") from None
    _check_nesting(data, source)
    return data


def parse_json_text(text: str, source: str, *, finite: bool = True, max_bytes: int = MAX_FILE_BYTES) -> Any:
    """Parse JSON text (at most `max_bytes` characters); `source` (e.g. "architecture JSON") starts every error."""
    _check_length(text, source, max_bytes)
    hooks = {"parse_float": _finite_float(source), "parse_constant": _finite_float(source)} if finite else {}
    return _parse(lambda: json.loads(text, **hooks), source, "JSON", (json.JSONDecodeError,))


def parse_toml_text(text: str, source: str) -> dict[str, Any]:
    """Parse TOML text; `source` (e.g. "job 'JOB.toml'") starts every error message."""
    _check_length(text, source)
    if _LONG_KEY.search(text):
        raise InputError(f"{source} has a dotted key of more than {MAX_KEY_PARTS} parts")
    return _parse(lambda: tomllib.loads(text, parse_float=_finite_float(source)), source, "TOML",
                  (tomllib.TOMLDecodeError,))


def read_json_file(path: str | os.PathLike, what: str = "JSON", *, finite: bool = True,
                   max_bytes: int = MAX_FILE_BYTES) -> Any:
    """Parse the JSON file at `path` (at most `max_bytes`); each problem is an InputError naming `what`, the path."""
    return parse_json_text(read_text_file(path, what, max_bytes=max_bytes), f"{what} file {os.fspath(path)!r}",
                           finite=finite, max_bytes=max_bytes)


def read_toml_file(path: str | os.PathLike, what: str = "TOML") -> dict[str, Any]:
    """Parse the TOML file at `path`; every problem is an InputError naming `what` and the path."""
    return parse_toml_text(read_text_file(path, what), f"{what} file {os.fspath(path)!r}")
