"""The local backend is unsafe, so using it takes an explicit opt-in that names the risk.

`glia bench` and `glia solve` (and `glia resume` of a local run) refuse `--workspace local` unless the
user also passes `--unsafe-local-workspace` or sets `allow_unsafe_local: true` in the config file, and
print a loud warning line when it is used. Trusted evaluation of designs never runs locally (the
evaluator refuses it); bench of the simulator's built-in baselines may.
"""

from __future__ import annotations

from glia.errors import GliaUsageError

UNSAFE_FLAG = "--unsafe-local-workspace"
CONFIG_KEY = "allow_unsafe_local"
RISK = (
    "the local workspace is not a sandbox: commands (the Researcher's and the designs') run directly on "
    "this machine with your user's rights, can read and change your files and can use the network"
)


class UnsafeWorkspaceRefused(GliaUsageError):
    """`--workspace local` without the explicit opt-in."""


def check_backend_allowed(backend: str, opted_in: bool) -> None:
    """Refuse the local backend unless the user opted in explicitly."""
    if backend == "local" and not opted_in:
        raise UnsafeWorkspaceRefused(
            f"refusing --workspace local: {RISK}",
            f"use Docker (the default), or accept the risk with {UNSAFE_FLAG} "
            f"(or `{CONFIG_KEY}: true` in the config file)",
        )


def warning_line() -> str:
    """What bench and solve print when the local backend is in use."""
    return f"WARNING: UNSAFE LOCAL WORKSPACE: {RISK}."
