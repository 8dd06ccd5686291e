"""``sim-backtest``: score the model's forecasts against the dated record.

Examples::

    sim-backtest                                  # the three origins, 20,000 worlds
    sim-backtest worlds=5000 seed=3
    sim-backtest origins=march_2025 facts=my_facts.yaml
    sim-backtest ledger=true                      # also write today's forecast ledger
    sim-backtest rolling=true                     # an origin a month (backtest/rolling.yaml)
    sim-backtest rolling=true worlds=5000 rolling_origins=2025-03-13,2025-09-13
    sim-backtest rolling=true generate=true       # rewrite the rule's generated question list
    sim-backtest rolling=true priors=false        # point-valued assumptions kept at their values

Arguments are ``key=value`` pairs (below). The origins are scenarios (``configs/
scenario/``) composed by the library loader (safe YAML, every key checked); no Hydra
settings are composed, so a shared facts or scenario file cannot reach them. A mistake
is one line on stderr and exit status 2; a failure of the machine (disk full, read-only
folder) one line and exit status 1.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from sim.analysis import backtest as bt
from sim.analysis.calibrate import CalibrationError
from sim.errors import ConfigError, environment_problem
from sim.experiment.config import CONFIG_DIR, output_root
from sim.experiment.runs import provenance
from sim.viz.backtest_report import write_backtest

#: Keys, their defaults and what they take.
DEFAULTS = {
    "origins": "march_2025,origin_2025_08_08,origin_2026_06_07",
    "facts": str(CONFIG_DIR / "backtest" / "facts.yaml"),
    "worlds": "20000",
    "seed": "0",
    "log_eps": "0.01",
    "out": "",
    "ledger": "false",
    "ledger_scenario": "baseline",
    "rolling": "false",
    "rule": str(CONFIG_DIR / "backtest" / "rolling.yaml"),
    "calibration_worlds": "20000",
    "bootstrap": "2000",
    "rolling_origins": "",
    "generate": "false",
    "priors": "true",
}
USAGE = ("usage: sim-backtest [key=value ...]; keys: " + ", ".join(DEFAULTS)
         + " (e.g. sim-backtest worlds=5000 seed=3 ledger=true)")


def parse(argv: Sequence[str]) -> dict:
    """Check the ``key=value`` arguments; raise :class:`ConfigError` on the first bad one."""
    raw = dict(DEFAULTS)
    for arg in argv:
        key, sep, value = arg.partition("=")
        if not sep or key not in DEFAULTS:
            raise ConfigError(key or arg, f"not a sim-backtest key; {USAGE}", "command line")
        raw[key] = value
    out: dict = {"origins": [o for o in raw["origins"].split(",") if o],
                 "facts": Path(raw["facts"]), "ledger_scenario": raw["ledger_scenario"]}
    for key, lo in (("worlds", 1), ("seed", 0), ("calibration_worlds", 0), ("bootstrap", 1)):
        try:
            out[key] = int(raw[key])
        except ValueError:
            out[key] = None
        if out[key] is None or out[key] < lo or out[key] > 10_000_000:
            raise ConfigError(key, f"must be a whole number in [{lo}, 10000000], got "
                              f"{raw[key]!r}", "command line")
    try:
        out["log_eps"] = float(raw["log_eps"])
    except ValueError:
        out["log_eps"] = -1.0
    if not 0.0 < out["log_eps"] < 0.5:
        raise ConfigError("log_eps", f"must be a number in (0, 0.5), got {raw['log_eps']!r}",
                          "command line")
    for key in ("ledger", "rolling", "generate", "priors"):
        if raw[key] not in ("true", "false"):
            raise ConfigError(key, f"must be true or false, got {raw[key]!r}",
                              "command line")
        out[key] = raw[key] == "true"
    out["rule"] = Path(raw["rule"])
    out["rolling_origins"] = []
    for d in (x for x in raw["rolling_origins"].split(",") if x):
        try:
            out["rolling_origins"].append(dt.date.fromisoformat(d))
        except ValueError:
            raise ConfigError("rolling_origins", f"must be dates YYYY-MM-DD separated by "
                              f"commas, got {d!r}", "command line") from None
    if not out["origins"]:
        raise ConfigError("origins", "name at least one scenario", "command line")
    now = dt.datetime.now()
    out["out"] = (Path(raw["out"]) if raw["out"] else
                  output_root() / "results" / "backtest" / now.strftime("%Y-%m-%d") / now.strftime(
                      "%H-%M-%S"))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the backtest, write its folder, print where the scoreboard is."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__.split("\n\n")[1].strip() + "\n\n" + USAGE)
        return 0
    s: dict = {}
    try:
        s = parse(argv)
        if s["rolling"]:
            return _rolling(s)
        facts = bt.load_facts(s["facts"])
        result = bt.backtest(s["origins"], facts, s["worlds"], s["seed"], s["log_eps"],
                             source=str(s["facts"]))
        settings = {**s, **provenance(), "date": dt.date.today().isoformat(),
                    "origins_start": {k: v.isoformat() for k, v in result.origins.items()}}
        write_backtest(s["out"], result, settings)
        print(bt.markdown(result, settings))
        if s["ledger"]:
            ledger = bt.forecast_ledger(s["ledger_scenario"], s["worlds"], s["seed"])
            ledger["issued"] = settings["date"]
            path = output_root() / "forecasts" / f"{settings['date']}-{s['ledger_scenario']}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(ledger, indent=2) + "\n", encoding="utf-8")
            print(f"Forecast ledger: {path}")
    except ConfigError as e:
        print(f"sim-backtest: {e}", file=sys.stderr)
        return 2
    except (bt.BacktestError, CalibrationError) as e:
        print(f"sim-backtest: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"sim-backtest: {environment_problem(e, s.get('out'))}", file=sys.stderr)
        return 1
    print(f"Scoreboard: {s['out'] / 'backtest.md'}")
    return 0


def _rolling(s: dict) -> int:
    """``rolling=true``: the rolling-origin backtest (or ``generate=true``: the list)."""
    import time

    from sim.viz.backtest_report import write_rolling

    rule = bt.load_rule(s["rule"])
    if s["generate"]:
        rule.generated.write_text(bt.generated_yaml(rule), encoding="utf-8")
        print(f"Generated {len(bt.generated_entries(rule))} questions: {rule.generated}")
        return 0
    record = s["facts"] if s["facts"] != Path(DEFAULTS["facts"]) else None
    facts = bt.rolling_facts(rule, record)
    t0 = time.perf_counter()
    result = bt.rolling_backtest(
        rule, facts, s["worlds"], s["seed"], s["calibration_worlds"], s["log_eps"],
        s["bootstrap"], s["rolling_origins"] or None,
        progress=lambda m: print(m, file=sys.stderr, flush=True), priors=s["priors"])
    settings = {**s, **provenance(), "date": dt.date.today().isoformat(),
                "seconds": round(time.perf_counter() - t0, 1)}
    write_rolling(s["out"], result, settings)
    print(bt.rolling_markdown(result, settings))
    print(f"Scoreboard: {s['out'] / 'backtest.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
