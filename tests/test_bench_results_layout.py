"""benchmarks/run_all.py's topic layout of benchmarks/RESULTS.md: parse, merge, render (no benchmark is run),
and the committed file as a fixed point of the generator."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
HISTORY = ROOT / "benchmarks" / "HISTORY.md"


def _load_run_all():
    spec = importlib.util.spec_from_file_location("bench_run_all", ROOT / "benchmarks" / "run_all.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


ra = _load_run_all()


def doc(*topics: tuple[str, list[tuple[str, str]]], machine: str = "Machine: test.") -> str:
    """A RESULTS.md in the generator's layout from (topic, [(title, body)]) pairs."""
    return ra.render(ra.Results(machine, tuple((name, tuple(ra.section(t, b) for t, b in sections))
                                               for name, sections in topics)))


def titles(results) -> list[tuple[str, list[str]]]:
    return [(name, [s.title for s in sections]) for name, sections in results.topics]


def test_slugs_follow_github():
    assert ra.slugs(["Cost model: analytic `cost()` vs thop", "Data path: ImageFolder at 224 px, today's loop",
                     "Detectors D0-D7x vs the paper", "B0 training step vs efficientnet_pytorch",
                     "Noise or disagreement? Averaging proxy seeds", "Search ×2 — ±10%"]) == [
        "cost-model-analytic-cost-vs-thop", "data-path-imagefolder-at-224-px-todays-loop",
        "detectors-d0-d7x-vs-the-paper", "b0-training-step-vs-efficientnet_pytorch",
        "noise-or-disagreement-averaging-proxy-seeds", "search-2--10"]
    assert ra.slugs(["Ray", "Ray", "Ray-1", "Ray"]) == ["ray", "ray-1", "ray-1-1", "ray-2"]


def test_render_writes_header_contents_topics_and_parses_back():
    text = doc(("Scaling", [("A: one", "body a\n\n#### Sub (part)\n\nmore"), ("B", "body b")]),
               ("Ray", [("Ray runner", "body r")]))
    assert text == (
        "# effnas benchmarks\n\nMachine: test.\n\n" + ra.INTRO + "\n\n"
        "- [Scaling](#scaling)\n  - [A: one](#a-one)\n  - [B](#b)\n- [Ray](#ray)\n  - [Ray runner](#ray-runner)\n\n"
        "## Scaling\n\n### A: one\n\nbody a\n\n#### Sub (part)\n\nmore\n\n### B\n\nbody b\n\n"
        "## Ray\n\n### Ray runner\n\nbody r\n")
    parsed = ra.parse(text)
    assert parsed.machine == "Machine: test."
    assert titles(parsed) == [("Scaling", ["A: one", "B"]), ("Ray", ["Ray runner"])]
    assert "#### Sub (part)" in parsed.topics[0][1][0].text
    assert ra.render(parsed) == text


def test_merge_replaces_in_place_keeps_hand_written_and_appends_new_at_the_end_of_its_topic():
    old = ra.parse(doc(("Scaling", [("Science", "hand-written"), ("Bench one", "old figures"), ("Tail", "kept")]),
                       ("Search", [("Bench two", "old two")])))
    fresh = [("Search", ra.section("Bench one", "new figures")),  # stays where it stood, in Scaling
             ("Scaling", ra.section("Bench new", "first run")),
             ("Search", ra.section("Bench two", "new two"))]
    merged = ra.merge(old, fresh)
    assert titles(merged) == [("Scaling", ["Science", "Bench one", "Tail", "Bench new"]), ("Search", ["Bench two"])]
    texts = {s.title: s.text for _, sections in merged.topics for s in sections}
    assert texts["Science"] == "### Science\n\nhand-written\n"
    assert texts["Bench one"] == "### Bench one\n\nnew figures\n"
    assert texts["Bench two"] == "### Bench two\n\nnew two\n"
    assert merged.machine == old.machine
    assert ra.merge(old, fresh, machine="Machine: now.").machine == "Machine: now."
    rendered = ra.render(merged)
    assert "  - [Bench new](#bench-new)" in rendered and rendered.index("Bench new") < rendered.index("## Scaling")


