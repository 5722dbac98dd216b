"""Workspace timings (a benchmark, not a test): `python tests/workspace/bench_workspace.py [docker|local]`.

Prints, for the simulator template (`sim_repo_template/`): container start, `write_files`, `export_tree`
(median of 10), `History.commit` of the template (first commit, then unchanged), a full `Snapshotter`
restore; then the overhead of one command, the cost of 10 MB of output, and how well parallel commands
overlap in one workspace.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from glia.workspace import History, Snapshotter, create_workspace, tree_from_folder

TEMPLATE = Path(__file__).resolve().parents[2] / "sim_repo_template"
EXCLUDES = (".git", "__pycache__", "*.pyc", "simulator_results")


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def bench(backend: str) -> None:
    with tempfile.TemporaryDirectory(prefix="glia-bench-") as scratch:
        root = Path(scratch)
        template = tree_from_folder(TEMPLATE, EXCLUDES)
        workspace = create_workspace(backend, root / "outputs", "bench", "1")
        start_s = timed(workspace.start)
        write_s = timed(lambda: workspace.write_files(template))
        exports = [timed(lambda: workspace.export_tree(EXCLUDES)) for _ in range(10)]
        exported = workspace.export_tree(EXCLUDES)
        assert exported == template, "the export must give back exactly what was written"
        history_holder: list[History] = []
        first_s = timed(lambda: history_holder.append(History.create(root / "history.git", template)))
        history = history_holder[0]
        unchanged = [timed(lambda: history.commit(template, "unchanged")) for _ in range(10)]
        snapshotter = Snapshotter(workspace, history, EXCLUDES)
        restore_s = timed(lambda: snapshotter.restore(history.first_commit()))
        saves = [timed(lambda: snapshotter.save("after", only_if_changed=True)) for _ in range(10)]
        trivial = [timed(lambda: workspace.exec("true")) for _ in range(20)]
        python_s = timed(lambda: workspace.exec("python -c 'import numpy, pandas'"))
        big_s = timed(lambda: workspace.exec("head -c 10000000 /dev/zero | tr '\\0' x", timeout_s=120))
        with ThreadPoolExecutor(max_workers=4) as pool:
            parallel_s = timed(lambda: list(pool.map(lambda _: workspace.exec("sleep 1"), range(4))))
        close_s = timed(workspace.close)
    print(f"backend {backend}; template: {len(template)} files, {template.total_bytes / 1e6:.2f} MB")
    print(f"  start                          {start_s:7.2f} s")
    print(f"  write_files(template)          {write_s * 1000:7.1f} ms")
    print(
        f"  export_tree median / max       {statistics.median(exports) * 1000:7.1f} / {max(exports) * 1000:.1f} ms"
    )
    print(f"  History.create (first commit)  {first_s * 1000:7.1f} ms")
    print(f"  History.commit unchanged, med. {statistics.median(unchanged) * 1000:7.1f} ms")
    print(f"  Snapshotter.restore(template)  {restore_s * 1000:7.1f} ms")
    print(f"  autosave, nothing changed      {statistics.median(saves) * 1000:7.1f} ms")
    print(
        f"  `true` median / max            {statistics.median(trivial) * 1000:7.1f} / {max(trivial) * 1000:.1f} ms"
    )
    print(f"  import numpy, pandas           {python_s:7.2f} s")
    print(f"  10 MB of output                {big_s:7.2f} s")
    print(f"  4 x `sleep 1` in parallel      {parallel_s:7.2f} s")
    print(f"  close                          {close_s:7.2f} s")


if __name__ == "__main__":
    for name in sys.argv[1:] or ["docker", "local"]:
        bench(name)
