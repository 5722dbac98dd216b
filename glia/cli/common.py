"""Small pieces the subcommands share: finding a run, parsing seeds, the console."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from glia.config import UserConfig
from glia.errors import GliaUsageError, RunMissing

DEFAULT_ROOT = "workspaces"
ROOT_ENV_VAR = "GLIA_WORKSPACES"


PIPED_WIDTH = 140


def console() -> Console:
    """Output for humans; rich decides colour from the terminal (plain when piped).

    Lines are never hard-wrapped: paths and commands in messages must stay copy-pasteable.
    Tables fit the terminal; piped into a file or a log they get room enough not to cut numbers
    (rich would otherwise assume 80 columns).
    """
    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else PIPED_WIDTH
    return Console(highlight=False, soft_wrap=True, width=width)


def workspaces_root(flag: str | None, config: UserConfig | None = None) -> Path:
    """Where runs live: --root, then the config file, then $GLIA_WORKSPACES, then ./workspaces."""
    chosen = (
        flag or (config.workspaces_root if config else None) or os.environ.get(ROOT_ENV_VAR) or DEFAULT_ROOT
    )
    return Path(chosen).expanduser()


def add_root_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--root",
        metavar="DIR",
        help=f"folder holding the runs (default: config `workspaces_root`, ${ROOT_ENV_VAR}, or ./{DEFAULT_ROOT})",
    )


def add_cluster_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="run the sandboxes (contexts', trusted evaluations') on a Ray cluster: auto, ray://HOST:PORT or HOST:PORT "
        "(config `cluster`; needs glia[cluster]; see README 'Running on a cluster')",
    )


def use_cluster(args: argparse.Namespace, config: Any) -> str | None:
    """--cluster (or the config's `cluster`), checked, and handed to the runs this process starts."""
    from glia.cluster.connect import CLUSTER_ENV, ClusterError, check_address

    address = getattr(args, "cluster", None) or getattr(config, "cluster", None)
    if not address:
        return None
    try:
        address = check_address(address)
    except ClusterError as exc:
        raise GliaUsageError(str(exc), "e.g. --cluster auto") from None
    os.environ[CLUSTER_ENV] = address
    return address


def resolve_run(run: str, root: Path) -> Path:
    """RUN is a run id under the workspaces root or a path to a run folder."""
    for candidate in (Path(run).expanduser(), root / run):
        if (candidate / "run.json").is_file():
            return candidate
    known = sorted(p.name for p in root.glob("*") if (p / "run.json").is_file()) if root.is_dir() else []
    hint = f"runs under {root}: {', '.join(known[-5:])}" if known else f"there are no runs under {root}"
    raise RunMissing(
        f"no run {run!r} (neither a run folder nor a run id under {root})", f"`glia runs`; {hint}"
    )


def parse_seeds(text: str | None) -> int | list[int] | None:
    """`--seeds 3` keeps the first three seeds; `--seeds 0,1,5` names them."""
    if text is None:
        return None
    parts = [p for p in text.replace(" ", "").split(",") if p]
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--seeds takes a count or a comma list of integers, got {text!r}"
        ) from None
    if not values:
        raise argparse.ArgumentTypeError("--seeds needs at least one value")
    return values[0] if len(values) == 1 and "," not in text else values


def seeds_argument(text: str) -> str:
    """argparse type: validate early, keep the text for parse_seeds."""
    parse_seeds(text)
    return text
