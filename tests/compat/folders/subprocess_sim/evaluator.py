"""An evaluator in ADRS's style: it runs its simulator as a subprocess on the program's path, and
reports a failed run as `runs_successfully: 0` with the simulator's stderr, never raising."""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def evaluate(program_path):
    done = subprocess.run(
        [sys.executable, "simulate.py", f"--strategy-file={program_path}"],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        return {
            "runs_successfully": 0.0,
            "error": f"Simulation failed with exit code {done.returncode}.",
            "stderr": done.stderr,
        }
    return {"runs_successfully": 1.0, "combined_score": float(done.stdout.split()[-1])}