def test_merge_orders_topics_by_TOPICS_then_unknown_ones_and_drops_empty_ones():
    old = ra.parse(doc(("Hand topic", [("H", "h")]), ("Ray", [("R", "r")]), ("Cost model", [("C", "c")])))
    merged = ra.merge(old, [("Export", ra.section("E", "e"))])
    assert [name for name, _ in merged.topics] == ["Cost model", "Ray", "Export", "Hand topic"]
    empty = ra.merge(ra.Results("", ()), [("Search", ra.section("S", "s"))])
    assert titles(empty) == [("Search", ["S"])]
    assert ra.parse(ra.render(empty)).machine == ""


def test_parse_rejects_what_it_cannot_merge():
    with pytest.raises(ValueError, match="between '## Ray'"):
        ra.parse("# effnas benchmarks\n\nMachine.\n\n## Ray\n\nstray text\n\n### R\n\nr\n")
    with pytest.raises(ValueError, match="duplicate"):
        ra.parse("# effnas benchmarks\n\n## Ray\n\n### R\n\nr\n\n## Search\n\n### R\n\nr\n")
    fenced = ra.parse("# effnas benchmarks\n\n## Ray\n\n### R\n\n```\n## not a topic\n### nor a section\n```\n")
    assert titles(fenced) == [("Ray", ["R"])]


def test_bench_section_has_note_command_and_output():
    bench = ra.Bench("T", "Search", ("bench_x.py", "--n", "3"), note="Superseded by [U](#u).")
    assert ra.bench_section(bench, "| a |\n\n_1 s, exit 0_").text == (
        "### T\n\nSuperseded by [U](#u).\n\n`python benchmarks/bench_x.py --n 3`\n\n| a |\n\n_1 s, exit 0_\n")
    assert ra.bench_section(ra.DEMO, "| job |").text == "### Demo job: time and peak memory\n\n| job |\n"


def test_committed_results_are_a_fixed_point_of_the_generator():
    text = RESULTS.read_text()
    parsed = ra.parse(text)
    assert parsed.machine.startswith("Machine: ")
    assert ra.render(ra.merge(parsed, [])) == text


def test_committed_results_follow_the_topic_layout():
    parsed = ra.parse(RESULTS.read_text())
    assert [name for name, _ in parsed.topics] == list(ra.TOPICS)
    where = {s.title: (name, s) for name, sections in parsed.topics for s in sections}
    for bench in (*ra.BENCHES, ra.DEMO):
        assert bench.topic in ra.TOPICS
        name, found = where[bench.title]
        assert name == bench.topic, bench.title
        if bench.note:
            assert found.text.startswith(f"### {bench.title}\n\n{bench.note}\n\n")
    for title in where:
        assert not re.search(r"\b20\d\d-\d\d|issue \d|in progress|session \d", title, re.I), title
    for level, heading in ra.headings(RESULTS.read_text()):
        if level >= 4:
            assert not re.search(r"\b20\d\d-\d\d|issue \d|session \d", heading), heading


def _anchors(path: Path) -> set[str]:
    return set(ra.slugs(text for _, text in ra.headings(path.read_text())))


def test_links_into_results_and_history_resolve():
    anchors = {RESULTS.resolve(): _anchors(RESULTS), HISTORY.resolve(): _anchors(HISTORY)}
    files = [ROOT / "README.md", *ROOT.glob("docs/*.md"), *ROOT.glob("benchmarks/*.md"), *ROOT.glob("benchmarks/*.py"),
             *ROOT.glob("results/**/README.md")]
    checked = 0
    for path in files:
        text = path.read_text()
        links = re.findall(r"([\w./-]*(?:RESULTS|HISTORY)\.md)#([\w-]+)", text)
        if path.resolve() in anchors:
            links += [(path.name, anchor) for anchor in re.findall(r"\]\(#([\w-]+)\)", text)]
        for target, anchor in links:
            near, top = (path.parent / target).resolve(), (ROOT / target).resolve()
            resolved = near if near in anchors else top
            assert resolved in anchors, f"{path.relative_to(ROOT)}: {target} is not RESULTS.md or HISTORY.md"
            assert anchor in anchors[resolved], f"{path.relative_to(ROOT)}: no #{anchor} in {target}"
            checked += 1
    assert checked >= 10  # the contents list alone links every section
