"""Regenerate, or check, the command outputs shown in README.md.

    python docs/readme_outputs.py                  # rewrite the fast blocks of README.md
    python docs/readme_outputs.py --slow           # ... and the slow ones (minutes of training)
    python docs/readme_outputs.py --check [--slow] # exit 1 listing blocks whose output differs or whose command fails
    python docs/readme_outputs.py --match TEXT     # only blocks with a command containing TEXT

A README block is regenerated only when an HTML comment marks it, on the line just before its fence:

    <!-- readme-output: fast -->
    ```text
    $ effnas arch show efficientnet-b0
    efficientnet-b0: width 1, ...
    ```

Lines beginning with ``$ `` are commands; the lines after one, up to the next command, are what it
printed (stdout and stderr as they interleave, trailing spaces and trailing blank lines dropped);
a blank line separates one command's output from the next command. ``fast`` blocks are analytic
commands (well under a second each; tests/test_readme.py checks them in the default suite);
``slow`` blocks train networks (minutes) and are run only with ``--slow``.

Values that differ from run to run (wall-clock seconds, ETAs) are named in the marker, one regular
expression per ``vary:`` line::

    <!-- readme-output: slow
    vary: \\(\\d+\\.\\ds\\)
    vary: ETA \\S+
    -->

A rewrite writes what the run printed, measured values included; ``--check`` replaces every match
of a block's ``vary`` expressions by ``…`` in both the README and the fresh output before comparing
them, so a check compares everything but those values.

How the commands run: through ``bash -c`` with a fixed environment (PATH starting with this
repository's ``.venv/bin``, so ``effnas`` is the project's; COLUMNS=100, NO_COLOR=1, TERM=dumb,
C.UTF-8 locale, unbuffered Python; nothing else inherited but HOME, USER and TMPDIR), stdin from
/dev/null and no controlling terminal (a new session, output to a pipe), in one scratch folder per
invocation of this script (deleted afterwards) that links the repository paths the commands read
(``jobs/``), so relative paths in a command (``-o family.json``, ``--out results/b0-local``,
``jobs/local-demo.toml``) mean what they mean in the repository root without writing into it.
Blocks run in README order in that folder. Should an output print the scratch folder's or the
repository's absolute path, it is written as ``<scratch>`` / ``<repo>``. A command that exits
non-zero is a failure: its block is left as it is and the script exits 1.

The README is rewritten atomically (search_spaces.atomic) and only if a block changed.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
# Repository paths the README's commands read, linked into the scratch folder (add one when a
# README command reads another path relative to the repository root).
LINKS = ("jobs",)
# Pictures the README shows that a command block makes: (path in the scratch folder, path in the
# repository), copied after a rewrite run in which that file was made.
FIGURES = (("results/local-demo/search_pareto.png", "docs/images/demo-search-pareto.png"),)
KINDS = ("fast", "slow")
TIMEOUT_S = {"fast": 120, "slow": 3600}  # per command
MARKER = re.compile(r"^<!--\s*readme-output:\s*(?P<kind>\w+)\s*(?P<options>.*?)(?P<close>-->)?\s*$")
FENCE = re.compile(r"^(?P<fence>```+|~~~+)\s*(?P<lang>[\w+-]*)\s*$")
VARIED = "…"


@dataclass
class Command:
    line: int  # 1-based line of the "$ " line in the README
    command: str
    output: str  # as the README shows it


@dataclass
class Block:
    kind: str  # "fast" or "slow"
    vary: list[str]
    marker_line: int  # 1-based line of the marker
    start: int  # 0-based index of the first line inside the fence
    end: int  # 0-based index of the closing fence line
    commands: list[Command] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"README.md:{self.marker_line} ({self.kind}) " + " ; ".join(c.command for c in self.commands)

    def expected(self) -> str:
        return render([(c.command, c.output) for c in self.commands])


class ReadmeError(Exception):
    """A malformed marked block."""


# ---------------------------------------------------------------------------------------------- parsing


def fenced_blocks(text: str) -> Iterator[tuple[int, str, list[str]]]:
    """Every fenced code block: (0-based index of its opening fence, language, its lines)."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if match:
            fence = match["fence"]
            j = i + 1
            while j < len(lines) and not lines[j].startswith(fence):
                j += 1
            yield i, match["lang"], lines[i + 1:j]
            i = j + 1
        else:
            i += 1


