"""The run folder: config.json, trials.jsonl (append + fsync per finished trial), best.json.

trials.jsonl holds one JSON object per finished trial, written whole and fsynced as soon as the
trial finishes. On reading, a truncated *last* line (a driver killed mid-write) is dropped and
the file rewritten without it (that trial is re-run); an unreadable line anywhere else is
corruption and raises InputError naming the line, and so is a trial id recorded twice (two runs
wrote the folder at once). Other files are written atomically.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from search_spaces import InputError
from search_spaces.atomic import append_bytes, write_json_atomic, write_text_atomic
from search_spaces.readers import read_json_file

CONFIG, TRIALS, BEST, STATE = "config.json", "trials.jsonl", "best.json", "strategy.pt"
HELD = "generation.jsonl"  # a synchronous search's finished trials waiting for a lower id (nas.schedules)


def _refuse_repeats(path: Path, rows: list[dict[str, Any]]) -> None:
    """A trial id appears once: a repeat means two runs wrote the ledger at once (InputError)."""
    first: dict[str, int] = {}
    for number, row in enumerate(rows, start=1):
        key = str(row["trial"])
        if key in first:
            raise InputError(f"{path}: trial {key!r} is recorded twice (rows {first[key]} and {number}), so two "
                             "runs wrote this folder at once; resume from a copy without the repeats, or start a "
                             "new run folder")
        first[key] = number


class Ledger:
    """Append-only record of finished trials in `out_dir` (created on first write); `name`: the
    file (trials.jsonl; generation.jsonl for the rows a synchronous search holds back)."""

    def __init__(self, out_dir: str | os.PathLike, name: str = TRIALS) -> None:
        self.dir = Path(out_dir)
        self.path = self.dir / name

    # ---------------------------------------------------------------- reading
    def read(self, repair: bool = True) -> list[dict[str, Any]]:
        """Finished rows in order; drops (and, if `repair`, removes) a truncated last line."""
        if not self.path.exists():
            return []
        raw = self.path.read_bytes()
        lines = raw.split(b"\n")
        rows: list[dict[str, Any]] = []
        dropped = False
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                if not isinstance(row, dict) or "trial" not in row:
                    raise ValueError("not a trial record")
            except ValueError:
                is_last = all(not rest.strip() for rest in lines[number:])
                if is_last and not raw.endswith(b"\n"):
                    dropped = True
                    break
                raise InputError(f"{self.path}: line {number} is corrupt (not a trial record); "
                                 "fix or remove it to resume") from None
            rows.append(row)
        _refuse_repeats(self.path, rows)
        if dropped and repair:
            write_text_atomic(self.path, "".join(json.dumps(r) + "\n" for r in rows))
        return rows

    # ---------------------------------------------------------------- writing
    def append(self, row: dict[str, Any]) -> None:
        """Write one finished trial as a single line and fsync it."""
        self.dir.mkdir(parents=True, exist_ok=True)
        append_bytes(self.path, (json.dumps(row, allow_nan=True) + "\n").encode())

    def remove(self) -> None:
        """Delete the file (a synchronous search's held rows, once all are in trials.jsonl)."""
        self.path.unlink(missing_ok=True)

    def write_json(self, name: str, obj: Any) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.dir / name, obj)

    def read_json(self, name: str) -> Any | None:
        path = self.dir / name
        if not path.exists():
            return None
        data = read_json_file(path, name)
        if not isinstance(data, dict):
            raise InputError(f"{path} is not a JSON object; it was not written by effnas")
        return data
