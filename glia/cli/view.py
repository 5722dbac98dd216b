"""`glia view`: the runs and comparisons under the workspaces root, live, in the browser (read-only)."""

from __future__ import annotations

import argparse
import ipaddress
import secrets
import socket
from pathlib import Path

from glia.cli.common import add_root_option, resolve_run, workspaces_root
from glia.config import load_config
from glia.errors import GliaUsageError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8321


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    view = subparsers.add_parser(
        "view",
        help="browse runs and comparisons in a web browser, live (read-only)",
        description=(
            "Start a local web server over the runs and comparisons under the workspaces root and print its "
            "address. Pages: the runs list, a run (contexts side by side, the progress plot), a context's "
            "research notes and design timeline, a comparison, search. Live runs update in place. Nothing in "
            "the browser can change a run. Binds 127.0.0.1; binding another address requires the token it "
            "prints. Needs the view extra: pip install 'glia[view]'."
        ),
    )
    view.add_argument("run", metavar="RUN", nargs="?", help="open this run's page (a run id or folder)")
    view.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST})")
    view.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any)")
    add_root_option(view)
    view.set_defaults(handler=run)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from glia.web.app import create_app
        from glia.web.security import LOOPBACK_HOSTS
    except ImportError as exc:
        raise GliaUsageError(
            f"`glia view` needs the web packages of the view extra ({exc.name} is missing)",
            "pip install 'glia[view]'",
        ) from None
    root = workspaces_root(args.root, load_config())
    path = "/"
    if args.run:
        run_dir = resolve_run(args.run, root)
        root, path = run_dir.parent, f"/run/{run_dir.name}"
    local = is_loopback(args.host)
    token = None if local else secrets.token_urlsafe(24)
    app = create_app(Path(root), token=token, allowed_hosts=LOOPBACK_HOSTS if local else None)
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host.strip("[]"), args.port))
    except OSError as exc:
        sock.close()
        raise GliaUsageError(
            f"glia view cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
            "choose another port with --port (0 picks a free one)",
        ) from None
    port = sock.getsockname()[1]
    shown = f"[{args.host.strip('[]')}]" if ":" in args.host else args.host
    address = f"http://{shown}:{port}{path}" + (f"?token={token}" if token else "")
    print(f"glia view: {address}  (runs under {root}; Ctrl-C stops)", flush=True)
    if token:
        print("  reachable from other machines: every request needs the token in this address", flush=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])
    return 0
