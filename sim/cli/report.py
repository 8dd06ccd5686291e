"""``sim-report PATH``: figures and an HTML/Markdown report for a run or sweep folder.

PATH is a ``sim-run`` output folder or a sweep folder (numbered job folders and
``sweep_summary.csv``). The report goes to ``PATH/report/`` (``index.html``,
``report.md`` and PNG figures) and the path of ``index.html`` is printed. A bad PATH
gives one line on stderr and exit status 2 (that includes a damaged or unfinished run
folder: see :mod:`sim.experiment.runfolder`); a full disk or a read-only folder gives one line and
exit status 1. No Hydra here: plain argparse.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sim.errors import environment_problem
from sim.viz.report import ReportInputError, build_report


def main(argv: Sequence[str] | None = None) -> int:
    """Build the report and print where ``index.html`` is; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="sim-report",
        description="Write figures and an index.html comparing outcomes for a sim-run "
                    "output folder or a sweep folder, into PATH/report/.")
    parser.add_argument("path", metavar="PATH",
                        help="a sim-run output folder or a multirun sweep folder")
    args = parser.parse_args(argv)
    try:
        index = build_report(args.path)
    except ReportInputError as e:
        print(f"sim-report: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"sim-report: {environment_problem(e, args.path)}", file=sys.stderr)
        return 1
    except (KeyError, ValueError, TypeError, IndexError, AttributeError) as e:
        # a folder whose manifest verifies but whose data were crafted by hand
        first = (str(e).strip().splitlines() or [""])[0][:120]
        print(f"sim-report: {args.path}: its data are not what sim-run writes "
              f"({type(e).__name__}: {first}); re-run sim-run", file=sys.stderr)
        return 2
    except MemoryError:
        print(f"sim-report: {args.path}: not enough memory to load this folder; close "
              "other programs or report fewer jobs", file=sys.stderr)
        return 1
    print(index)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
