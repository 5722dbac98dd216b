"""Reading a design out of a model's reply: fenced code blocks, the file each one holds, a one-line idea.

The prompts ask for the whole design file in one fenced code block (for a design of several files, one
block per file with its path on the line before it), preceded by a line `Idea: ...`. Replies that do
not follow the format are not guessed at: the error says exactly what was missing, so the
generate-and-verify loop can feed it back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_FENCE = re.compile(
    r"^(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n]*)\n(?P<body>.*?)^(?P=fence)[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
_IDEA = re.compile(r"^\s*\**idea\**\s*:\s*(?P<idea>.+)$", re.IGNORECASE | re.MULTILINE)
MAX_IDEA_CHARS = 300


@dataclass(frozen=True)
class CodeBlock:
    info: str  # the text after the opening fence (a language, sometimes a path)
    body: str
    before: str  # the last non-empty line before the block


@dataclass(frozen=True)
class DesignReply:
    """A design read from a reply: its files, or the reason there is none; and the stated idea."""

    files: dict[str, str] | None
    idea: str | None
    error: str | None = None


def code_blocks(text: str) -> list[CodeBlock]:
    """Every fenced code block of a Markdown reply, in order."""
    blocks = []
    for match in _FENCE.finditer(text):
        preceding = [line.strip() for line in text[: match.start()].splitlines() if line.strip()]
        blocks.append(
            CodeBlock(match.group("info").strip(), match.group("body"), preceding[-1] if preceding else "")
        )
    return blocks


def stated_idea(text: str) -> str | None:
    """The reply's `Idea: ...` line, shortened; None when there is none."""
    match = _IDEA.search(text.split("```", 1)[0]) or _IDEA.search(text)
    if not match:
        return None
    idea = " ".join(match.group("idea").split()).strip("* ")
    return idea[: MAX_IDEA_CHARS - 1] + "…" if len(idea) > MAX_IDEA_CHARS else idea or None


def read_design(text: str, design_files: Sequence[str]) -> DesignReply:
    """The design files a reply holds, or a precise reason why it holds none."""
    idea = stated_idea(text or "")
    blocks = [b for b in code_blocks(text or "") if b.body.strip()]
    if not blocks:
        return DesignReply(None, idea, "the reply has no fenced code block holding the design file")
    if len(design_files) == 1:
        path = design_files[0]
        named = [b for b in blocks if _names(b, path)]
        chosen = (named or blocks)[-1] if len(named or blocks) == 1 else max(named or blocks, key=_size)
        return DesignReply({path: _as_file(chosen.body)}, idea)
    files: dict[str, str] = {}
    for path in design_files:
        named = [b for b in blocks if _names(b, path)]
        if not named:
            return DesignReply(
                None,
                idea,
                f"no code block is labelled with {path}: put the path on the line before each block",
            )
        files[path] = _as_file(named[-1].body)
    return DesignReply(files, idea)


def _names(block: CodeBlock, path: str) -> bool:
    return path in block.info or path in block.before


def _size(block: CodeBlock) -> int:
    return len(block.body)


def _as_file(body: str) -> str:
    return body.rstrip() + "\n"
