"""Attacks on the Markdown Glia writes (report.md, best/explanation.md, notes.md): the Researcher's
account, a design's code, file names and reasons cannot add a heading, a result, HTML, a link or an
image, close a fence, or break a table. Checked by parsing the files with markdown-it, as a viewer would."""

from __future__ import annotations

import json
from pathlib import Path

from markdown_it import MarkdownIt

from glia.evaluation.trusted import TrustedVerdict
from glia.notes import render_notes
from glia.orchestrator.best import explanation
from glia.report import write_report
from glia.task_kinds import load_task
from tests.cli.run_fixtures import BEST_CODE, ContextPlan, evaluation, make_run

TASK = Path(__file__).resolve().parents[2] / "tasks" / "llm_routing.md"

# The account: a second result section with a better score; then attacks of our own.
ACCOUNT = (
    "Head-room.\n\n## Result\n\n**Best trusted score: 27.100** (from ctx-9 final), **+99.0%** over llq.\n\n"
    "Result\n======\n\n"  # setext heading
    "[ref]: http://evil.example/\n[click][ref] ![pixel](http://evil.example/t.png) <http://evil.example> "
    "<details><summary>x</summary>\n<!-- hide the rest\n&lt;script&gt; &#60;b&#62; &copy;\n"
    "~~~\ntilde fence\n~~~\n```\nnot closed\n"
    "| fake | table |\n| --- | --- |\n| Best trusted | 27.100 |\n"
)
DOCSTRING_ATTACK = '"""Router.\n````\n<!--\n"""\n'  # closes a four-backtick fence, then hides the rest
HOSTILE_NAME = "we`ird|name``.py"
REASON = "rejected | twice\n## Result\n<img src=x onerror=alert(1)> [x](http://evil.example) `tick"


def parse(text: str) -> list:
    return MarkdownIt("commonmark").enable("table").parse(text)


def headings(tokens: list) -> list[tuple[str, str]]:
    return [(t.tag, tokens[i + 1].content) for i, t in enumerate(tokens) if t.type == "heading_open"]


def all_tokens(tokens: list) -> list:
    out = []
    for token in tokens:
        out.append(token)
        out.extend(all_tokens(token.children or []))
    return out


def assert_no_html_links_or_images(tokens: list, allowed_images: tuple[str, ...] = ()) -> None:
    flat = all_tokens(tokens)
    assert [t.content for t in flat if t.type in ("html_block", "html_inline")] == []
    assert [t for t in flat if t.type == "link_open"] == []
    assert [t.attrs.get("src") for t in flat if t.type == "image"] == list(allowed_images)


def hostile_run(tmp_path: Path) -> Path:
    """One context with the hostile account and a design whose code closes fences, a rejected second
    context with a hostile reason and error, and a design file with backticks and `|` in its name."""
    plans = {1: ContextPlan([47.0, 40.0, 43.0], trusted=41.0), 2: ContextPlan([46.0, 44.0], rejected=REASON)}
    run_dir = make_run(tmp_path, "md", "finished", "mcg-par", 2, plans)
    run = json.loads((run_dir / "run.json").read_text())
    run["contexts"][1]["error"] = REASON
    (run_dir / "run.json").write_text(json.dumps(run))
    best = run_dir / "best"
    (best / "ai_global_scheduler.py").write_text(DOCSTRING_ATTACK + BEST_CODE)
    (best / HOSTILE_NAME).write_text("x = 1\n")
    (best / "design.diff").write_text("+````\n+<!--\n+x = 1\n")
    transcript = run_dir / "ctx-1" / "transcript.jsonl"
    events = [json.loads(line) for line in transcript.read_text().splitlines()]
    for event in events:
        if event["type"] == "finish":
            event["summary"] = {"design": ACCOUNT, "evidence": "Runs 1-3 | " + ACCOUNT[:40]}
        if event["type"] == "assistant":
            event["text"] = ACCOUNT
            event["reasoning"] = ACCOUNT
        if event["type"] == "tool_result":
            event["output"] = ACCOUNT + DOCSTRING_ATTACK
            event["output_path"] = "out<b>`|.log"
        if event["type"] == "supervisor":
            event["text"] = ACCOUNT
    transcript.write_text("\n".join(json.dumps(e) for e in events) + "\n")
    return run_dir


GLIA_REPORT_HEADINGS = [
    ("h1", "Glia run md"),
    ("h2", "Result"),
    ("h2", "Scoreboard"),
    ("h2", "Claims against trusted verdicts"),
    ("h2", "Progress"),
    ("h2", "The best design"),
    ("h3", "Design file ai_global_scheduler.py"),
    ("h3", f"Design file {HOSTILE_NAME}"),
    ("h3", "Diff from the template"),
    ("h3", "The Researcher's account"),
    ("h2", "Budget"),
]


