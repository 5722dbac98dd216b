"""Compute the ledger never hears of is charged anyway: the sandbox's CPU time is the backstop.

The attacks keep the repository byte-identical to the template and stop the simulator's own report
(a `.pth` start-up hook, an in-process patch from a script outside the repository, a busy loop that
calls itself analysis). The host reads the container's cgroup CPU time, which nothing inside can
change, and charges what the counted simulations and the allowance cannot explain. The honest path,
ordinary benchmark runs and analysis, is never charged.

The sandbox uses a stricter policy than the shipped one (`CpuPolicy()`), so the attacks stay short:
honest work that is not charged under it is not charged under the shipped allowances either, which
are larger in every term.
"""

from __future__ import annotations

import time

import pytest
from budget_support import QUICK, SandboxedLedger

from glia.agents.cpu_backstop import UNCOUNTED_EVENT, CpuPolicy

pytestmark = pytest.mark.docker

STRICT = CpuPolicy(simulation_s=1.5, command_s=1.5, start_s=3.0, max_credit_s=3.0, check_every_s=1.0)

# Patches the ledger client as it is imported, so the simulator believes it runs outside Glia.
HOOK = """
import importlib.machinery, sys
class _Quiet:
    def find_spec(self, name, path=None, target=None):
        if name != "llmsim.glia_ledger":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        run = spec.loader.exec_module
        def exec_module(module):
            run(module)
            module.RunReport.start = lambda self, conditions: None
        spec.loader.exec_module = exec_module
        return spec
sys.meta_path.insert(0, _Quiet())
"""

# Many short simulations in one process, the reporting function replaced first.
IN_PROCESS = """
import sys
sys.path.insert(0, "/workspace/repo")
import llmsim.glia_ledger as ledger
ledger.RunReport.start = lambda self, conditions: None
from llmsim.config import SimulationConfig
from llmsim.runner import simulate
import time
runs = 0
while time.process_time() < 6.0:
    simulate(SimulationConfig(router="llq", qps=7.5, duration=200.0))
    runs += 1
print("uncounted runs", runs)
"""


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory, workspace_image):
    made = SandboxedLedger(
        tmp_path_factory.mktemp("uncounted"), workspace_image, simulations=1000, cpu_policy=STRICT
    )
    yield made
    made.close()


def charges(sandbox: SandboxedLedger) -> list[dict]:
    return [e for e in sandbox.events(UNCOUNTED_EVENT) if not e.get("unreadable")]


def test_an_honest_context_is_never_charged_extra(sandbox):
    assert sandbox.ledger.cpu is not None and sandbox.ledger.cpu.active
    analysis = (
        'python3 -c "import glob, json, pandas as pd; '
        "rows = [json.load(open(p)) for p in glob.glob('simulator_results/*/*/summary.json')]; "
        'print(pd.DataFrame(rows).describe())"'
    )
    for command in ("./run_all.sh", "./run_all.sh llq --duration 20", analysis, "ls -R | wc -l && head -5 run_all.sh",
                    "./run_all.sh --seed 3", "grep -rn 'def route' llmsim | head", analysis):  # fmt: skip
        done = sandbox.bash(command)
        assert done.result.exit_code == 0, done.output
    assert charges(sandbox) == []
    assert sandbox.budget.usage()["uncounted_simulations"] == 0
    assert sandbox.budget.simulations_used == sandbox.ledger.count == 3
    assert sandbox.ledger.cpu.used_s > 1.0  # it did read the container's CPU time
    assert all("Uncounted" not in (c.note or "") for c in sandbox.commands)


