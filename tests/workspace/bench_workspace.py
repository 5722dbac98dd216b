"""Workspace timings (a benchmark, not a test): `python tests/workspace/bench_workspace.py [docker|local]`.

Prints start and close times, the overhead of one command, the cost of 10 MB of output, and how well
parallel commands overlap in one workspace.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from glia.workspace import create_workspace, init_repo


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def bench(backend: str) -> None:
    with tempfile.TemporaryDirectory(prefix="glia-bench-") as scratch:
        root = Path(scratch)
        (root / "template").mkdir()
        (root / "template" / "design.py").write_text("VALUE = 0\n")
        init_repo(root / "template", root / "repo")
        workspace = create_workspace(backend, root / "repo", root / "outputs", "bench", "1")
        start_s = timed(workspace.start)
        trivial = [timed(lambda: workspace.exec("true")) for _ in range(20)]
        python_s = timed(lambda: workspace.exec("python -c 'import numpy, pandas'"))
        big_s = timed(lambda: workspace.exec("head -c 10000000 /dev/zero | tr '\\0' x", timeout_s=120))
        with ThreadPoolExecutor(max_workers=4) as pool:
            parallel_s = timed(lambda: list(pool.map(lambda _: workspace.exec("sleep 1"), range(4))))
        close_s = timed(workspace.close)
    print(f"backend {backend}")
    print(f"  start                      {start_s:7.2f} s")
    print(
        f"  `true` median / max        {statistics.median(trivial) * 1000:7.1f} / {max(trivial) * 1000:.1f} ms"
    )
    print(f"  import numpy, pandas       {python_s:7.2f} s")
    print(f"  10 MB of output            {big_s:7.2f} s")
    print(f"  4 x `sleep 1` in parallel  {parallel_s:7.2f} s")
    print(f"  close                      {close_s:7.2f} s")


if __name__ == "__main__":
    for name in sys.argv[1:] or ["docker", "local"]:
        bench(name)
