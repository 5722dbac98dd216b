"""Hostile tricks against the budget from inside a real sandbox: none hangs the ledger or costs more than
the rule says.

The rule: only a readable `{"op": "start"}` on the ledger socket costs a simulation. Fake starts sent by
the Researcher's own script are simulations it chose to report, and cost budget like real ones; garbage,
silence, floods and anything planted in result folders cost nothing and are never read.
"""

from __future__ import annotations

import pytest
from budget_support import QUICK, TEMPLATE, SandboxedLedger

from glia.agents.ledger_socket import SOCKET_NAME

pytestmark = pytest.mark.docker

FLOOD = r"""
import json, os, socket, threading, time
path = os.environ["GLIA_LEDGER"]
outcomes = []

def one(kind):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(15)
    try:
        s.connect(path)
        if kind == 0:
            time.sleep(2)                                   # says nothing
        elif kind == 1:
            s.sendall(os.urandom(4096) + b"\n")              # binary garbage
        elif kind == 2:
            s.sendall(b'{"op": "start", "pad": "' + b"x" * 1_000_000)  # a line too long
        else:
            s.sendall(b'{"op": "end", "valid": true}\n' * 50)          # ends without a start
        outcomes.append(s.recv(200))
    except OSError as exc:
        outcomes.append(type(exc).__name__.encode())
    finally:
        s.close()

threads = [threading.Thread(target=one, args=(i % 4,)) for i in range(200)]
for t in threads: t.start()
for t in threads: t.join()
print("flood done", len(outcomes))
"""

FAKE_STARTS = r"""
import json, os, socket
for i in range(3):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(os.environ["GLIA_LEDGER"])
    conditions = {"router": "ai", "workload": "trace:data/processed_traces/sharegpt_7.5.csv", "duration": 1000}
    s.sendall(json.dumps({"op": "start", "conditions": conditions, "result_dir": "/etc/shadow"}).encode() + b"\n")
    print(s.recv(200).decode().strip())
    s.sendall(json.dumps({"op": "end", "valid": True, "error": None, "summary": {"mean_e2e": 0.001}}).encode() + b"\n")
    s.close()
"""


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory, workspace_image):
    """One sandbox for the module (a container takes seconds to start); tests look at what they add."""
    made = SandboxedLedger(tmp_path_factory.mktemp("hostile"), workspace_image, simulations=100)
    yield made
    made.close()


def test_results_symlinked_to_the_root_cost_nothing_and_hang_nothing(sandbox):
    used = sandbox.budget.simulations_used
    done = sandbox.bash(f"rm -rf simulator_results && ln -s / simulator_results && {QUICK}; echo rc=$?")
    assert "rc=1" in done.output  # the read-only root refuses the result folder: nothing was simulated
    assert sandbox.budget.simulations_used == used
    done = sandbox.bash(f"{QUICK} --output-root /tmp/o && mkdir -p logs && ln -s / logs/root; echo rc=$?")
    assert "rc=0" in done.output
    assert sandbox.budget.simulations_used == used + 1
    done = sandbox.bash(f"{QUICK} --output-root /tmp/p")  # snapshotted with the link to / in the tree
    assert done.result.exit_code == 0 and done.seconds < 60
    assert sandbox.budget.simulations_used == used + 2
    tree = sandbox.history.tree_at(sandbox.ledger.records[-1].snapshot)
    assert tree["logs/root"].is_symlink and tree["logs/root"].data == b"/"
    sandbox.bash("rm -rf simulator_results logs")


def test_a_fifo_and_dev_zero_named_summary_json_are_never_read(sandbox):
    plant = (
        "mkdir -p simulator_results/a/b simulator_results/c/d notes"
        " && echo '{}' > simulator_results/a/b/config.json"
        " && mkfifo simulator_results/a/b/summary.json notes/summary.json"
        " && ln -s /dev/zero simulator_results/c/d/summary.json"
        " && ln -s /dev/zero notes/zero.json && ln -s /dev/urandom notes/random.json"
    )
    used = sandbox.budget.simulations_used
    done = sandbox.bash(plant)
    assert done.result.exit_code == 0, done.output
    assert done.note is None and sandbox.budget.simulations_used == used  # planting files costs nothing
    done = sandbox.bash(f"{QUICK} --output-root /tmp/q")
    assert done.result.exit_code == 0 and done.seconds < 60
    assert sandbox.budget.simulations_used == used + 1
    record = sandbox.ledger.records[-1]
    assert record.snapshot is not None and sandbox.snapshot_seconds[-1] < 30
    tree = sandbox.history.tree_at(record.snapshot)
    assert "notes/summary.json" not in tree  # the FIFO is left out, never read
    assert tree["notes/zero.json"].data == b"/dev/zero"  # links are data, never followed
    sandbox.bash("rm -rf simulator_results notes")


def test_a_flood_of_fake_connections_costs_nothing_and_the_ledger_recovers(sandbox):
    used = sandbox.budget.simulations_used
    command = (
        f"cat > /tmp/flood.py <<'EOF'\n{FLOOD}EOF\npython3 /tmp/flood.py && {QUICK} --output-root /tmp/f"
    )
    done = sandbox.bash(command, timeout_s=180)
    assert done.result.exit_code == 0, done.output
    assert "flood done 200" in done.output and "mean_e2e:" in done.output
    assert done.seconds < 90
    assert sandbox.budget.simulations_used == used + 1 and sandbox.ledger.count == used + 1
    assert sandbox.events("simulation_refused") == []
    assert sandbox.ledger._server is not None and sandbox.ledger._server.open_connections == 0


def test_fake_starts_from_a_script_cost_budget_and_are_never_claims(sandbox):
    used = sandbox.budget.simulations_used
    done = sandbox.bash(f"cat > /tmp/fake.py <<'EOF'\n{FAKE_STARTS}EOF\npython3 /tmp/fake.py")
    assert done.result.exit_code == 0, done.output
    assert sandbox.budget.simulations_used == used + 3  # reported simulations, paid for like real ones
    records = sandbox.ledger.records[used:]
    assert all(r.result_dir == "/etc/shadow" for r in records)  # recorded as text, never opened
    # The conditions omit the cluster settings of the benchmark, so these are experiments, not claims.
    assert all(r.kind == "experiment" and r.claimed_score is None for r in records)
    assert sandbox.ledger.best() is None


def test_the_transcript_holds_no_host_path(sandbox):
    """Last in the module, so everything the attacks above wrote is checked too."""
    sandbox.bash(f"{QUICK} --output-root /tmp/x")
    text = sandbox.transcript.path.read_text()
    assert len(sandbox.events("simulation")) == sandbox.ledger.count >= 7
    for host_path in (
        str(sandbox.root),
        str(sandbox.socket.parent),
        str(TEMPLATE),
        SOCKET_NAME,
        "/tmp/pytest",
    ):
        assert host_path not in text, host_path