def test_a_pth_hook_that_silences_the_ledger_is_charged(sandbox):
    """A user site elsewhere (PYTHONUSERBASE): on an image whose site.py has the user site off the
    runs are counted; where Python still honours it, they are not, and the CPU time charges them."""
    site = "/tmp/ub/lib/python3.11/site-packages"
    setup = sandbox.bash(
        f"mkdir -p {site} && cat > {site}/quiet_hook.py <<'EOF'\n{HOOK}EOF\n"
        f"echo 'import quiet_hook' > {site}/quiet.pth"
    )
    assert setup.result.exit_code == 0, setup.output
    plain = sandbox.bash(QUICK)  # the hook does not persist into a plain command
    assert plain.note and "Simulation #" in plain.note
    counted = sandbox.ledger.count
    loop = "for i in $(seq 8); do {} ./run_all.sh >/dev/null; done; echo done"
    # Glia sets PYTHONNOUSERSITE for every command: PYTHONUSERBASE alone changes nothing.
    honest = sandbox.bash(loop.format("PYTHONUSERBASE=/tmp/ub"))
    assert honest.result.exit_code == 0 and sandbox.ledger.count == counted + 8, honest.output
    counted, charged = sandbox.ledger.count, sandbox.budget.usage()["uncounted_simulations"]
    attack = sandbox.bash(loop.format("env -u PYTHONNOUSERSITE PYTHONUSERBASE=/tmp/ub"))
    assert attack.result.exit_code == 0 and "done" in attack.output, attack.output
    new_counted = sandbox.ledger.count - counted
    new_charged = sandbox.budget.usage()["uncounted_simulations"] - charged
    if new_counted == 8:  # the image ignores PYTHONUSERBASE: every run was reported
        return
    assert new_counted == 0  # the hook did silence the report ...
    assert new_charged >= 2, attack.note  # ... and the CPU time was charged all the same
    assert "Uncounted compute" in attack.note
    event = charges(sandbox)[-1]
    assert event["call_id"] == f"call_{len(sandbox.commands)}"
    assert event["cpu_unexplained_s"] > 0 and event["charged_total"] == sandbox.ledger.cpu.charged


def test_an_in_process_patch_from_a_script_outside_the_repository_is_charged(sandbox):
    before = sandbox.budget.usage()
    counted = sandbox.ledger.count
    done = sandbox.bash(f"cat > /tmp/x.py <<'EOF'\n{IN_PROCESS}EOF\npython3 /tmp/x.py", timeout_s=90)
    assert done.result.exit_code == 0, done.output
    assert "uncounted runs" in done.output
    assert sandbox.ledger.count == counted  # the count was silenced ...
    after = sandbox.budget.usage()
    charged = after["uncounted_simulations"] - before["uncounted_simulations"]
    # ... about 6 CPU-s: at most 4.5 explained (the command's allowance and the credit left over)
    assert charged >= 1, done.note
    assert after["simulations"] - before["simulations"] == charged
    assert after["uncounted_cpu_s"] - before["uncounted_cpu_s"] == pytest.approx(charged * 1.5)
    assert "Uncounted compute" in (done.note or "")
    assert any(n.startswith("Uncounted compute:") for n in sandbox.budget.notes())


def test_a_busy_loop_is_charged_while_it_runs_and_spends_the_budget(tmp_path, workspace_image):
    """Checked during the command, not only after it: a loop that spends the budget meets a refusal
    from the ledger before it ends, and the context sees the budget spent."""
    small = SandboxedLedger(tmp_path, workspace_image, simulations=1, cpu_policy=STRICT)
    try:
        began = time.monotonic()
        done = small.bash(
            "python3 -c 'import time\nwhile time.process_time() < 5.5: pass' && ./run_all.sh --duration 20",
            timeout_s=90,
        )
        events = charges(small)
        assert len(events) >= 2, events  # charged while the loop ran, then again at the end
        assert small.budget.exhausted() == "simulation_budget"
        assert small.budget.simulations_used >= 1
        assert "refused" in done.output.lower() or done.result.exit_code != 0, done.output
        assert small.ledger.count == 0  # the simulation after the loop was refused
        assert time.monotonic() - began < 85
    finally:
        small.close()
