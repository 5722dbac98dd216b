"""What both backends agree on about running one command: environment, time limits, timed-out status."""

from __future__ import annotations

import signal

from glia.workspace.base import Limits

SANDBOX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
KILL_GRACE_S = 5.0  # after the time limit: SIGTERM, then SIGKILL this much later
LEFTOVER_GRACE_S = 0.5  # lets `setsid` jobs leave the group before its leftovers are killed
BACKSTOP_S = 10.0  # the host gives up this long after the in-sandbox kill should have happened
TIMEOUT_EXIT_CODES = (124, 137)  # `timeout` after SIGTERM worked / after it had to SIGKILL


def sandbox_environment(home: str, path: str = SANDBOX_PATH) -> dict[str, str]:
    """The complete environment of a command: nothing from the host (no API keys) gets in."""
    return {
        "PATH": path,
        "HOME": home,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TERM": "dumb",
        "PAGER": "cat",
        "GIT_PAGER": "cat",
        "MPLBACKEND": "Agg",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
    }


def resolve_timeout(timeout_s: float | None, limits: Limits) -> float:
    """The time limit to enforce: the default when none is asked for, never above the cap."""
    if timeout_s is None:
        return limits.default_timeout_s
    if timeout_s <= 0:
        raise ValueError(f"timeout must be positive, got {timeout_s}")
    return min(float(timeout_s), limits.max_timeout_s)


# Runs the command under `timeout -k` in its own process group, stderr merged into stdout in order. Then
# kills whatever is left of that group, after a moment's grace so that `setsid` jobs have left it, and with
# the shell's `kill` builtin, which works even when a fork bomb has used up every process slot (`sleep`
# then fails at once, which is fine). It keeps killing until the group is gone (its killed members stay
# in it, holding process slots, until PID 1 has reaped them), for at most 5 s. Jobs meant to outlive the command must leave the group:
# `setsid nohup JOB > log 2>&1 &`.
GROUP_WRAPPER = """
exec 2>/dev/null  # the wrapper's own job notices; the command's stderr is merged below
timeout -k "$1" "$2" bash -c "$3" 2>&1 &
group=$!
wait "$group"
status=$?
if kill -0 -- "-$group" 2>/dev/null; then
  sleep 0.5 2>/dev/null
  end=$((SECONDS + 5))
  while kill -KILL -- "-$group" 2>/dev/null && ((SECONDS < end)); do :; done
fi
exit "$status"
"""


def timeout_argv(command: str, timeout_s: float) -> list[str]:
    """argv running `command` with the time limit enforced, and its process group reaped, in the sandbox."""
    return ["bash", "-c", GROUP_WRAPPER, "glia-command", f"{KILL_GRACE_S:g}", f"{timeout_s:g}", command]


def looks_timed_out(exit_code: int | None, duration_s: float, timeout_s: float) -> bool:
    """`timeout` reports 124/137; a command exiting so by itself before the limit did not time out."""
    return exit_code in TIMEOUT_EXIT_CODES and duration_s >= timeout_s * 0.98


def killed_note(exit_code: int | None, timed_out: bool, limits: Limits) -> str:
    """A line for the model when a signal, not a time limit, ended the command (the exit code alone is cryptic)."""
    if timed_out or exit_code is None or not 128 < exit_code < 128 + 65:
        return ""
    number = exit_code - 128
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    hint = f"; a common cause is going over the memory limit of {limits.memory}" if name == "SIGKILL" else ""
    return f"\n[the command was killed by {name} (exit code {exit_code}){hint}]\n"
