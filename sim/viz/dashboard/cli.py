"""``sim-dashboard``: start the dashboard on this machine (127.0.0.1 by default).

``sim-dashboard`` serves http://127.0.0.1:8765; ``sim-dashboard --port 9000 --results
results/sweeps`` another port, listing the runs and sweeps under another folder.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

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
                   help="folder whose runs and sweeps the Results tab lists (default results/)")
    return p.parse_args(list(argv))


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point ``sim-dashboard``."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if not 0 <= args.port <= 65535:
        print(f"sim-dashboard: error: --port {args.port}: allowed 0-65535", file=sys.stderr)
        raise SystemExit(2)
    try:
        import solara  # noqa: F401
    except ImportError:
        print("sim-dashboard: error: the dashboard needs the `dashboard` extra: "
              "pip install -e \".[dashboard]\"", file=sys.stderr)
        raise SystemExit(2) from None
    for k, v in QUIET_ENV.items():
        os.environ.setdefault(k, v)
    os.environ["SIM_DASHBOARD_RESULTS"] = str(Path(args.results).resolve())
    os.environ.setdefault("MPLBACKEND", "Agg")
    from solara.__main__ import cli as solara_cli

    solara_cli(["run", "sim.viz.dashboard.app:Page", "--host", args.host, "--port",
                str(args.port), "--production", "--no-open", "--no-check-version", "--log-level",
                "warning"],
               prog_name="sim-dashboard")


if __name__ == "__main__":
    main()
