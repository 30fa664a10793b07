"""Issue 11 part 3: tables rendered by rich (same columns, plain text off a terminal) and progress with
done/total and an ETA."""

import io

import pytest

from effnas.output import format_duration, format_table
from scaling.progress import Countdown


def test_table_keeps_columns_order_and_alignment():
    text = format_table(["name", "params", "blocks"], [["a", 1234567, "r1_k3"], ["bb", 12, "[bold]x[/bold] " * 30]])
    lines = text.splitlines()
    assert lines[0].split() == ["name", "params", "blocks"] and set(lines[1]) <= {"─", " "}
    assert lines[2].split()[:2] == ["a", "1,234,567"] and lines[3].split()[:2] == ["bb", "12"]
    assert lines[2].index("1,234,567") + len("1,234,567") == lines[3].index(" 12") + 3  # numbers right-aligned
    assert "[bold]x[/bold]" in lines[3] and len(lines) == 4  # no markup, never wrapped
    assert "\x1b" not in text and all(line == line.rstrip() for line in lines)


def test_table_falls_back_to_ascii(monkeypatch):
    monkeypatch.setattr("sys.stdout", io.TextIOWrapper(io.BytesIO(), encoding="ascii"))
    text = format_table(["a", "b"], [[1, "x"]], align="rl")
    assert text.isascii() and set(text.splitlines()[1]) <= {"-", " "}


def test_countdown_and_durations(monkeypatch):
    clock = iter([100.0, 110.0, 120.0])
    monkeypatch.setattr("scaling.progress.time.monotonic", lambda: next(clock))
    countdown = Countdown(total=5, done=1)
    assert countdown.tick() == {"done": 2, "total": 5, "eta_s": 30.0}  # 10 s each, 3 left
    assert countdown.tick() == {"done": 3, "total": 5, "eta_s": 20.0}
    assert [format_duration(s) for s in (None, 5, 245, 7980)] == ["?", "0m05s", "4m05s", "2h13m"]


@pytest.mark.parametrize("event, expected", [
    ({"done": 3, "total": 10, "eta_s": 65}, "effnas: [grid] 3/10, ETA 1m05s"),
    ({"done": 2, "total": 4, "eta_s": 5, "best_reward": 0.5}, "effnas: [search] 2/4, best reward 0.5000, ETA 0m05s"),
])
def test_pipeline_progress_lines(capsys, event, expected):
    from effnas.commands.run import ProgressPrinter

    printer = ProgressPrinter(quiet=False)
    printer("search" if "best_reward" in event else "grid", event)
    assert capsys.readouterr().err.strip() == expected
