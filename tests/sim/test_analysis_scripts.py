"""A script in analysis/ runs as plain `python analysis/x.py`, with no PYTHONPATH, on the repository's llmsim."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

SCRIPT = """\
import llmsim
from llmsim.config import SimulationConfig
from llmsim.runner import simulate

result = simulate(SimulationConfig(router="llq", qps=2.0, duration=20.0))
print(len(result.requests), llmsim.EDITED, llmsim.runner.__file__)
"""


def test_a_plain_analysis_script_imports_the_repositorys_own_llmsim(
    template_dir: Path, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(template_dir / "llmsim", repo / "llmsim", ignore=ignore)
    shutil.copytree(template_dir / "analysis", repo / "analysis", ignore=ignore)
    with (repo / "llmsim" / "__init__.py").open("a") as handle:  # an edit the script must see
        handle.write("EDITED = 'yes'\n")
    (repo / "analysis" / "probe.py").write_text(SCRIPT)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    for cwd in (repo, tmp_path):  # from the repository root, and from elsewhere by path
        done = subprocess.run(
            [sys.executable, str(repo / "analysis" / "probe.py")],
            cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        count, edited, runner = done.stdout.split()
        assert (count, edited) == ("40", "yes")
        assert Path(runner) == repo / "llmsim" / "runner.py"
