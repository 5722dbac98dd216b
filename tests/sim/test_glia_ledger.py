"""The simulator reports every simulation to GLIA_LEDGER from `Simulator.run()`.

A fake ledger (a plain unix-socket server in this file) records what the simulator sends and answers
as told, so these tests check the wire protocol itself, whatever the host side makes of it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from llmsim.config import SimulationConfig
from llmsim.errors import RouterError
from llmsim.glia_ledger import (
    CALL_ENV_VAR,
    ENV_VAR,
    LedgerRefused,
    LedgerUnavailable,
    RunReport,
    simulation_conditions,
)
from llmsim.global_schedulers.base import GlobalScheduler
from llmsim.global_schedulers.llq import LLQGlobalScheduler
from llmsim.runner import load_workload, run_and_record, simulate
from llmsim.simulator import Simulator, requests_from_trace

from .conftest import small_workload

BENCH_TRACE = "data/processed_traces/sharegpt_7.5.csv"


class FakeLedger:
    """Accepts connections, records every line, answers each start with `answer` (or raw bytes)."""

    def __init__(self, directory: Path, answer: dict | bytes | None = None) -> None:
        self.path = directory / "l.sock"
        self.answer = answer
        self.connections: list[list[dict]] = []
        self.closed_without_end = 0
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.bind(str(self.path))
        self._sock.listen(16)
        self._sock.settimeout(0.1)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accepter = threading.Thread(target=self._accept, daemon=True)
        self._accepter.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        lines: list[dict] = []
        with self._lock:
            self.connections.append(lines)
        with conn, conn.makefile("rb") as stream:
            for raw in stream:
                message = json.loads(raw)
                lines.append(message)
                if message.get("op") == "start":
                    reply = (
                        self.answer
                        if self.answer is not None
                        else {"ok": True, "simulation": len(self.connections)}
                    )
                    conn.sendall(reply if isinstance(reply, bytes) else json.dumps(reply).encode() + b"\n")
        if lines and lines[-1].get("op") != "end":
            with self._lock:
                self.closed_without_end += 1

    def messages(self) -> list[list[dict]]:
        """Every connection's messages, once all of them have hung up."""
        for thread in list(self._threads):
            thread.join(10)
        with self._lock:
            return [list(c) for c in self.connections]

    def close(self) -> None:
        self._stop.set()
        self._accepter.join(5)
        self._sock.close()


@pytest.fixture
def ledger(tmp_path, monkeypatch):
    fake = FakeLedger(tmp_path)
    monkeypatch.setenv(ENV_VAR, str(fake.path))
    yield fake
    fake.close()


