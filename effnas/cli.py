"""`effnas` command line. Each sub-command lives in effnas/commands/<name>.py with `register()`.

Exit codes: 0 success, 2 bad input (one line on stderr), 1 internal error (one line; set
EFFNAS_DEBUG=1 for the traceback).
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import signal
import sys

from search_spaces.errors import InputError

COMMANDS = ("arch", "space", "family", "grid", "search", "detector", "run", "evaluate", "train", "data")


class UsageError(Exception):
    """argparse usage problem, turned into exit code 2."""


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line and exit code 2 (never a usage dump)."""

    def error(self, message: str):  # type: ignore[override]
        command = self.prog.removeprefix("effnas").strip()  # "effnas: error: arch show: ...", not "effnas" twice
        raise UsageError(f"{command}: {message}" if command else message)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="effnas", description="Neural-architecture search and compound scaling for PyTorch.")
    parser.add_argument("--version", action="version", version="effnas 0.1.0")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"effnas.commands.{name}")
        except ModuleNotFoundError as error:
            if error.name == f"effnas.commands.{name}":
                continue
            raise
        module.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "handler", None):
            parser.print_help(sys.stderr)
            return 2
        code = args.handler(args)
        return int(code or 0)
    except (InputError, UsageError) as error:
        print(f"effnas: error: {_one_line(error)}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `effnas space sample --n 3000 | head -1`
        _silence_stdout()
        print("effnas: error: the output pipe was closed by its reader (broken pipe)", file=sys.stderr)
        return 2
    except OSError as error:
        if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR, errno.EISDIR):
            print(f"effnas: error: cannot write {error.filename or 'the output'}: {error.strerror}", file=sys.stderr)
            return 2
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            print(f"effnas: error: {error.strerror} writing {error.filename or 'the output'}; finished work is "
                  "kept, free space and run again", file=sys.stderr)
            return 1
        if os.environ.get("EFFNAS_DEBUG"):
            raise
        print(f"effnas: internal error: {_one_line(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as error:  # Ctrl+C, or SIGTERM while Ray is up (nas.runners.ray_runner.Terminated)
        signum = int(getattr(error, "signum", signal.SIGINT))
        print(f"effnas: {'terminated' if signum == signal.SIGTERM else 'interrupted'}", file=sys.stderr)
        return 128 + signum
    except Exception as error:  # internal error: one line, traceback on demand
        if os.environ.get("EFFNAS_DEBUG"):
            raise
        print(f"effnas: internal error: {type(error).__name__}: {_one_line(error)} "
              "(set EFFNAS_DEBUG=1 for the traceback)", file=sys.stderr)
        return 1


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


if __name__ == "__main__":
    sys.exit(main())
