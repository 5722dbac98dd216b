"""The prompts of the black-box methods, built from the general task model so every task works.

Every method sees the same facts, the ones Glia's Researcher starts with: the task's brief with the
baseline scores measured for this run, the interface the design plugs into (the simulator modules the
design file imports, read from the template), and the design file as it stands. The fixed texts are in
`agent_prompts/blackbox_*.md`; this module assembles them.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from pathlib import Path

from glia.agents.prompts import load_agent_prompt
from glia.blackbox.store import INVALID, REJECTED, UNRUN, VALID, CandidateRecord
from glia.task import Task

INTERFACE_DEPTH = 2  # the design's imports, and theirs
MAX_INTERFACE_FILE_BYTES = 24 * 1024
MAX_INTERFACE_BYTES = 48 * 1024

PREAMBLE = (
    "The brief below was written for a researcher who works in a copy of the simulator with a shell. "
    "You have no shell: you cannot run or read anything, and everything you can know is in this message. "
    "Glia runs the benchmark on the design you return."
)


def system_prompt(method: str) -> str:
    """The method's fixed system prompt (`agent_prompts/blackbox_<method>.md`)."""
    return load_agent_prompt(f"blackbox_{method}")


def interface_files(task: Task) -> dict[str, str]:
    """Simulator modules the design imports (and the ones they import), path -> text, within size caps."""
    root = Path(task.simulator)
    found: dict[str, str] = {}
    frontier = [
        (root / path).read_text(encoding="utf-8") for path in task.design_files if (root / path).is_file()
    ]
    total = 0
    for _ in range(INTERFACE_DEPTH):
        next_frontier = []
        for text in frontier:
            for relpath in _imported_files(text, root):
                if relpath in found or relpath in task.design_files:
                    continue
                data = (root / relpath).read_text(encoding="utf-8", errors="replace")
                size = len(data.encode())
                if size > MAX_INTERFACE_FILE_BYTES or total + size > MAX_INTERFACE_BYTES:
                    continue
                found[relpath] = data
                total += size
                next_frontier.append(data)
        frontier = next_frontier
    return found


def _imported_files(text: str, root: Path) -> list[str]:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    modules: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.append(node.module)
            modules += [f"{node.module}.{alias.name}" for alias in node.names]
    paths = []
    for module in modules:
        base = Path(*module.split("."))
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            path = root / candidate
            if path.is_file() and path.stat().st_size > 0:
                paths.append(candidate.as_posix())
                break
    return list(dict.fromkeys(paths))


def output_format(task: Task) -> str:
    """What the reply must look like (read back by `glia.blackbox.extract.read_design`)."""
    files = task.design_files
    if len(files) == 1:
        where = f"the complete new content of `{files[0]}` in one fenced code block (```python ... ```)"
    else:
        where = (
            "each design file complete in its own fenced code block, with the file's path alone on the line "
            "before the block (" + ", ".join(f"`{p}`" for p in files) + ")"
        )
    return (
        "## What to reply\n\n"
        "First one line `Idea: <one sentence: what the design does and why it should help>`. Then "
        f"{where}. Write nothing after the code. The file replaces the current one as a whole: keep every "
        "name the simulator uses."
    )


def design_section(files: Mapping[str, str], heading: str) -> str:
    parts = [heading, ""]
    for path, text in files.items():
        parts += [f"`{path}`:", "", _fenced(text, path), ""]
    return "\n".join(parts).rstrip()


def interface_section(task: Task) -> str:
    files = interface_files(task)
    if not files:
        return ""
    return design_section(files, "## The interface your design uses (read only)")


def brief_sections(task: Task, baselines: Mapping[str, float | None] | None) -> list[str]:
    """What every method is told about the problem: preamble, brief with baselines, interface."""
    sections = [PREAMBLE, "# The brief\n\n" + task.researcher_brief(baselines).strip()]
    interface = interface_section(task)
    if interface:
        sections.append(interface)
    return sections


def sample_prompt(
    task: Task, baselines: Mapping[str, float | None] | None, template: Mapping[str, str]
) -> str:
    """The one detailed prompt every `sample` design is drawn from."""
    return "\n\n".join(
        [
            *brief_sections(task, baselines),
            design_section(template, "## The design file as it stands"),
            output_format(task),
            "Write the complete design now.",
        ]
    )


def loop_prompt(
    task: Task,
    baselines: Mapping[str, float | None] | None,
    template: Mapping[str, str],
    attempts: Sequence[CandidateRecord],
    designs: Mapping[str, Mapping[str, str]],
    best: CandidateRecord | None,
    history: int,
) -> str:
    """The generate-and-verify context: the brief, a summary line per attempt, the best design in full,
    the latest attempt in full when it failed, and what to do next. `designs` maps design hashes to files."""
    sections = brief_sections(task, baselines)
    metric = task.metric
    if not attempts:
        sections.append(design_section(template, "## The design file as it stands"))
        sections.append(output_format(task))
        sections.append("This is the first attempt. Write a design that beats the reference baseline.")
        return "\n\n".join(sections)
    shown = list(attempts)[-history:]
    lines = [f"## Attempts so far ({len(attempts)}; {metric.describe()})", ""]
    if len(shown) < len(attempts):
        lines.append(f"({len(attempts) - len(shown)} earlier attempts not shown.)")
    lines += [attempt_line(a, metric.name, best) for a in shown]
    sections.append("\n".join(lines))
    if best is not None and best.design_hash in designs:
        heading = f"## The best design so far (attempt {best.n}, {metric.name} {best.claimed_score:.4g})"
        sections.append(design_section(designs[best.design_hash], heading))
    else:
        sections.append(design_section(template, "## The design file as it stands (no attempt has run yet)"))
    latest = attempts[-1]
    if latest.status in (INVALID, REJECTED) and latest.design_hash in designs and latest is not best:
        sections.append(
            design_section(
                designs[latest.design_hash], f"## The latest attempt (attempt {latest.n}), which failed"
            )
            + f"\n\nIts error: {latest.error}"
        )
    sections.append(output_format(task))
    target = "fix the latest attempt's error, or " if latest.status in (INVALID, REJECTED) else ""
    sections.append(f"Write attempt {len(attempts) + 1}: {target}improve on the best design so far.")
    return "\n\n".join(sections)


def attempt_line(attempt: CandidateRecord, metric_name: str, best: CandidateRecord | None) -> str:
    """One attempt as the context manager remembers it: its idea and what happened to it."""
    idea = attempt.idea or "(no idea stated)"
    if attempt.status == VALID:
        marker = " (best so far)" if best is not None and attempt.n == best.n else ""
        outcome = f"valid, {metric_name} {attempt.claimed_score:.4g}{marker}"
    elif attempt.status == INVALID:
        outcome = f"failed in the simulator: {_short(attempt.error)}"
    elif attempt.status == REJECTED:
        outcome = f"rejected before running: {_short(attempt.error)}"
    elif attempt.status == UNRUN:
        outcome = "not run (the run was ending)"
    else:
        outcome = attempt.status
    return f"- Attempt {attempt.n}: {idea} -> {outcome}"


def openevolve_system_message(task: Task, baselines: Mapping[str, float | None] | None) -> str:
    """OpenEvolve's system message: its own role text, then what every method is told."""
    sections = brief_sections(task, baselines)[1:]  # the preamble's facts are in the role text
    return "\n\n".join([system_prompt("openevolve"), *sections])


def _fenced(text: str, path: str) -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    language = "python" if path.endswith(".py") else ""
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


def _short(text: str | None, limit: int = 400) -> str:
    flat = " ".join(str(text or "no reason given").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
