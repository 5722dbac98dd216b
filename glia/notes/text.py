"""The notebook's text helpers: long output and long reasoning folded, the finish summary kept apart
from the notebook's own voice."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from glia.progress import shorten
from glia.record.account import ACCOUNT_LABEL, account_text
from glia.safe_text import md_fence, md_html_text, md_inline, md_prose

OUTPUT_FOLD_CHARS = 4000
# Reasoning (OpenAI reasoning summaries, Claude's thinking) longer than this, or in several paragraphs,
# is folded under its first line so the actions stay easy to follow.
THINKING_FOLD_CHARS = 500


def fence(text: str, lang: str = "text") -> str:
    """A fenced block that nothing inside can close (the Markdown sanitiser's)."""
    return md_fence(text, lang)


def fold_output(output: str) -> str:
    """A command's output, its middle cut when it is longer than OUTPUT_FOLD_CHARS."""
    if len(output) <= OUTPUT_FOLD_CHARS:
        return output
    half = OUTPUT_FOLD_CHARS // 2
    return f"{output[:half]}\n… [{len(output) - OUTPUT_FOLD_CHARS} characters cut] …\n{output[-half:]}"


def first_sentence(text: str, width: int = 100) -> str:
    flat = " ".join(text.split())
    for mark in (". ", "? ", "! ", "\n"):
        cut = flat.find(mark)
        if 0 < cut < width:
            return flat[: cut + 1]
    return shorten(flat, width)


def plain(text: str) -> str:
    """Text without Markdown emphasis markers (reasoning summaries open with a **bold** heading)."""
    return text.replace("**", "").replace("__", "").strip()


def thinking(reasoning: str) -> str:
    """The model's reasoning before its actions: inline when short, folded under its first line when long."""
    if len(reasoning) <= THINKING_FOLD_CHARS and "\n\n" not in reasoning:
        return f"💭 *Thinking:* {md_inline(reasoning, None)}\n"
    title = md_html_text(shorten(plain(reasoning.lstrip().splitlines()[0]), 90))
    return f"<details><summary>💭 Thinking: {title}</summary>\n\n{md_prose(reasoning)}\n\n</details>\n"


def summary_text(summary: Mapping[str, Any] | str | None) -> str:
    """The finish summary as a labelled fenced block (free text, or the finish tool's fields as titled
    paragraphs): the Researcher's words can never read as the notebook's own."""
    text = account_text(dict(summary) if isinstance(summary, Mapping) else str(summary or "").strip())
    return f"**{ACCOUNT_LABEL}**\n\n{md_fence(text, 'text', 20_000)}"