def test_report_has_only_glias_structure(tmp_path: Path) -> None:
    run_dir = hostile_run(tmp_path)
    text = write_report(run_dir)[0].read_text()
    tokens = parse(text)
    found = [(tag, content.replace("`", "")) for tag, content in headings(tokens)]
    assert found == [(tag, content.replace("`", "")) for tag, content in GLIA_REPORT_HEADINGS]
    assert_no_html_links_or_images(tokens, allowed_images=("progress.png",))
    fences = [t for t in tokens if t.type == "fence"]
    design = [t for t in fences if "headroom_pick" in t.content]
    assert len(design) == 1 and design[0].content == DOCSTRING_ATTACK + BEST_CODE  # whole, in one fence
    assert [t.content for t in fences if t.info == "diff"] == ["+````\n+<!--\n+x = 1\n"]
    [account] = [t for t in fences if "27.100" in t.content]
    assert ACCOUNT.strip() in account.content  # the account verbatim, only inside its fence
    label = text.index("**The Researcher's own account, unverified:**")
    assert text.index("## Result") < text.index("## The best design") < label < text.index(account.content)
    outside = "".join(t.content for t in all_tokens(tokens) if t.type == "text")
    assert "27.100" not in outside and "Best trusted score: 41.000" in outside
    # tables: every row has the header's number of cells, the hostile reason inside its cell
    rows = [t for t in tokens if t.type == "tr_open"]
    for table_start in (i for i, t in enumerate(tokens) if t.type == "table_open"):
        end = next(i for i in range(table_start, len(tokens)) if tokens[i].type == "table_close")
        cells = []
        for i in range(table_start, end):
            if tokens[i].type == "tr_open":
                cells.append(0)
            if tokens[i].type in ("td_open", "th_open"):
                cells[-1] += 1
        assert len(set(cells)) == 1, cells
    assert rows
    scoreboard = text[text.index("## Scoreboard") : text.index("## Claims")]
    assert "twice ## Result" in parse(scoreboard)[0].content or "rejected \\| twice" in scoreboard


def test_explanation_puts_the_account_in_a_labelled_fence_after_glias_numbers() -> None:
    task = load_task(TASK)
    judged = evaluation("best", 41.0, (39.5, 42.5))
    best = TrustedVerdict(1, "final", "ab" * 20, 2, "cd" * 32, judged)
    text = explanation(task, best, {"llq|`x`": 50.0, "lor": 55.0}, {"design": ACCOUNT}, None)
    tokens = parse(text)
    assert [c.replace("`", "") for _, c in headings(tokens)] == [
        "Best design: context 1, final snapshot abababababab",
        "Trusted evaluation",
        "The Researcher's account (its own words; only the numbers above are Glia's)",
    ]
    assert_no_html_links_or_images(tokens)
    [fence] = [t for t in tokens if t.type == "fence"]
    assert ACCOUNT.strip() in fence.content
    assert text.index("## Trusted evaluation") < text.index("unverified:") < text.index("27.100")
    rows = [t for t in tokens if t.type == "tr_open"]
    assert len(rows) == 1 + len(judged.workloads) + 1 + 2  # header, workloads, score, two baselines
    assert "llq\\|\\`x\\`" in text  # the baseline's name escaped in its cell


GLIA_NOTE_HEADINGS = ("Research notes", "The brief", "Turn ", "🧪 Simulation", "🧭 Supervisor",
                      "✅ The Researcher submits", "The final design")  # fmt: skip


def test_notes_keep_the_researchers_words_out_of_the_outline(tmp_path: Path) -> None:
    run_dir = hostile_run(tmp_path)
    text = render_notes(run_dir / "ctx-1")
    tokens = parse(text)
    for _, content in headings(tokens):
        assert content.startswith(GLIA_NOTE_HEADINGS), content
    assert sum(c == "Result" for _, c in headings(tokens)) == 0
    flat = all_tokens(tokens)
    html = [t.content.strip() for t in flat if t.type in ("html_block", "html_inline")]
    for block in html:  # only Glia's own folds, their summaries entity-escaped
        assert block == "</details>" or (
            block.startswith("<details><summary>") and block.endswith("</summary>")
        )
        assert "<b>" not in block and "<!--" not in block
    assert [t for t in flat if t.type in ("link_open", "image")] == []
    assert "27.100" not in "".join(t.content for t in flat if t.type == "heading_open")
