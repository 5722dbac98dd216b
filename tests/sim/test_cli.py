"""The command line, run_all.sh and the result folder contract, as the Researcher will use them."""

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from llmsim.config import SimulationConfig
from llmsim.global_schedulers.base import GlobalScheduler
from llmsim.metrics import request_metrics
from llmsim.runner import run_and_record, simulate

SUMMARY_KEYS = {
    "valid",
    "error",
    "router",
    "trace",
    "qps",
    "seed",
    "num_requests",
    "num_completed",
    "mean_e2e",
    "p50_e2e",
    "p90_e2e",
    "p99_e2e",
    "frac_restarted",
    "mean_scheduling_delay",
    "throughput_rps",
    "wall_time_s",
}


def llmsim(template_dir, *args, cwd=None):
    env = {**os.environ, "PYTHONPATH": str(template_dir)}
    return subprocess.run(
        [sys.executable, "-m", "llmsim", *args],
        cwd=cwd or template_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def only_result_dir(root: Path) -> Path:
    (experiment,) = root.iterdir()
    (run,) = experiment.iterdir()
    return run


def test_run_writes_the_result_folder_and_ends_with_mean_e2e(template_dir, tmp_path):
    done = llmsim(
        template_dir,
        "run",
        "--router",
        "llq",
        "--qps",
        "7.5",
        "--duration",
        "60",
        "--output-root",
        str(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"mean_e2e: \d+\.\d{3}", last)
    run = only_result_dir(tmp_path)
    assert run.parent.name == "sharegpt_7.5_seed0_llq"
    assert {p.name for p in run.iterdir()} == {
        "config.json",
        "summary.json",
        "gs_log.csv",
        "reqs_log.csv",
        "request_metrics.csv",
    }
    summary = json.loads((run / "summary.json").read_text())
    assert summary.keys() >= SUMMARY_KEYS
    assert summary["valid"] is True and summary["error"] is None
    assert summary["num_requests"] == summary["num_completed"] == 450
    assert last == f"mean_e2e: {summary['mean_e2e']:.3f}"
    metrics = pd.read_csv(run / "request_metrics.csv")
    assert len(metrics) == 450 and metrics.request_e2e_time.mean() == pytest.approx(summary["mean_e2e"])
    for column in [
        "request_e2e_time",
        "ttft",
        "tpot",
        "request_scheduling_delay",
        "request_execution_time",
        "request_preemption_time",
        "request_num_restarts",
        "request_num_prefill_tokens",
        "request_num_decode_tokens",
    ]:
        assert column in metrics.columns
    gs = pd.read_csv(run / "gs_log.csv")
    assert list(gs.columns) == [
        "time",
        "replica_id",
        "num_pending_requests",
        "num_active_requests",
        "num_allocated_blocks",
        "num_blocks",
        "memory_usage_percent",
    ]
    assert len(gs) == 4 * summary["num_router_calls"]
    reqs = pd.read_csv(run / "reqs_log.csv")
    assert list(reqs.columns) == [
        "time",
        "replica_id",
        "request_id",
        "num_prefill_tokens",
        "num_decode_tokens",
    ]
    assert sorted(reqs.request_id) == list(range(450))
    config = json.loads((run / "config.json").read_text())
    assert config["router"] == "llq" and config["chunk_size"] == 8192


def test_invalid_run_records_the_error_and_exits_non_zero(template_dir, tmp_path):
    done = llmsim(
        template_dir,
        "run",
        "--router",
        "llq",
        "--qps",
        "7.5",
        "--duration",
        "300",
        "--time-limit",
        "0",
        "--output-root",
        str(tmp_path),
    )
    assert done.returncode == 1
    assert "INVALID RUN: SafetyLimitError: CPU-time limit of 0 s reached (simulator" in done.stdout
    assert "mean_e2e" not in done.stdout
    summary = json.loads((only_result_dir(tmp_path) / "summary.json").read_text())
    assert summary["valid"] is False and summary["error"].startswith("SafetyLimitError")
    assert summary["mean_e2e"] is None


def test_router_reading_decode_length_gives_an_invalid_summary(tmp_path):
    class Cheater(GlobalScheduler):
        def schedule(self):
            return self.route_all(lambda request: 0 if request.num_decode_tokens > 100 else 1)

    config = SimulationConfig(
        router="ai", qps=7.5, duration=20, output_root=str(tmp_path), experiment="cheat"
    )
    out, summary = run_and_record(config, Cheater)
    assert summary["valid"] is False
    assert summary["error"].startswith("HiddenInformationError: router read num_decode_tokens")
    assert json.loads((out / "summary.json").read_text())["error"] == summary["error"]


def test_help_documents_every_option(template_dir):
    done = llmsim(template_dir, "run", "--help")
    assert done.returncode == 0
    for option in [
        "--router",
        "--trace",
        "--qps",
        "--seed",
        "--duration",
        "--experiment",
        "--output-root",
        "--time-limit",
        "--replica-scheduler",
        "--no-skip-ahead",
    ]:
        assert option in done.stdout
    assert "generate" in llmsim(template_dir, "--help").stdout


def test_generate_subcommand_writes_the_trace(template_dir, tmp_path):
    out = tmp_path / "t.csv"
    done = llmsim(template_dir, "generate", "--qps", "7.5", "--seed", "0", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == (template_dir / "data/processed_traces/sharegpt_7.5.csv").read_bytes()


def test_run_all_script_passes_options_through(template_dir, tmp_path):
    env = {**os.environ, "PYTHON": sys.executable}
    done = subprocess.run(
        [
            "./run_all.sh",
            "--router",
            "llq",
            "--qps",
            "7.5",
            "--duration",
            "40",
            "--output-root",
            str(tmp_path),
        ],
        cwd=template_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0] == f"results: {only_result_dir(tmp_path)}"
    assert lines[-1].startswith("mean_e2e: ")
    positional = subprocess.run(
        ["./run_all.sh", "lor", "--seed", "2", "--duration", "30", "--output-root", str(tmp_path / "b")],
        cwd=template_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert positional.returncode == 0, positional.stderr
    assert json.loads((only_result_dir(tmp_path / "b") / "summary.json").read_text())["router"] == "lor"
    held_out = subprocess.run(
        [
            "./run_all.sh",
            "llq",
            "--trace",
            "data/processed_traces/sharegpt_8.5_seed2.csv",
            "--time-limit",
            "60",
            "--output-root",
            str(tmp_path / "c"),
        ],
        cwd=template_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert held_out.returncode == 0, held_out.stderr
    summary = json.loads((only_result_dir(tmp_path / "c") / "summary.json").read_text())
    assert (
        summary["qps"] == 8.5 and summary["num_requests"] == 8500 and summary["trace"].endswith("seed2.csv")
    )


def test_template_needs_only_the_standard_library_numpy_and_pandas(template_dir):
    # glia_isolation and glia_checks are copied in by Glia (.glia/lib), and imported only from there
    allowed = set(sys.stdlib_module_names) | {"numpy", "pandas", "llmsim", "glia_isolation", "glia_checks"}
    for path in (template_dir / "llmsim").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.name} imports {name}"
    gitignore = (template_dir / ".gitignore").read_text().split()
    assert "simulator_results/" in gitignore and "__pycache__/" in gitignore
    assert os.access(template_dir / "run_all.sh", os.X_OK)


@pytest.mark.docker
def test_benchmark_runs_inside_the_workspace_container(
    docker_client, workspace_image, template_dir, tmp_path
):
    """The template alone, in the sandbox image (Debian's Python, numpy and pandas), without network."""
    import shutil

    repo = tmp_path / "repo"
    shutil.copytree(template_dir, repo, ignore=shutil.ignore_patterns("__pycache__", "simulator_results"))
    output = docker_client.containers.run(
        workspace_image,
        [
            "bash",
            "-c",
            "./run_all.sh --router llq && python3 -m llmsim run --router ai --qps 6.5 --duration 50",
        ],
        working_dir="/repo",
        volumes={str(repo): {"bind": "/repo", "mode": "rw"}},
        network_mode="none",
        user=f"{os.getuid()}:{os.getgid()}",
        environment={"HOME": "/tmp"},
        remove=True,
    ).decode()
    host = simulate(
        SimulationConfig(router="llq", trace=str(template_dir / "data/processed_traces/sharegpt_7.5.csv"))
    )
    host_mean = request_metrics(host.requests).request_e2e_time.mean()
    assert (
        f"mean_e2e: {host_mean:.3f}" in output
    )  # the same number as on the host: deterministic across versions
    assert output.strip().splitlines()[-1].startswith("mean_e2e: ")
    runs = sorted((repo / "simulator_results").glob("*/*/summary.json"))
    assert len(runs) == 2 and all(json.loads(p.read_text())["valid"] for p in runs)


def test_the_shipped_trace_run_equals_the_generated_seed_0_run_byte_for_byte(template_dir, tmp_path):
    """What the brief and the README state: `./run_all.sh` on the shipped trace and `--qps 7.5 --duration
    1000 --seed 0` simulate the same requests and write the same per-request records and numbers."""
    env = {**os.environ, "PYTHON": sys.executable}
    shipped = subprocess.run(
        ["./run_all.sh", "llq", "--output-root", str(tmp_path / "shipped")],
        cwd=template_dir, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    generated = llmsim(
        template_dir, "run", "--router", "llq", "--qps", "7.5", "--duration", "1000", "--seed", "0",
        "--output-root", str(tmp_path / "generated"),
    )  # fmt: skip
    assert shipped.returncode == 0 and generated.returncode == 0, shipped.stderr + generated.stderr
    assert shipped.stdout.splitlines()[-1] == generated.stdout.splitlines()[-1] == "mean_e2e: 44.527"
    a, b = only_result_dir(tmp_path / "shipped"), only_result_dir(tmp_path / "generated")
    for name in ("request_metrics.csv", "reqs_log.csv", "gs_log.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    one, other = (json.loads((run / "summary.json").read_text()) for run in (a, b))
    assert one["mean_e2e"] == other["mean_e2e"] == 44.527159465584425
