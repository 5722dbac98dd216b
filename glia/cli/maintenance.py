"""`glia resume`, `glia cleanup` and `glia image build`: continuing runs and looking after Docker."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from glia.cli.common import (
    add_cluster_option,
    add_root_option,
    console,
    resolve_run,
    use_cluster,
    workspaces_root,
)
from glia.config import apply_environment, load_config
from glia.errors import GliaUsageError
from glia.logging_setup import log_to_run
from glia.progress import RunWatcher, make_display
from glia.safe_text import console_text


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    resume = subparsers.add_parser(
        "resume",
        help="continue an interrupted or crashed run from its folder",
        description=(
            "Unfinished contexts continue from their transcripts and repositories; budgets carry over, "
            "corrected from the transcripts after an unclean stop (kill -9). A run another live process "
            "is writing is refused, naming that process. Exit 0 when the run finishes, 130 when stopped "
            "again, 1 when it fails (no design passed trusted evaluation)."
        ),
    )
    resume.add_argument("run", metavar="RUN", help="run id under the workspaces root, or a run folder")
    add_cluster_option(resume)  # the run's own cluster (run.json) otherwise
    resume.add_argument(
        "--unsafe-local-workspace",
        action="store_true",
        help="needed to resume a run made with --workspace local (commands run on this machine, no sandbox)",
    )
    add_root_option(resume)
    resume.set_defaults(handler=resume_command)

    cleanup = subparsers.add_parser(
        "cleanup",
        help="remove leftover Glia workspace containers",
        description=(
            "Remove leftover Glia workspace containers: without --run, yours (by their owner label, "
            "after asking unless --yes); with --run, exactly that run's; with --all-users, every user's."
        ),
    )
    cleanup.add_argument("--run", metavar="RUN_ID", help="only the containers of exactly this run id")
    cleanup.add_argument("--yes", action="store_true", help="remove without asking")
    cleanup.add_argument(
        "--all-users",
        action="store_true",
        help="also containers other users (or older Glia versions without owner labels) started: for admins",
    )
    cleanup.set_defaults(handler=cleanup_command)

    image = subparsers.add_parser(
        "image", help="manage the workspace image", description="Workspace image tasks."
    )
    image_commands = image.add_subparsers(dest="image_command", metavar="ACTION", required=True)
    build = image_commands.add_parser(
        "build",
        help="build the workspace image (Python, numpy, pandas, git)",
        description=(
            "Build the image every workspace container runs. auto: the Dockerfile, falling back to Debian "
            "packages (debootstrap) when no registry is reachable."
        ),
    )
    build.add_argument(
        "--method",
        choices=("auto", "dockerfile", "debian"),
        default="auto",
        help="how to build (default auto)",
    )
    build.add_argument(
        "--tag", metavar="TAG", help="image tag (default glia-workspace:latest or $GLIA_IMAGE)"
    )
    build.set_defaults(handler=image_build_command)


def resume_command(args: argparse.Namespace) -> int:
    from glia.cli.solve import own_containers_removed, summarize
    from glia.orchestrator import resume_run
    from glia.record.run import RunDoc
    from glia.workspace.unsafe import check_backend_allowed, warning_line

    config = load_config()
    apply_environment(config)
    run_dir = resolve_run(args.run, workspaces_root(args.root, config))
    refuse_live_run(run_dir)  # before anything touches the run's folder or containers
    use_cluster(args, None)
    backend = RunDoc.read(run_dir).config.get("backend", "docker")
    check_backend_allowed(backend, bool(args.unsafe_local_workspace or config.allow_unsafe_local))
    log_to_run(run_dir)
    out = console()
    if backend == "local":
        out.print(f"[bold red]{warning_line()}[/]")
    out.print(console_text(f"Resuming run {run_dir.name} in {run_dir.resolve()}", 600))
    with RunWatcher(run_dir, make_display(out)), own_containers_removed(run_dir.name, backend):
        result = resume_run(run_dir)
    return summarize(run_dir, result.status)


def refuse_live_run(run_dir: Path) -> None:
    """A run another live process is writing is not resumed: say who holds it. (`resume_run` takes the
    run's lock itself; this check only makes the refusal come before any output or logging.)"""
    from glia.record.lock import describe_holder, probe_lock

    state = probe_lock(run_dir)
    if state.held:
        holder = state.holder or {}
        raise GliaUsageError(
            describe_holder(run_dir.name, holder) + "; it is still running",
            f"wait for it to end, or stop it (Ctrl-C in its terminal, or `kill {holder.get('pid', 'PID')}`), "
            f"then `glia resume {run_dir.name}`; `glia runs` shows which runs are live",
        )


def cleanup_command(args: argparse.Namespace) -> int:
    """Remove leftover containers in the scope asked for; ask first unless the run is named or --yes."""
    from glia.workspace import list_containers
    from glia.workspace.containers import owner, remove_containers, remove_volumes

    out = console()
    # A run named exactly is the user's explicit choice, whoever started it; otherwise only our own.
    everyone = args.all_users or args.run is not None
    found = list_containers(args.run, all_users=everyone)
    scope = f"of run {args.run}" if args.run else ("of any user" if args.all_users else f"of {owner()}")
    if args.all_users:
        out.print(
            "--all-users: this removes Glia containers whoever started them, including other users' live runs."
        )
    if found and args.run is None and not args.yes:
        out.print(console_text(f"Glia containers {scope}:", 300))
        for c in found:
            out.print(
                console_text(
                    f"  {c.name}  run {c.run_id}  context {c.context_id}  owner {c.owner}  {c.status}", 600
                )
            )
        if not _confirmed(f"Remove these {len(found)} container(s)? [y/N] "):
            out.print("Nothing removed.")
            return 1
    removed = remove_containers([c.name for c in found])
    remove_volumes(args.run, all_users=everyone)  # the evaluator's channel volumes, once unused
    out.print(
        console_text(
            f"Removed {len(removed)} container(s) {scope}" + (f": {', '.join(removed)}" if removed else "."),
            None,
        )
    )
    return 0


def _confirmed(question: str) -> bool:
    """Ask on the terminal; without one, refuse (and say how to go ahead)."""
    if not sys.stdin.isatty():
        raise GliaUsageError("cleanup needs confirmation and there is no terminal to ask on", "pass --yes")
    try:
        return input(question).strip().lower() in ("y", "yes")
    except EOFError:
        return False


def image_build_command(args: argparse.Namespace) -> int:
    from glia.workspace.base import WorkspaceError
    from glia.workspace.image import DEFAULT_IMAGE, build_image

    tag = args.tag or DEFAULT_IMAGE
    out = console()
    out.print(f"Building workspace image {tag} (method {args.method}); the first build takes a minute or two")
    try:
        image_id = build_image(tag, args.method)
    except WorkspaceError as exc:
        if args.method == "debian":
            raise
        raise GliaUsageError(
            str(exc),
            "without a reachable registry, build from Debian packages: `glia image build --method debian` "
            "(needs debootstrap: `apt-get install debootstrap`)",
        ) from exc
    out.print(f"Built {tag} ({image_id[:19]})")
    return 0
