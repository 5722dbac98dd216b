"""Reading a container's CPU time from its cgroup: both cgroup versions, and a counter that restarts."""

from __future__ import annotations

from pathlib import Path

from glia.workspace.cpu_usage import CpuUsage, _parse_cgroup_file


def test_both_cgroup_formats_are_read_in_seconds(tmp_path: Path):
    v1 = tmp_path / "cpuacct.usage"
    v1.write_text("2500000000\n")
    v2 = tmp_path / "cpu.stat"
    v2.write_text("usage_usec 1250000\nuser_usec 1000000\nsystem_usec 250000\n")
    assert _parse_cgroup_file(v1) == 2.5
    assert _parse_cgroup_file(v2) == 1.25


def test_a_counter_that_goes_back_is_carried_on(tmp_path: Path):
    """After a restart the container's cgroup is new and counts from zero: what was used stays used."""
    counter = tmp_path / "cpuacct.usage"
    usage = CpuUsage(api=None, container_id="x" * 64)
    usage._resolved, usage._file = True, counter
    counter.write_text("4000000000")
    assert usage.seconds() == 4.0
    counter.write_text("1000000000")
    assert usage.seconds() == 5.0
    counter.write_text("3000000000")
    assert usage.seconds() == 7.0
