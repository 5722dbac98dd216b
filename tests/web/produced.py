"""Runs made the way a user makes them, for the browser tests: a real `glia compare` (SCG and MCG-Par2,
two repeats, a budget of two simulations) and a real `glia solve` in a subprocess, both driven by
the fake model server (tests/fake_llm) on the quick routing task with the local workspace.

The Researcher of every context writes a router (a different weight per conversation, so repeats
differ), benchmarks it, then runs a command whose output is hostile (script tags, event handlers,
`javascript:` links, terminal escape sequences) and says something hostile itself: those bytes reach the
viewer through the real tools, transcript writer and record, not a hand-written run folder.

The `glia solve` run is watched live: its Researcher waits at a gate (`LiveSolve.release`) after the
Supervisor's first intervention, so a test can open its pages while it is running and see the next turn
arrive without a reload.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glia.cli import main
from tests.blackbox.support import LEAST_ACTIVE, router_reply, unique
from tests.fake_llm import FakeLLMServer, reply, tool_call
from tests.orchestrator.e2e_support import BENCHMARK, FINISH_ARGS, ConversationScript, router_command

REPO_ROOT = Path(__file__).resolve().parents[2]
RESEARCHER = "gpt-4o"  # priced models: the viewer's dollar columns are real numbers
SUPERVISOR = "gpt-4.1"
FLAG = "window.__pwned=1"
# What the Researcher's shell prints: markup, a Markdown link, OSC-8 and colour escapes, a bidi override.
HOSTILE_COMMAND = (
    f"printf '%s\\n' '<script>{FLAG}</script>' '<img src=x onerror=\"{FLAG}\">' "
    f"'[click me](javascript:{FLAG})' '<svg onload={FLAG}></svg>' "
    "\"$(printf '\\033[31mred\\033[0m \\033]8;;javascript:alert(1)\\007osc link\\033]8;;\\007 \\342\\200\\256evil')\""
)
HOSTILE_TEXT = (
    f"Checking the output: <script>{FLAG}</script> <a href='javascript:{FLAG}'>a link</a> "
    f"<details open ontoggle={FLAG}><summary>markdown html</summary></details>"
)
WORSE = router_reply(
    "        return self.route_all(lambda request: min(self.replicas))", "send everything to one replica."
)
EXPERIMENT = "python -m llmsim run --router llq --qps 7.5 --seed 0 --duration 50 | tail -1"
COMPARE_METHODS = "scg,mcg-par2"


FINISH = ("Done: submitting.", "")
GATE = ("Weigh waiting requests less.", router_command(pending_weight=1))


@dataclass(frozen=True)
class Produced:
    root: Path  # the workspaces root: the comparison and its runs
    task: Path  # the quick routing task they ran
    comparison: Path


class Researchers:
    """Every role the fake model plays: the Researcher (tool calls, per conversation), the Supervisor
    (REVISE at its first review of the live run, APPROVE otherwise) and Sample's design generator."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.gate = gate  # the live run: after the REVISE, the Researcher waits for it
        self.waiting = threading.Event()
        self.opened = 0
        self.revised = False
        self.samples = 0
        self.lock = threading.Lock()

    def steps(self, conversation: int) -> list[tuple[str, str]]:
        first = [
            ("Start from least-loaded routing that weighs waiting requests.",
             router_command(pending_weight=conversation + 1)),
            ("Benchmark it.", BENCHMARK),
            (HOSTILE_TEXT, HOSTILE_COMMAND),
            FINISH,
        ]  # fmt: skip
        if self.gate is None:
            return first
        return [*first, GATE, ("How does LLQ do on a short load?", EXPERIMENT), ("Benchmark it again.", BENCHMARK),
                FINISH]  # fmt: skip

    def __call__(self, request: Any) -> object:
        if "You are the Supervisor" in request.system:
            return self.supervisor()
        if not request.tool_names:  # a pre-flight probe or Sample's design prompt
            with self.lock:
                self.samples += 1
                design = (LEAST_ACTIVE, WORSE)[self.samples % 2]
            return reply(design, input_tokens=1000, output_tokens=200)
        conversation, _, step = ConversationScript.position(request)
        if conversation is None:
            with self.lock:
                self.opened += 1
                conversation = self.opened
        steps = self.steps(conversation)
        text, command = steps[min(step, len(steps) - 1)]
        if self.gate is not None and (text, command) == GATE:
            self.waiting.set()
            self.gate.wait(timeout=120)  # until the test has the run's pages open
        call_id = f"c{conversation}-work-s{step + 1}"
        call = (
            tool_call("finish", FINISH_ARGS, id=call_id)
            if not command
            else tool_call("bash", {"command": command}, id=call_id)
        )
        return reply(text, [call], input_tokens=800, output_tokens=60)

    def supervisor(self) -> object:
        with self.lock:
            revise = self.gate is not None and not self.revised
            self.revised = True
        if revise:
            return reply(
                f"Not yet: a lighter weight on waiting requests is untested. <b onmouseover={FLAG}>look</b>\n"
                "VERDICT: REVISE"
            )
        return reply(
            "The evidence supports the design.\nVERDICT: APPROVE", input_tokens=500, output_tokens=50
        )


