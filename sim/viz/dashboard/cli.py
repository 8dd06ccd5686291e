"""``sim-dashboard``: start the dashboard on this machine (127.0.0.1 by default).

``sim-dashboard`` serves http://127.0.0.1:8765; ``sim-dashboard --port 9000 --results
results/sweeps`` another port, listing the runs and sweeps under another folder (the
page opens folders only under it). The server answers only requests addressed to it
(``Host``) from its own pages (``Origin``): :mod:`sim.viz.dashboard.guard`.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

#: Solara reports usage (Mixpanel) and errors (Sentry) and fetches missing page assets
#: from a CDN unless told not to; the page's assets come from the solara-assets package.
QUIET_ENV = {"SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
             "SOLARA_TELEMETRY_SENTRY_ENABLE": "False",
             "SOLARA_ASSETS_PROXY": "False"}


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The command line."""
    from sim.viz.dashboard.logic import RESULTS_DIR

    p = argparse.ArgumentParser(prog="sim-dashboard", description="Start the peace-sim "
                                "dashboard in the browser (Solara).")
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on "
                   "(default 127.0.0.1: this machine only; 0.0.0.0 exposes it to the network)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0: any free)")
    p.add_argument("--results", default=str(RESULTS_DIR),
                   help="folder whose runs and sweeps the Results tab lists and the only "
                   "one it opens folders under (default results/)")
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="another name the page is opened by (its Host header), e.g. a DNS "
                   "name of this machine with --host 0.0.0.0; repeatable")
    return p.parse_args(list(argv))


def _fail(message: str, code: int) -> NoReturn:
    print(f"sim-dashboard: error: {message}", file=sys.stderr)
    raise SystemExit(code)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: a free one).

    Raises:
        OSError: The address is in use, not this machine's, or not allowed.
    """
    info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(info[0], socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(info[4])
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point ``sim-dashboard``.

    Serves the page with uvicorn, Solara's ASGI application wrapped in
    :class:`sim.viz.dashboard.guard.HostOriginGuard` for the address actually bound, so
    that only pages of this server reach it (no DNS rebinding, no cross-site WebSocket).
    A bad argument prints one line and exits with code 2; an address that cannot be bound
    (in use, not this machine's) one line and code 1.
    """
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if not 0 <= args.port <= 65535:
        _fail(f"--port {args.port}: allowed 0-65535", 2)
    results = Path(args.results).expanduser()
    if results.exists() and not results.is_dir():
        _fail(f"--results {args.results}: not a folder; give the folder whose runs the "
              "Results tab lists (e.g. results/)", 2)
    for name in args.allow_host:
        if not name or any(c in name for c in "/ @?#"):
            _fail(f"--allow-host {name!r}: a host name or address, without scheme or port",
                  2)
    try:
        import solara  # noqa: F401
        import uvicorn
    except ImportError:
        _fail("the dashboard needs the `dashboard` extra: pip install -e \".[dashboard]\"", 2)
    try:
        sock = bind(args.host, args.port)
    except OSError as e:
        _fail(f"--host {args.host} --port {args.port}: cannot listen there "
              f"({e.strerror or e})", 1)
    host, port = args.host, sock.getsockname()[1]
    for k, v in QUIET_ENV.items():
        os.environ.setdefault(k, v)
    os.environ["SIM_DASHBOARD_RESULTS"] = str(results.resolve())
    os.environ.setdefault("MPLBACKEND", "Agg")
    # what `solara run` sets before it imports its server (the app is read at import)
    os.environ["SOLARA_APP"] = "sim.viz.dashboard.app:Page"
    os.environ["SERVER_NAME"] = host
    os.environ["SERVER_PORT"] = str(port)
    from solara.server import settings

    settings.main.mode = "production"
    import solara.server.starlette as solara_server

    from sim.viz.dashboard.guard import HostOriginGuard, allowed_hosts

    hosts = allowed_hosts(host, port, args.allow_host)
    app = HostOriginGuard(solara_server.app, hosts)
    shown = "localhost" if host in ("0.0.0.0", "::") else host
    url = f"http://{shown if ':' not in shown else f'[{shown}]'}:{port}/"
    print(f"sim-dashboard: serving {url} (Ctrl-C to stop)", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    server.run(sockets=[sock])


if __name__ == "__main__":
    main()
