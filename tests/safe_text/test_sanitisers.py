"""The two sanitisers on their own: the console's and the Markdown's."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from rich.console import Console

from glia.safe_text import console_plain, console_text, md_code, md_fence, md_html_text, md_inline, md_prose

HIDDEN = ["\x00", "\x07", "\x08", "\n", "\r", "\x1b", "\x7f", "\x85", "\x9b", "\u200b", "\u200c", "\u200d",
          "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
          "\u2069", "\u061c", "\u2028", "\u2029", "\ufeff", "\u00ad", "\U000e0041"]  # fmt: skip


@pytest.mark.parametrize("char", HIDDEN)
def test_every_hidden_character_is_shown_as_an_escape(char: str) -> None:
    shown = console_plain(f"a{char}b")
    assert char not in shown and shown.startswith("a\\") and shown.endswith("b")
    assert char not in md_inline(f"a{char}b")
    assert char not in md_fence(f"a{char}b")[3:-3] or char == "\n"  # a fence keeps its lines


def test_console_text_is_never_markup_nor_emoji() -> None:
    buffer = io.StringIO()
    Console(file=buffer, width=200).print(
        console_text("[/] [bold]x[/bold] :warning: [link=http://e]y[/link]")
    )
    assert buffer.getvalue() == "[/] [bold]x[/bold] :warning: [link=http://e]y[/link]\n"


def test_lengths_are_capped_with_an_honest_marker() -> None:
    assert console_plain("x" * 50, 10) == "x" * 10 + "… [40 more characters]"
    assert console_plain("short", 10) == "short"
    assert md_inline("y" * 30, 5) == "yyyyy… \\[25 more characters\\]"


def test_multiline_console_text_indents_every_continuation() -> None:
    assert console_plain("one\ntwo\r\nthree\rx", None, multiline=True) == "one\n    | two\n    | three\\x0dx"


def test_fence_is_longer_than_any_backtick_run_and_keeps_the_text() -> None:
    text = "a\n`````\n```` not closed\n~~~\n<!--"
    fenced = md_fence(text, "py; rm")
    tokens = MarkdownIt("commonmark").parse(fenced + "\n\nafter")
    assert [t.type for t in tokens][:1] == ["fence"] and tokens[0].content == text + "\n"
    assert tokens[0].info == "pyrm"  # the info string keeps only a language name's characters
    assert tokens[-2].content == "after"


@pytest.mark.parametrize(
    "value",
    ["# h", "## Result", "Result\n===", "- item", "+ item", "1. item", "2) item", "> quote", "    code", "***",
     "---", "[r]: http://e", "[a](http://e)", "![i](http://e.png)", "<http://e>", "<b>x</b>", "<!-- c",
     "&lt;b&gt; &#60;", "`code`", "*em* _em_ __b__", "~~s~~", "a | b", "$x$", "<details>", "\\*"],
)  # fmt: skip
def test_inline_values_are_plain_text_in_any_position(value: str) -> None:
    for wrapped in (md_inline(value), f"| {md_inline(value)} | x |\n| --- | --- |", md_prose(value)):
        tokens = MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(wrapped)
        kinds = {t.type for t in tokens} | {c.type for t in tokens for c in t.children or []}
        assert kinds <= {"paragraph_open", "paragraph_close", "inline", "text", "softbreak", "hardbreak",
                         "table_open", "thead_open", "tr_open", "th_open", "th_close", "tr_close",
                         "thead_close", "table_close"}, (value, kinds)  # fmt: skip
    text = "".join(c.content for t in MarkdownIt().parse(md_inline(value)) for c in t.children or [])
    assert text == " ".join(value.replace("\n", "\\x0a").split()) or value.startswith("    ")


def test_code_spans_hold_any_name() -> None:
    for name in ("a`b", "``x``", "a|b", "`"):
        span = md_code(name, in_table=True)
        row = MarkdownIt().enable("table").parse(f"| h |\n| --- |\n| {span} |")
        codes = [c.content for t in row for c in t.children or [] if c.type == "code_inline"]
        assert codes == [name.strip() or ""] or codes == [name], (name, codes)


def test_html_text_is_entity_escaped() -> None:
    assert md_html_text('<b onclick="x">&\n') == "&lt;b onclick=&quot;x&quot;&gt;&amp;\\x0a"


def test_no_console_sink_bypasses_the_sanitiser() -> None:
    """A cheap structural check: no Rich markup f-string interpolates a value in the modules that print
    untrusted text, and no table cell is a bare f-string or attribute."""
    root = Path(__file__).resolve().parents[2] / "glia"
    modules = ["cli/bench.py", "cli/inspect.py", "cli/solve.py", "progress.py"]
    for module in modules:
        source = (root / module).read_text()
        for line in source.splitlines():
            if re.search(r"\.print\(f\"\[", line):
                assert "warning_line()" in line, f"{module}: {line.strip()}"