def model_args(url: str) -> list[str]:
    return ["--researcher-model", f"openai:{RESEARCHER}", "--supervisor-model", f"openai:{SUPERVISOR}",
            "--base-url", url, "--workspace", "local", "--unsafe-local-workspace"]  # fmt: skip


def run_compare(task: Path, root: Path) -> Path:
    """`glia compare` through the CLI: SCG and MCG-Par2, two repeats each, two simulations per run. (Ids
    are unique per session: sandboxes are named and cleaned up by run id on a shared Docker engine.)"""
    name = unique("cmp")
    with FakeLLMServer() as server:
        server.handler("*", Researchers())
        code = main(["compare", str(task), "--root", str(root), "--name", name, "--methods",
                     COMPARE_METHODS, "--repeats", "2", "--max-simulations", "2", "--max-steps", "8",
                     *model_args(server.openai_base_url)])  # fmt: skip
        assert server.problems == [], server.problems
    assert code == 0, f"glia compare ended with {code}"
    return root / name


class LiveSolve:
    """`glia solve` (SCG) in a subprocess, whose Researcher waits at a gate the test opens."""

    def __init__(self, task: Path, root: Path) -> None:
        self.run_id = unique("live")
        self.run_dir = root / self.run_id
        self.gate = threading.Event()
        self.server = FakeLLMServer()
        self.server.__enter__()
        self.models = Researchers(self.gate)
        self.server.handler("*", self.models)
        args = ["solve", str(task), "--root", str(root), "--run-id", self.run_id, "--strategy", "scg",
                "--max-steps", "12", "--max-simulations", "4", *model_args(self.server.openai_base_url)]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        self.output = root.parent / f"{self.run_id}.out"  # a file, not a pipe nobody reads while it runs
        with self.output.open("w") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "glia.cli", *args], env=env, stdout=out,
                                            stderr=subprocess.STDOUT)  # fmt: skip

    def wait_for_gate(self, timeout: float = 240) -> None:
        """Until the run is at the gate: the Supervisor has intervened and the Researcher is asked again."""
        deadline = time.monotonic() + timeout
        while not self.models.waiting.wait(timeout=0.5):
            assert self.process.poll() is None, f"glia solve ended early:\n{self.output.read_text()}"
            assert time.monotonic() < deadline, "glia solve never reached the gate"

    def release(self) -> None:
        self.gate.set()

    def finish(self, timeout: float = 240) -> str:
        """Wait for the run to end; its printed output."""
        self.release()
        try:
            self.process.wait(timeout=timeout)
        finally:
            self.close()
        out = self.output.read_text()
        assert self.process.returncode == 0, out
        return out

    def close(self) -> None:
        self.gate.set()
        if self.process.poll() is None:  # a failed test: Ctrl-C, so the run removes its own sandboxes
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        problems = self.server.problems
        self.server.__exit__(None, None, None)
        assert problems == [], problems
