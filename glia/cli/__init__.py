"""The `glia` command line: one subcommand per job, `glia --help` and `glia CMD --help` as the reference.

Each subcommand lives in its own module and exposes `add_parser(subparsers)` and `run(args) -> int`.
`main` owns what all commands share: logging, the config file, and turning predictable failures into
one clear message with its fix (exit code 2) instead of a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from glia import __version__
from glia.cli import bench, compare, inspect, maintenance, solve, view
from glia.cli.explain import explain
from glia.logging_setup import configure_logging, stop_run_log

COMMAND_MODULES = (solve, compare, bench, inspect, maintenance, view)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="glia",
        description=(
            "Glia: an AI that does systems research. A Researcher agent designs and tests a system component "
            "in a sandboxed simulator while a Supervisor agent critiques its reasoning; Glia re-evaluates "
            "every design itself before trusting it."
        ),
        epilog="Start with `glia bench tasks/llm_routing.md` (no API key needed). Docs: README.md.",
    )
    parser.add_argument("--version", action="version", version=f"glia {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log debug detail to stderr (-vv: libraries too)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `glia` console script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        problem = explain(exc)
        if problem is None:
            raise
        print(problem.render(), file=sys.stderr)
        return problem.exit_code
    finally:
        stop_run_log()


if __name__ == "__main__":
    sys.exit(main())