def run_cli(template_dir: Path, *args: str, env: dict[str, str], cwd: Path | None = None):
    return subprocess.run(
        [sys.executable, "-m", "llmsim", "run", *args],
        cwd=cwd or template_dir,
        env={**os.environ, "PYTHONPATH": str(template_dir), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_cli_reports_start_and_end_with_the_summary_it_wrote(template_dir, tmp_path, ledger):
    done = run_cli(
        template_dir,
        "--router",
        "llq",
        "--qps",
        "2",
        "--seed",
        "3",
        "--duration",
        "20",
        "--output-root",
        str(tmp_path / "out"),
        env={ENV_VAR: str(ledger.path), CALL_ENV_VAR: "call_42"},
    )
    assert done.returncode == 0, done.stderr
    [[start, end]] = ledger.messages()
    result_dir = done.stdout.splitlines()[0].removeprefix("results: ")
    assert start["op"] == "start" and start["result_dir"] == result_dir and start["call"] == "call_42"
    conditions = start["conditions"]
    assert conditions["router"] == "llq"
    assert conditions["workload"] == "generated:qps=2,seed=3,duration=20"
    assert (conditions["duration"], conditions["num_requests"], conditions["num_blocks"]) == (20.0, 40, 2254)
    assert (conditions["replica_scheduler"], conditions["num_replicas"], conditions["device"]) == (
        "sarathi",
        4,
        "a10",
    )
    assert len(conditions["workload_sha256"]) == 64
    written = json.loads((Path(result_dir) / "summary.json").read_text())
    assert end["op"] == "end" and end["valid"] is True and end["error"] is None
    assert end["summary"]["mean_e2e"] == written["mean_e2e"]
    assert end["summary"]["num_requests"] == 40


def test_run_all_reports_the_benchmark_trace_relative_to_the_repository(template_dir, tmp_path, ledger):
    done = subprocess.run(
        ["./run_all.sh", "--duration", "30", "--output-root", str(tmp_path / "out")],
        cwd=template_dir,
        env={
            **os.environ,
            "PYTHONPATH": str(template_dir),
            "PYTHON": sys.executable,
            ENV_VAR: str(ledger.path),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    [[start, end]] = ledger.messages()
    assert start["conditions"]["router"] == "ai"
    assert start["conditions"]["workload"] == f"trace:{BENCH_TRACE}"
    assert start["conditions"]["duration"] == 30.0
    assert end["summary"]["trace_requests_kept"] == start["conditions"]["num_requests"] < 7500


def test_an_in_process_simulate_call_is_reported_without_a_summary(ledger):
    result = simulate(SimulationConfig(router="lor", qps=2.0, duration=15.0, seed=1))
    [[start, end]] = ledger.messages()
    assert start["result_dir"] is None and start["conditions"]["router"] == "lor"
    assert start["conditions"]["num_requests"] == len(result.requests)
    assert end == {"op": "end", "valid": True, "error": None, "summary": None}


def test_a_simulator_built_by_hand_is_reported_and_its_router_class_named(ledger):
    config = SimulationConfig(router="ai", duration=15.0)
    Simulator(config, small_workload(duration=15.0), LLQGlobalScheduler).run()
    Simulator(config, small_workload(duration=15.0), LLQGlobalScheduler).run()
    starts = [c[0] for c in ledger.messages()]
    assert len(starts) == 2
    assert starts[0]["conditions"]["router"] == "custom:llmsim.global_schedulers.llq.LLQGlobalScheduler"


def test_another_output_root_is_reported_and_deleting_the_results_changes_nothing(
    template_dir, tmp_path, ledger
):
    out = tmp_path / "x"
    done = run_cli(
        template_dir,
        "--qps",
        "2",
        "--duration",
        "10",
        "--output-root",
        str(out),
        env={ENV_VAR: str(ledger.path)},
    )
    assert done.returncode == 0, done.stderr
    for path in sorted(out.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    [[start, _end]] = ledger.messages()
    assert start["result_dir"].startswith(str(out))


def test_an_invalid_run_reports_its_error(ledger):
    class Broken(GlobalScheduler):
        def schedule(self):
            raise KeyError("nope")

    with pytest.raises(RouterError):
        simulate(SimulationConfig(duration=10.0), Broken)
    [[_start, end]] = ledger.messages()
    assert end["valid"] is False and end["error"].startswith("RouterError: router schedule() raised KeyError")


def test_a_run_killed_mid_way_hangs_up_without_end(ledger):
    class Interrupted(GlobalScheduler):
        def schedule(self):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        simulate(SimulationConfig(duration=10.0), Interrupted)
    [[start]] = ledger.messages()
    assert start["op"] == "start" and ledger.closed_without_end == 1


def test_run_and_record_sends_the_summary_of_an_invalid_run(tmp_path, ledger):
    class Broken(GlobalScheduler):
        def schedule(self):
            raise ValueError("bad")

    out, summary = run_and_record(SimulationConfig(duration=10.0, output_root=str(tmp_path)), Broken)
    [[start, end]] = ledger.messages()
    assert start["result_dir"] == str(out)
    assert end["valid"] is False and end["error"] == summary["error"] and end["summary"]["valid"] is False


def test_a_refusal_stops_the_run_before_it_starts(template_dir, tmp_path):
    fake = FakeLedger(tmp_path, answer={"ok": False, "error": "the simulation budget of this run is spent"})
    try:
        out = tmp_path / "out"
        done = run_cli(
            template_dir,
            "--qps",
            "2",
            "--duration",
            "10",
            "--output-root",
            str(out),
            env={ENV_VAR: str(fake.path)},
        )
        [[start]] = fake.messages()
    finally:
        fake.close()
    assert done.returncode == 2
    assert "the simulation budget of this run is spent" in done.stderr
    assert "mean_e2e" not in done.stdout
    assert start["op"] == "start"
    assert not any(out.rglob("*.json"))  # no result folder was left behind


def test_a_refusal_in_process_raises_before_simulating(tmp_path, monkeypatch):
    fake = FakeLedger(tmp_path, answer={"ok": False, "error": "no more"})
    monkeypatch.setenv(ENV_VAR, str(fake.path))
    config = SimulationConfig(duration=10.0)
    sim = Simulator(config, small_workload(duration=10.0))
    try:
        with pytest.raises(LedgerRefused, match="Glia refused this simulation: no more"):
            sim.run()
    finally:
        fake.close()
    assert all(r.completed_at is None for r in sim.requests)  # nothing was simulated


@pytest.mark.parametrize(
    "answer", [b"garbage\n", b'{"ok": true}\n', b'{"ok": true, "simulation": "1"}\n', b"\n"]
)
def test_a_garbage_answer_makes_the_simulator_refuse(tmp_path, monkeypatch, answer):
    fake = FakeLedger(tmp_path, answer=answer)
    monkeypatch.setenv(ENV_VAR, str(fake.path))
    try:
        with pytest.raises(LedgerUnavailable, match="GLIA_LEDGER is set"):
            simulate(SimulationConfig(duration=10.0))
    finally:
        fake.close()


def test_an_unreachable_ledger_makes_the_cli_refuse_and_name_the_variable(template_dir, tmp_path):
    out = tmp_path / "out"
    missing = tmp_path / "nothing-here.sock"
    done = run_cli(
        template_dir, "--qps", "2", "--duration", "10", "--output-root", str(out), env={ENV_VAR: str(missing)}
    )
    assert done.returncode == 2
    assert f"GLIA_LEDGER is set ({missing})" in done.stderr and "cannot connect" in done.stderr
    assert not any(out.rglob("*.json"))


def test_without_the_variable_nothing_is_reported(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    report = RunReport()
    assert report.start({"router": "ai"}) is None
    report.end(True)  # nothing to send, nothing raised


def test_a_report_covers_one_simulation_only(ledger):
    report = RunReport()
    report.start({"router": "ai"})
    with pytest.raises(RuntimeError, match="one simulation"):
        report.start({"router": "ai"})
    report.close()


def test_a_trace_is_cut_at_the_duration_and_the_summary_says_how_much(template_dir, tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.chdir(template_dir)
    config = SimulationConfig(trace=BENCH_TRACE, duration=200.0, output_root=str(tmp_path))
    trace = load_workload(config)
    assert trace["arrived_at"].max() <= 200.0 and len(trace) < 7500
    out, summary = run_and_record(config)
    assert summary["valid"] is True
    assert (summary["trace_requests_kept"], summary["trace_requests_total"]) == (len(trace), 7500)
    assert summary["num_requests"] == len(trace) and summary["duration"] == 200.0
    full = load_workload(SimulationConfig(trace=BENCH_TRACE))  # the default keeps the whole trace
    assert len(full) == 7500


def test_the_cli_says_when_it_cut_a_trace(template_dir, tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    done = run_cli(
        template_dir, "--trace", BENCH_TRACE, "--duration", "100", "--output-root", str(tmp_path), env={}
    )
    assert done.returncode == 0, done.stderr
    kept = len(load_workload(SimulationConfig(trace=str(template_dir / BENCH_TRACE), duration=100.0)))
    assert f"trace cut at 100 s: {kept} of its 7500 requests simulated" in done.stdout


def test_a_duration_before_the_first_arrival_is_an_invalid_run(template_dir, tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.chdir(template_dir)
    _, summary = run_and_record(SimulationConfig(trace=BENCH_TRACE, duration=0.01, output_root=str(tmp_path)))
    assert summary["valid"] is False and "no request of the trace arrives within" in summary["error"]


def test_the_trace_and_the_generated_benchmark_workload_have_the_same_digest(template_dir, monkeypatch):
    monkeypatch.chdir(template_dir)
    digests = []
    for config in (SimulationConfig(trace=BENCH_TRACE), SimulationConfig(qps=7.5, seed=0)):
        requests = requests_from_trace(load_workload(config))
        sim = Simulator(config, requests)
        digests.append(simulation_conditions(config, requests, sim.router, sim.num_blocks)["workload_sha256"])
    assert digests[0] == digests[1]
