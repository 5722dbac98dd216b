"""The agents' system prompts live as Markdown in `agent_prompts/` so people can read and edit them."""

from __future__ import annotations

from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parents[2] / "agent_prompts"


def load_agent_prompt(name: str, prompts_dir: Path = PROMPTS_DIR) -> str:
    """The text of `agent_prompts/<name>.md`; a missing file is an installation problem, said plainly."""
    path = prompts_dir / f"{name}.md"
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError as exc:
        raise FileNotFoundError(
            f"The {name} prompt is missing: expected {path}. Run Glia from a full checkout of the repository."
        ) from exc
