"""Option values typed on a command line, parsed one way for every command.

``KEY=VALUE`` (``--eval-opt``, ``--strategy-opt``, ``--scheduler-opt``, ``--opt``, ``--set``): the key
and value are stripped; the value is read as JSON when it parses (``3``, ``0.5``, ``true``, ``[1, 2]``,
``"x"``) and kept as a string otherwise (``epochs=2`` → 2, ``dataset=mnist`` → "mnist"). ``--config``
items may also be a JSON object or a JSON file. A later item overrides an earlier one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any

from search_spaces import InputError
from search_spaces.readers import parse_json_text, read_json_file


def parse_value(text: str) -> Any:
    """A value as typed: JSON when it parses, else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_pair(item: str, flag: str) -> tuple[str, Any]:
    """One ``KEY=VALUE``: (key, value); InputError without an '=' or with an empty key."""
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise InputError(f"{flag} expects KEY=VALUE, got {item!r}")
    return key.strip(), parse_value(value.strip())


def parse_pairs(items: Iterable[str], flag: str) -> dict[str, Any]:
    """Repeated ``KEY=VALUE`` items merged into one mapping (the last of a key wins)."""
    return dict(parse_pair(item, flag) for item in items)


def parse_config(items: Iterable[str], what: str = "--config") -> dict[str, Any]:
    """``--config`` items merged: JSON objects, JSON files, or ``KEY=VALUE``."""
    config: dict[str, Any] = {}
    for item in items:
        text = item.strip()
        if text.startswith("{"):
            data = parse_json_text(text, f"{what} JSON")
        elif text.endswith(".json") or os.path.isfile(text):
            data = read_json_file(text, what)
        elif "=" in text:
            data = dict([parse_pair(text, what)])
        else:
            raise InputError(f"{what} items are JSON objects, JSON files or key=value, got {item!r}")
        if not isinstance(data, dict):
            raise InputError(f"{what} {item!r} must give a JSON object")
        config.update(data)
    return config
