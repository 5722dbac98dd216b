"""ADRS's cant-be-late layout: the simulator is a project in `simulator/`, started as a subprocess
from there, and the program imports the simulator's package (`fleet`) as that project sees it."""

import os
import subprocess
import sys

SIMULATOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "simulator")


def evaluate(program_path):
    done = subprocess.run(
        [sys.executable, "simulate.py", f"--strategy-file={os.path.abspath(program_path)}"],
        cwd=SIMULATOR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        return {"runs_successfully": 0.0, "combined_score": 0.0, "stderr": done.stderr}
    return {"runs_successfully": 1.0, "combined_score": float(done.stdout.split()[-1])}