def parse_blocks(text: str) -> list[Block]:
    """The marked command/output blocks of a README text."""
    lines = text.split("\n")
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        match = MARKER.match(lines[i])
        if not match:
            i += 1
            continue
        marker_line, kind = i + 1, match["kind"]
        if kind not in KINDS:
            raise ReadmeError(f"README.md:{marker_line}: readme-output kind {kind!r}, not one of {', '.join(KINDS)}")
        options = [match["options"]] if match["options"] else []
        if not match["close"]:
            while True:
                i += 1
                if i >= len(lines):
                    raise ReadmeError(f"README.md:{marker_line}: readme-output marker never closed (-->)")
                if lines[i].strip() == "-->":
                    break
                options.append(lines[i])
        vary = []
        for option in (o.strip() for o in options):
            if not option:
                continue
            key, _, value = option.partition(":")
            if key.strip() != "vary" or not value.strip():
                raise ReadmeError(f"README.md:{marker_line}: unknown option {option!r} (only vary: REGEX)")
            try:
                re.compile(value.strip())
            except re.error as error:
                raise ReadmeError(f"README.md:{marker_line}: vary {value.strip()!r}: {error}") from None
            vary.append(value.strip())
        i += 1
        fence = FENCE.match(lines[i]) if i < len(lines) else None
        if not fence:
            raise ReadmeError(f"README.md:{marker_line}: a readme-output marker must be followed by a code fence")
        start = i + 1
        end = start
        while end < len(lines) and not lines[end].startswith(fence["fence"]):
            end += 1
        if end >= len(lines):
            raise ReadmeError(f"README.md:{marker_line}: code block never closed")
        block = Block(kind, vary, marker_line, start, end)
        outputs: list[list[str]] = []
        for k in range(start, end):
            if lines[k].startswith("$ "):
                block.commands.append(Command(k + 1, lines[k][2:].strip(), ""))
                outputs.append([])
            elif outputs:
                outputs[-1].append(lines[k])
            elif lines[k].strip():
                raise ReadmeError(f"README.md:{k + 1}: output before the first '$ ' command")
        if not block.commands:
            raise ReadmeError(f"README.md:{marker_line}: a readme-output block without a '$ ' command")
        for command, output in zip(block.commands, outputs, strict=True):
            command.output = clean("\n".join(output))
        blocks.append(block)
        i = end + 1
    return blocks


def clean(output: str) -> str:
    """Trailing spaces of each line and leading/trailing blank lines dropped."""
    lines = [line.rstrip() for line in output.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines)


def render(pairs: list[tuple[str, str]]) -> str:
    """The inside of a block: each command's "$ " line and its output, a blank line between commands."""
    return "\n\n".join(f"$ {command}\n{output}" if output else f"$ {command}" for command, output in pairs)


def normalise(text: str, vary: list[str]) -> str:
    for pattern in vary:
        text = re.sub(pattern, VARIED, text)
    return text


# ---------------------------------------------------------------------------------------------- running


def venv_bin() -> Path:
    local = ROOT / ".venv" / "bin"
    return local if (local / "effnas").exists() else Path(sys.executable).parent


def environment() -> dict[str, str]:
    env = {key: os.environ[key] for key in ("HOME", "USER", "TMPDIR") if key in os.environ}
    bin_dir = venv_bin()
    env.update({
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin", "VIRTUAL_ENV": str(bin_dir.parent),
        "COLUMNS": "100", "LINES": "40", "NO_COLOR": "1", "TERM": "dumb", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8", "PYTHONHASHSEED": "0",
    })
    return env


