"""`effnas run JOB.toml`: search → grid → family → train → detectors in one run folder, resumable.

Each stage reads the previous stage's file (best.json → coefficients.json → family.json →
detectors.json) or the input the job gives instead. ``state.json`` records finished stages; a
re-run skips them, a stage killed mid-way continues from its own ledger (search/ and grid/ keep
trials.jsonl), and ``--from STAGE`` redoes that stage and everything after it. A lock file
refuses two runs writing the same folder at once. All stages share one Ray session (started or
joined by the first stage that needs Ray, shut down at the end, on Ctrl+C and on SIGTERM).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from search_spaces import InputError
from search_spaces.atomic import write_json_atomic
from search_spaces.readers import read_json_file

from . import stages
from .jobs import STAGES, Job
from .report import write_report
from .runfolder import open_run, run_folder

STATE_SCHEMA = "effnas.run/1"
Log = Callable[[str], None]


def job_fingerprint(job: Job) -> str:
    """Hash of what the job computes (its sections), not of how it runs."""
    # (a job without [train] keeps the fingerprint it had before the stage existed)
    sections = {s: job.sections.get(s) for s in STAGES if s != "train" or job.sections.get(s) is not None}
    text = json.dumps(sections, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Pipeline:
    """Runs a Job's stages in its run folder (``job.out``)."""

    def __init__(self, job: Job, from_stage: str | None = None, log: Log | None = None,
                 progress: stages.Progress | None = None) -> None:
        if from_stage is not None and from_stage not in STAGES:
            raise InputError(f"--from must be one of {', '.join(STAGES)}, got {from_stage!r}")
        if from_stage is not None and from_stage not in job.stages():
            raise InputError(f"--from {from_stage}: the job has no [{from_stage}] stage")
        self.job, self.from_stage = job, from_stage
        self.folder = run_folder(job.out, "run folder")
        self.log = log or (lambda message: None)
        self.progress = progress

    # ------------------------------------------------------------------ state
    @property
    def state_path(self) -> Path:
        return self.folder / "state.json"

    def _load_state(self) -> dict[str, Any]:
        if not self.state_path.exists():
            return {"schema": STATE_SCHEMA, "fingerprint": job_fingerprint(self.job), "done": {}}
        state = read_json_file(self.state_path, "run state")
        if not (isinstance(state, dict) and state.get("schema") == STATE_SCHEMA
                and isinstance(state.get("fingerprint"), str) and isinstance(state.get("done"), dict)):
            raise InputError(f"{self.state_path} is not an effnas run state (schema {STATE_SCHEMA} with a "
                             "fingerprint and the stages done); remove it to start the run again")
        return state

    def _check_folder(self, state: dict[str, Any]) -> None:
        if state["fingerprint"] != job_fingerprint(self.job) and self.from_stage is None:
            raise InputError(f"run folder {str(self.folder)!r} holds a run of a different job; use another "
                             "[job] out, or --from STAGE to redo from a stage")

    def _forget_from(self, state: dict[str, Any], stage: str) -> None:
        """Drop the stage and all later ones: their state, ledgers and output files."""
        for later in STAGES[STAGES.index(stage):]:
            state["done"].pop(later, None)
            for name in stages.OUTPUTS[later]:
                path = self.folder / name
                if path.is_dir():
                    shutil.rmtree(path)
                elif path.exists():
                    path.unlink()

    # ------------------------------------------------------------------ run
    def run(self) -> dict[str, Any]:
        state = self._load_state()
        self._check_folder(state)
        redo = set(STAGES[STAGES.index(self.from_stage):]) if self.from_stage else set()
        context = stages.Context(job=self.job, folder=self.folder, log=self.log, progress=self.progress)
        for stage in self.job.stages():  # refuse bad input before anything is written
            if stage in stages.CHECKS and (stage not in state["done"] or stage in redo):
                stages.CHECKS[stage](context, stage in redo)
        from nas.runners.ray_runner import session

        with open_run(self.folder, "run folder"), session():
            state = self._load_state()
            if self.from_stage is not None:
                self._forget_from(state, self.from_stage)
            state["fingerprint"] = job_fingerprint(self.job)
            write_json_atomic(self.state_path, state)
            for stage in self.job.stages():
                if stage in state["done"] and stages.finished(self.folder, stage):
                    self.log(f"[{stage}] already finished, skipped")
                    continue
                self.log(f"[{stage}] running")
                start = time.monotonic()
                summary = stages.STAGE_FUNCTIONS[stage](context)
                state["done"][stage] = {"seconds": round(time.monotonic() - start, 2), **summary}
                write_json_atomic(self.state_path, state)
                write_report(self.folder, self.job.name)
            report = write_report(self.folder, self.job.name)
            return {"out": str(self.folder), "report": str(report), "stages": state["done"]}
