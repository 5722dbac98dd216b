"""The driver dies (kill -9) in the middle of a cluster run; `glia resume --cluster` finishes it there.

`glia solve --cluster` runs in a process of its own, its sandbox on a node of the real local cluster,
the fake model server in this process. It is killed while a long simulation runs on the node: Ray ends
the dead driver's actors, nothing of the driver's clean-up runs. `glia resume` from here joins the same
cluster, puts the context's sandbox on a node again (from its history) and must finish the run with the
books exactly as the durable record has them: each simulation charged once, the killed one recorded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from glia.cli import main
from glia.cluster import PLACEMENT
from tests.cli.test_run_record_e2e import BENCH_THEN_LONG, REPO_ROOT, _transcript, approve
from tests.cli.test_solve import ROUTER, SUMMARY
from tests.fake_llm import FakeLLMServer, reply, tool_call
from tests.orchestrator.e2e_support import run_containers, write_quick_task

pytestmark = pytest.mark.docker


def researcher(request) -> object:
    if not request.tool_names:
        return reply("ok")  # the pre-flight probe
    step = sum(1 for m in request.messages if m.get("role") == "assistant")
    if step == 0:
        return reply("Least-loaded first.", [tool_call("bash", {"command": ROUTER})])
    if step == 1:
        return reply("Benchmark, then a long load.", [tool_call("bash", {"command": BENCH_THEN_LONG})])
    return reply("Done.", [tool_call("finish", SUMMARY)])


def test_a_killed_driver_is_resumed_on_the_cluster_with_exact_counts(
    ray_cluster, workspace_image, tmp_path: Path, capsys
) -> None:
    root, run_id = tmp_path / "workspaces", "cluster-driver-killed"
    run_dir = root / run_id
    common = ["--root", str(root), "--cluster", ray_cluster.address]
    with FakeLLMServer() as server:
        server.handler("gpt-4o", researcher)
        server.handler("gpt-4.1", approve)
        args = ["solve", str(write_quick_task(tmp_path)), *common, "--researcher-model", "openai:gpt-4o",
                "--supervisor-model", "openai:gpt-4.1", "--base-url", server.openai_base_url, "--image",
                workspace_image, "--run-id", run_id, "--max-steps", "8", "--max-minutes", "15",
                "--max-simulations", "6", "--live-evaluations", "0"]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        driver = subprocess.Popen([sys.executable, "-m", "glia.cli", *args], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            deadline = time.monotonic() + 300
            while sum(e["type"] == "simulation_started" for e in _transcript(run_dir)) < 2:
                assert driver.poll() is None, "glia solve ended before the long simulation started"
                assert time.monotonic() < deadline, "the long simulation never started"
                time.sleep(0.3)
            first_node = json.loads((run_dir / "run.json").read_text())["contexts"][0]["node"]
            driver.kill()  # kill -9: the driver's own clean-up never runs
            driver.wait(timeout=30)
        finally:
            if driver.poll() is None:
                driver.kill()
        assert json.loads((run_dir / "run.json").read_text())["status"] == "running"  # as the kill left it
        assert first_node["node_id"] in ray_cluster.node_ids().values()

        assert main(["resume", run_id, *common]) == 0
        assert f"Run {run_id}: finished." in capsys.readouterr().out
        assert server.problems == []
    main(["cleanup", "--run", run_id, "--yes"])  # what the killed driver left (its evaluation sandboxes)
    capsys.readouterr()

    events = _transcript(run_dir)
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(set(seqs)), "one writer: every sequence number once, in order"
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "finished" and [s["resumed"] for s in run["sessions"]] == [False, True]
    assert run["contexts"][0]["node"]["node_id"] in ray_cluster.node_ids().values()  # placed again
    started = [e for e in events if e["type"] == "simulation_started"]
    assert run["usage"]["simulations"] == len(started) == run["contexts"][0]["simulations"] == 2
    ends = {e["index"]: e for e in events if e["type"] == "simulation"}
    assert ends[1]["valid"] is True and ends[1]["kind"] == "claim"
    assert ends[2]["outcome"] == "killed_with_process"  # charged once, at its start, never again
    calls = [e for e in events if e["type"] == "model_call"]
    assert run["usage"]["dollars"] == pytest.approx(sum(c["cost_usd"] for c in calls), abs=2e-6)
    assert run["best"] is not None and run["contexts"][0]["trusted"][0]["valid"] is True
    assert PLACEMENT.in_use() == {} and run_containers(run_id) == []