class Scratch:
    """The scratch folder the commands run in (a context manager; removed on exit)."""

    def __enter__(self) -> Scratch:
        self.path = Path(tempfile.mkdtemp(prefix="readme-outputs-"))
        for name in LINKS:
            (self.path / name).symlink_to(ROOT / name)
        self.env = environment()
        return self

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def run(self, command: str, timeout: float) -> tuple[int, str]:
        """(exit status, output as the README shows it) of one command."""
        proc = subprocess.Popen(["bash", "--noprofile", "--norc", "-o", "pipefail", "-c", command], cwd=self.path,
                                env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            raw, _ = proc.communicate(timeout=timeout)
        except BaseException:  # a timeout or Ctrl+C: the command's whole process group goes
            _kill_group(proc)
            raise
        text = raw.decode("utf-8", errors="replace")
        for path, shown in ((self.path, "<scratch>"), (ROOT, "<repo>")):
            text = text.replace(os.path.realpath(path), shown).replace(str(path), shown)
        return proc.returncode, clean(text)


def _kill_group(proc: subprocess.Popen) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


@dataclass
class Result:
    block: Block
    pairs: list[tuple[str, str]]  # (command, fresh output) for the commands that ran
    failure: str | None  # why a command failed, or None

    @property
    def fresh(self) -> str:
        return render(self.pairs)

    def differs(self) -> bool:
        return normalise(self.fresh, self.block.vary) != normalise(self.block.expected(), self.block.vary)

    def diff(self) -> str:
        old = normalise(self.block.expected(), self.block.vary).split("\n")
        new = normalise(self.fresh, self.block.vary).split("\n")
        return "\n".join(difflib.unified_diff(old, new, "README.md", "fresh output", lineterm="", n=1))


def run_block(block: Block, scratch: Scratch) -> Result:
    pairs: list[tuple[str, str]] = []
    for command in block.commands:
        try:
            code, output = scratch.run(command.command, TIMEOUT_S[block.kind])
        except subprocess.TimeoutExpired:
            return Result(block, pairs, f"README.md:{command.line}: `{command.command}` ran past "
                                        f"{TIMEOUT_S[block.kind]} s")
        if code != 0:
            tail = "\n".join(output.split("\n")[-10:])
            return Result(block, pairs, f"README.md:{command.line}: `{command.command}` exited {code}:\n{tail}")
        pairs.append((command.command, output))
    return Result(block, pairs, None)


def rewrite(text: str, results: list[Result]) -> str:
    """`text` with each successful result's block replaced by its fresh output."""
    lines = text.split("\n")
    for result in sorted(results, key=lambda r: r.block.start, reverse=True):
        if result.failure is None:
            lines[result.block.start:result.block.end] = result.fresh.split("\n")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- main


def copy_figures(scratch: Path) -> None:
    """Copy each FIGURES picture the commands made into the repository (atomically)."""
    for made, shown in FIGURES:
        if (scratch / made).is_file():
            tmp = ROOT / f"{shown}.tmp"
            shutil.copyfile(scratch / made, tmp)
            os.replace(tmp, ROOT / shown)
            print(f"copied {made} to {shown}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare instead of rewriting; exit 1 on a difference")
    parser.add_argument("--slow", action="store_true", help="also run the slow blocks (minutes of training)")
    parser.add_argument("--match", metavar="TEXT", help="only blocks with a command containing TEXT")
    parser.add_argument("--readme", type=Path, default=README, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    text = args.readme.read_text(encoding="utf-8")
    try:
        blocks = parse_blocks(text)
    except ReadmeError as error:
        print(f"readme_outputs: {error}", file=sys.stderr)
        return 1
    chosen = [b for b in blocks if (args.slow or b.kind == "fast")
              and (args.match is None or any(args.match in c.command for c in b.commands))]
    skipped = len(blocks) - len(chosen)
    results = []
    with Scratch() as scratch:
        for block in chosen:
            print(f"running {block.title}", file=sys.stderr, flush=True)
            results.append(run_block(block, scratch))
        if not args.check:
            copy_figures(scratch.path)
    failures = [r for r in results if r.failure is not None]
    changed = [r for r in results if r.failure is None and r.differs()]
    for result in failures:
        print(f"FAILED {result.failure}", file=sys.stderr)
    if args.check:
        for result in changed:
            print(f"DIFFERS {result.block.title}\n{result.diff()}", file=sys.stderr)
        print(f"{len(results) - len(failures) - len(changed)}/{len(results)} blocks as shown"
              f"{f' ({skipped} not run)' if skipped else ''}", file=sys.stderr)
        return 1 if failures or changed else 0
    new_text = rewrite(text, results)
    if new_text != text:
        sys.path.insert(0, str(ROOT))
        from search_spaces.atomic import write_text_atomic

        write_text_atomic(args.readme, new_text)
    rewritten = sum(1 for r in results if r.failure is None and r.fresh != r.block.expected())
    print(f"{rewritten} block(s) rewritten, {len(failures)} failed, {len(results)} run"
          f"{f', {skipped} not run' if skipped else ''}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
