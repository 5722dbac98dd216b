"""`glia resume`, `glia cleanup` and `glia image build`: continuing runs and looking after Docker."""

from __future__ import annotations

import argparse

from glia.cli.common import add_root_option, console, resolve_run, workspaces_root
from glia.config import apply_environment, load_config
from glia.errors import GliaUsageError
from glia.logging_setup import log_to_run
from glia.progress import RunWatcher, make_display


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    resume = subparsers.add_parser(
        "resume",
        help="continue an interrupted or crashed run from its folder",
        description="Unfinished contexts continue from their transcripts and repositories; budgets carry over.",
    )
    resume.add_argument("run", metavar="RUN", help="run id under the workspaces root, or a run folder")
    add_root_option(resume)
    resume.set_defaults(handler=resume_command)

    cleanup = subparsers.add_parser(
        "cleanup",
        help="remove leftover Glia workspace containers",
        description="Remove containers labelled as Glia workspaces (of one run with --run, else all).",
    )
    cleanup.add_argument("--run", metavar="RUN_ID", help="only this run's containers")
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
    from glia.cli.solve import summarize
    from glia.orchestrator import resume_run

    config = load_config()
    apply_environment(config)
    run_dir = resolve_run(args.run, workspaces_root(args.root, config))
    log_to_run(run_dir)
    out = console()
    out.print(f"Resuming run [bold]{run_dir.name}[/] in {run_dir.resolve()}")
    with RunWatcher(run_dir, make_display(out)):
        result = resume_run(run_dir)
    return summarize(run_dir, result.status)


def cleanup_command(args: argparse.Namespace) -> int:
    from glia.workspace import cleanup_containers

    removed = cleanup_containers(args.run)
    scope = f"of run {args.run}" if args.run else "of any run"
    console().print(
        f"Removed {len(removed)} container(s) {scope}" + (f": {', '.join(removed)}" if removed else ".")
    )
    return 0


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
