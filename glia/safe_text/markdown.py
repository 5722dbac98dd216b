"""The one way to put untrusted text into Markdown (report.md, explanation.md, notes.md, comparisons).

- blocks (a design, a diff, an output, the Researcher's account) go into a fenced code block whose
  backtick fence is longer than any backtick run inside, so nothing in it can close the fence;
- inline values (file names, reasons, names in table cells) are escaped: every Markdown punctuation
  mark backslash-escaped, `<`, `>` and `&` as entities (no raw HTML, no entity tricks), one line;
- prose is the same escaping line by line, so it reads as text and never becomes a heading or a link.

Every form also applies the shared character rule (`glia.safe_text.chars`): no escape sequence or
invisible character reaches the file (or the terminal of whoever runs `cat` or `glia show` on it).
"""

from __future__ import annotations

import html
import re

from glia.safe_text.chars import capped, visible

# Marks with a meaning anywhere in a line (emphasis, code, links and images, HTML, tables,
# strikethrough, math, escapes); `_` only where it could open or close emphasis (not inside a word).
_ESCAPED = set("\\`*[]|~$!")
_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
# What makes a line a heading, quote, list item, thematic break or setext underline when it starts it.
_LINE_START = re.compile(r"^([#=+-]|\d{1,9}(?=[.)](\s|$)))")
_INFO = re.compile(r"[^A-Za-z0-9_+-]")


def md_inline(value: object, limit: int | None = 300) -> str:
    """One line of plain text, safe anywhere inline (a table cell, a heading, a list item)."""
    flat = capped(visible(value), limit).strip()
    out = []
    for i, char in enumerate(flat):
        if char in _ENTITIES:
            out.append(_ENTITIES[char])
        elif char in _ESCAPED:
            out.append("\\" + char)
        elif char == "_" and not (0 < i < len(flat) - 1 and flat[i - 1].isalnum() and flat[i + 1].isalnum()):
            out.append("\\_")
        else:
            out.append(char)
    text = "".join(out)
    start = _LINE_START.match(text)
    if start:  # a digit run is kept and its `.` / `)` escaped; a mark is escaped itself
        cut = start.end()
        text = text[:cut] + "\\" + text[cut:] if text[:1].isdigit() else "\\" + text
    return text


def md_code(value: object, limit: int | None = 300, in_table: bool = False) -> str:
    """An inline code span of one line (file names, run ids): its backtick string is longer than any run
    inside; in a table cell `|` is escaped as GFM requires."""
    text = capped(visible(value), limit)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    if text.startswith("`") or text.endswith("`") or not text.strip():
        text = f" {text} "
    if in_table:
        text = text.replace("|", "\\|")
    return f"{ticks}{text}{ticks}"


def md_fence(text: object, lang: str = "text", limit: int | None = None) -> str:
    """A fenced code block holding `text` verbatim (hidden characters made visible)."""
    body = capped(visible(text, keep_newlines=True), limit).rstrip()
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    info = _INFO.sub("", lang)[:20]
    return f"{fence}{info}\n{body}\n{fence}"


def md_prose(text: object, limit: int | None = None) -> str:
    """Several lines of untrusted prose as plain text: paragraphs kept, each line escaped, lines of a
    paragraph joined by hard breaks; nothing in it can become a heading, a list, HTML or a fence."""
    body = capped(visible(text, keep_newlines=True), limit)
    paragraphs = []
    for block in re.split(r"\n\s*\n", body.strip()):
        lines = [md_inline(line, None) for line in block.split("\n") if line.strip()]
        if lines:
            paragraphs.append("\\\n".join(lines))
    return "\n\n".join(paragraphs)


def md_html_text(value: object, limit: int | None = 200) -> str:
    """Text inside Glia's own HTML elements (a `<summary>`): entity-escaped, one line."""
    return html.escape(" ".join(capped(visible(value), limit).split(" ")), quote=True)
