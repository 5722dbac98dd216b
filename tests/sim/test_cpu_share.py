"""The core and the design process of an isolated run share the core's CPU, and let go when it is crowded.

They take turns, so one CPU is all the pair needs; on one CPU a round trip costs a context switch instead
of waking an idle CPU (llmsim/cpu_share.py). A real design host is started; the test process is the core.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from llmsim.cpu_limits import RemoteCpu
from llmsim.cpu_share import PIN_CALL, SHARE_ENV, current_cpu

from glia.isolation import ChannelError, RemoteError, connect

REPO = Path(__file__).resolve().parents[2]
ERRORS = (ChannelError, RemoteError)


@pytest.fixture
def host(tmp_path: Path):
    """(design host process, the core's channel to it); the test process's CPUs are restored after."""
    repo = tmp_path / "repo"
    shutil.copytree(REPO / "sim_repo_template", repo, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "glia" / "isolation", repo / ".glia" / "lib" / "glia_isolation")
    endpoint = str(tmp_path / "design.sock")
    env = {**os.environ, "PYTHONPATH": str(repo / ".glia" / "lib")}
    process = subprocess.Popen(
        [sys.executable, "-m", "llmsim.design_host", "--listen", endpoint, "--accept-timeout", "60"],
        cwd=repo,
        env=env,
    )
    allowed = os.sched_getaffinity(0)
    channel = connect(endpoint, timeout_s=60)
    try:
        yield process, channel
    finally:
        os.sched_setaffinity(0, allowed)
        channel.close()
        process.wait(timeout=30)


def test_both_processes_run_on_the_cores_cpu_until_a_window_shows_it_crowded(host, monkeypatch) -> None:
    process, channel = host
    monkeypatch.delenv(SHARE_ENV, raising=False)
    allowed = os.sched_getaffinity(0)
    meter = RemoteCpu(channel, ERRORS, 30)
    share = meter.share
    if len(allowed) < 2:  # one CPU: nothing to share, nothing pinned
        assert share.cpu is None and os.sched_getaffinity(process.pid) == allowed
        return
    assert share.cpu in allowed and share.cpu == current_cpu()
    assert os.sched_getaffinity(0) == {share.cpu} == os.sched_getaffinity(process.pid)

    meter.poll()  # the first poll starts a window
    window_start = share._mark
    assert window_start is not None
    meter.poll()  # a window shorter than WINDOW_S decides nothing
    assert share._mark == window_start and share.cpu is not None

    # A window in which the pair used its CPU fully keeps the pin ...
    share._mark = (time.perf_counter() - 0.5, time.process_time() - 0.5, meter.seconds)
    meter.poll()
    assert share.cpu is not None and os.sched_getaffinity(0) == {share.cpu}
    # ... one in which it got a tenth of it lets go, for both processes.
    share._mark = (time.perf_counter() - 1.0, time.process_time() - 0.05, meter.seconds - 0.05)
    meter.poll()
    assert share.cpu is None
    assert os.sched_getaffinity(0) == allowed == os.sched_getaffinity(process.pid)
    meter.close()
    assert os.sched_getaffinity(0) == allowed


def test_closing_the_meter_gives_the_core_every_cpu_back(host, monkeypatch) -> None:
    _, channel = host
    monkeypatch.delenv(SHARE_ENV, raising=False)
    allowed = os.sched_getaffinity(0)
    meter = RemoteCpu(channel, ERRORS, 30)
    assert (meter.share.cpu is not None) == (len(allowed) >= 2)
    meter.close()
    assert os.sched_getaffinity(0) == allowed and meter.share.cpu is None


def test_sharing_can_be_turned_off(host, monkeypatch) -> None:
    process, channel = host
    monkeypatch.setenv(SHARE_ENV, "0")
    allowed = os.sched_getaffinity(0)
    meter = RemoteCpu(channel, ERRORS, 30)
    assert meter.share.cpu is None
    assert os.sched_getaffinity(0) == allowed == os.sched_getaffinity(process.pid)


def test_the_design_host_pins_only_to_a_cpu_it_may_use(host) -> None:
    process, channel = host
    allowed = os.sched_getaffinity(process.pid)
    for hostile in (True, "0", 1.0, [0], None, max(allowed) + 1, -2, 10**30):
        assert channel.call(PIN_CALL, hostile, timeout_s=30) is False
        assert os.sched_getaffinity(process.pid) == allowed
    cpu = min(allowed)
    assert channel.call(PIN_CALL, cpu, timeout_s=30) is True
    assert os.sched_getaffinity(process.pid) == {cpu}
    assert channel.call(PIN_CALL, -1, timeout_s=30) is True
    assert os.sched_getaffinity(process.pid) == allowed
