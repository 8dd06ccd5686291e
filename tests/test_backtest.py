"""The backtest's facts, resolvers and scores on hand-made runs (known answers)."""

import dataclasses
import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from sim.analysis import backtest as bt
from sim.errors import ConfigError
from sim.experiment.config import CONFIG_DIR

START = dt.date(2025, 3, 13)


def _fact(**kw):
    base = {"id": "f", "date": "2025-06-12", "source": "a test", "kind": "binary",
            "quantity": "signed_by", "observed": False, "no_change": False,
            "annual_rate": 0.1, "climatology_source": "assumption"}
    base.update(kw)
    return bt.parse_facts({"facts": [base]}, "facts.yaml")[0]


def _run(**cols):
    return bt.RunView(START, pd.DataFrame(cols))


def test_bundled_facts_load_and_each_names_a_source():
    facts = bt.load_facts(CONFIG_DIR / "backtest" / "facts.yaml")
    assert len(facts) >= 7
    assert {f.kind for f in facts} == {"binary", "count"}
    assert all(f.source.strip() and f.climatology_source.strip() for f in facts)


def test_signed_by_counts_worlds_that_signed_in_or_before_the_fact_week():
    fact = _fact(date="2025-03-27")  # day 14: week 2 holds it
    run = _run(sign_week=np.array([-1, 0, 2, 3]))
    np.testing.assert_array_equal(bt.QUANTITIES["signed_by"].resolve(run, fact),
                                  [False, True, True, False])
    row = bt.score_fact(run, fact, "o", 0.01)
    assert row["forecast"] == 0.5
    assert row["brier_model"] == pytest.approx(0.25)
    assert row["log_model"] == pytest.approx(math.log(2))
    assert row["brier_no_change"] == 0.0


def test_climatology_turns_an_annual_rate_into_the_probability_over_the_span():
    fact = _fact(date="2026-03-13", annual_rate=0.2)
    span = (dt.date(2026, 3, 13) - START).days / 365.25
    assert fact.climatology_forecast(START) == pytest.approx(1 - math.exp(-0.2 * span))
    assert _fact(annual_rate=None, climatology=0.3).climatology_forecast(START) == 0.3


def test_count_fact_scores_the_sample_the_point_and_the_poisson_law():
    fact = _fact(kind="count", quantity="reported_incidents", observed=3, no_change=0,
                 annual_rate=None, climatology=2.0,
                 args={"start": "2025-03-13", "weeks": 2, "reporter": "azerbaijan"},
                 date="2025-03-27")
    weekly = np.array([[1, 0, 2, 4], [0, 0, 1, 0], [9, 9, 9, 9]], dtype=float)
    run = bt.RunView(START, pd.DataFrame({"w": range(4)}),
                     {"reports.azerbaijan": weekly})
    values = bt.QUANTITIES["reported_incidents"].resolve(run, fact)
    np.testing.assert_array_equal(values, [1, 0, 3, 4])
    row = bt.score_fact(run, fact, "o", 0.01)
    # sample {0, 1, 3, 4} at y = 3: E|X - 3| = 1.5, E|X - X'| = 28 / 16
    assert row["crps_model"] == pytest.approx(1.5 - 28 / 32)
    assert row["crps_no_change"] == 3.0
    assert row["forecast"] == 2.0


def test_a_fact_applies_only_to_origins_before_it_and_before_its_window():
    fact = _fact(date="2025-06-12")
    assert fact.applies(START)
    assert not fact.applies(dt.date(2025, 6, 12))
    win = _fact(kind="count", quantity="fatalities_in_window", observed=0, no_change=0,
                annual_rate=None, climatology=1.0, args={"start": "2025-03-13", "weeks": 5})
    assert win.applies(START)
    assert not win.applies(dt.date(2025, 3, 20))  # its first week would be known


def test_a_missing_model_output_is_a_clear_error_not_a_skipped_fact():
    fact = _fact(quantity="referendum_held_by")
    with pytest.raises(bt.BacktestError, match="referendum_week"):
        bt.score_fact(_run(sign_week=np.array([1])), fact, "o", 0.01)


def test_skill_table_means_and_skill():
    scores = pd.DataFrame([
        {"origin": "a", "kind": "binary", "brier_model": 0.1, "brier_no_change": 0.2,
         "brier_climatology": 0.1, "log_model": 0.5, "log_no_change": 1.0,
         "log_climatology": 0.25},
        {"origin": "a", "kind": "binary", "brier_model": 0.3, "brier_no_change": 0.2,
         "brier_climatology": 0.1, "log_model": 0.5, "log_no_change": 1.0,
         "log_climatology": 0.25},
    ])
    t = bt.skill_table(scores)
    brier = t[(t["origin"] == "a") & (t["score"] == "brier")].iloc[0]
    assert brier["model"] == pytest.approx(0.2)
    assert brier["skill_vs_no_change"] == pytest.approx(0.0)
    assert brier["skill_vs_climatology"] == pytest.approx(-1.0)
    log = t[(t["origin"] == "all") & (t["score"] == "log")].iloc[0]
    assert log["skill_vs_no_change"] == pytest.approx(0.5)


@pytest.mark.parametrize(("change", "message"), [
    ({"kind": "ordinal"}, "kind: must be one of binary, count"),
    ({"quantity": "moon_landing"}, "unknown quantity 'moon_landing'"),
    ({"date": "next year"}, "date: must be a date"),
    ({"observed": 1}, "observed: must be true or false"),
    ({"annual_rate": None}, "needs exactly one of annual_rate"),
    ({"colour": "red"}, "colour: unknown key"),
    ({"kind": "count"}, "is a binary quantity"),
    ({"quantity": "flag_set_by"}, "args.flag: required by quantity flag_set_by"),
])
def test_bad_facts_are_one_line_errors_naming_file_and_key(change, message):
    with pytest.raises(ConfigError, match=message) as e:
        _fact(**change)
    assert str(e.value).startswith("facts.yaml: facts[0]")
    assert "\n" not in str(e.value)


def test_duplicate_ids_are_refused():
    entry = {"id": "x", "date": "2025-06-12", "source": "s", "kind": "binary",
             "quantity": "signed_by", "observed": False, "no_change": False,
             "annual_rate": 0.1, "climatology_source": "a"}
    with pytest.raises(ConfigError, match="duplicate fact id 'x'"):
        bt.parse_facts({"facts": [entry, dict(entry)]}, "facts.yaml")


def test_quarter_ends():
    q = bt.quarter_ends(dt.date(2026, 11, 28), years=1)
    assert q == [dt.date(2026, 12, 31), dt.date(2027, 3, 31), dt.date(2027, 6, 30),
                 dt.date(2027, 9, 30)]
    assert bt.quarter_ends(dt.date(2026, 12, 31), years=1)[0] == dt.date(2027, 3, 31)


# ------------------------------------------------------------------ the model's runs

ORIGINS = ["march_2025", "origin_2025_08_08", "origin_2026_06_07"]


def test_every_bundled_origin_uses_only_what_was_known_at_its_start():
    from sim.experiment.config import load_params
    for origin in ORIGINS:
        p = load_params(origin)
        bt.check_origin(p, origin)  # raises on an input learnt later
        start = p.state.start_date  # each event dated by then, or known as pending
        assert all((e.announced is not None and e.announced <= start)
                   or (e.pending_since is not None and e.pending_since <= start)
                   for e in p.state.events.values())


def test_an_origin_with_an_input_dated_after_its_start_fails_in_one_line():
    from sim.experiment.config import load_params
    leak = {"label": "the initialling, known in hindsight", "date": "2025-08-08",
            "announced": "2025-08-08", "sets_flags": ["initialled"], "ends_mandate": "",
            "spoiler_pressure": {}, "source": "hindsight"}
    p = load_params("march_2025", overrides={"state": {"events": {"initialling": leak}}})
    with pytest.raises(ConfigError) as e:
        bt.check_origin(p, "march_2025")
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith("configs/scenario/march_2025.yaml: state.events.initialling")
    assert "2025-08-08 is after the origin's start 2025-03-13" in msg


def test_the_backtest_is_deterministic_for_a_seed_and_scores_every_applicable_fact():
    facts = bt.load_facts(CONFIG_DIR / "backtest" / "facts.yaml")
    a = bt.backtest(ORIGINS, facts, worlds=600, seed=3)
    b = bt.backtest(ORIGINS, facts, worlds=600, seed=3)
    pd.testing.assert_frame_equal(a.scores, b.scores)
    pd.testing.assert_frame_equal(a.skill, b.skill)
    for origin, start in a.origins.items():
        expected = {f.id for f in facts if f.applies(start)}
        assert set(a.scores.loc[a.scores["origin"] == origin, "fact"]) == expected
    # the record is in: every fact is scored from at least one origin
    assert set(a.scores["fact"]) == {f.id for f in facts}
    c = bt.backtest(ORIGINS[:1], facts, worlds=600, seed=4)
    assert not c.scores["forecast"].equals(a.scores.loc[a.scores["origin"] == ORIGINS[0],
                                                        "forecast"].reset_index(drop=True))


def test_sim_backtest_writes_its_folder_and_refuses_bad_input(tmp_path, capsys):
    from sim.cli.backtest import main
    from sim.experiment.runfolder import verify_run_folder
    out = tmp_path / "bt"
    assert main(["worlds=300", "origins=origin_2026_06_07", f"out={out}"]) == 0
    assert (out / "backtest.md").read_text().count("| origin_2026_06_07 |") >= 3
    verify_run_folder(out)
    for argv, key in ((["worlds=0"], "worlds"), (["colour=red"], "colour"),
                      (["origins=atlantis", f"out={tmp_path / 'x'}"], "scenario"),
                      (["log_eps=0.7"], "log_eps")):
        capsys.readouterr()
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and key in err, err


def test_forecast_ledger_is_cumulative_by_quarter():
    led = bt.forecast_ledger("baseline", worlds=500, seed=0, years=1)
    p = [r["p_sign"] for r in led["forecasts"]]
    assert len(p) == 4 and p == sorted(p)
    assert all(r["ci_low"] <= r["p_sign"] <= r["ci_high"] for r in led["forecasts"])


# ------------------------------------------------------------ rolling origins

RULE = CONFIG_DIR / "backtest" / "rolling.yaml"
TINY = [dt.date(2025, 3, 13), dt.date(2025, 9, 13)]


def test_the_rule_makes_monthly_origins_and_every_standard_question_that_resolves():
    rule = bt.load_rule(RULE)
    assert rule.origins[0] == dt.date(2025, 3, 13) and len(rule.origins) == 16
    assert dt.date(2026, 6, 14) in rule.origins and dt.date(2026, 6, 13) not in rule.origins
    facts = bt.rolling_facts(rule)
    ids = {f.id for f in facts}
    for o in rule.origins:
        qs = bt.standard_questions(rule, o)
        due = [h for h in rule.horizons if bt.add_months(o, h) <= rule.end]
        assert len(qs) == len(due) * len(rule.questions)  # none that resolves is dropped
        assert {q["id"] for q in qs} <= ids
        for q in qs:
            f = next(f for f in facts if f.id == q["id"])
            assert f.applies(o) and not any(f.applies(x) for x in rule.origins if x != o)
    # the first origin: signed, war, government, referendum, deaths at +3, +6, +12 months
    first = {q["id"] for q in bt.standard_questions(rule, rule.origins[0])}
    assert "war_12m_from_2025-03-13" in first and "deaths_3m_from_2025-03-13" in first
    assert len(first) == 15
    # the committed list is exactly what the rule generates
    assert rule.generated.read_text(encoding="utf-8") == bt.generated_yaml(rule)


def test_a_pruned_or_edited_question_list_is_refused_in_one_line(tmp_path):
    import shutil

    for name in ("rolling.yaml", "facts.yaml", "rolling_facts.yaml"):
        shutil.copy(CONFIG_DIR / "backtest" / name, tmp_path / name)
    text = (tmp_path / "rolling_facts.yaml").read_text(encoding="utf-8")
    cut = text.index("- id: signed_3m_from_2025-04-13")
    end = text.index("- id:", cut + 5)
    (tmp_path / "rolling_facts.yaml").write_text(text[:cut] + text[end:], encoding="utf-8")
    with pytest.raises(ConfigError, match="differs from what rolling.yaml generates") as e:
        bt.rolling_facts(bt.load_rule(tmp_path / "rolling.yaml"))
    assert "\n" not in str(e.value)


def _scores(seed=0, n_origins=8, per=6):
    rng = np.random.default_rng(seed)
    rows = []
    for o in range(n_origins):
        for _ in range(per):
            p = rng.uniform(0, 0.4)
            y = float(rng.uniform() < 0.2)
            rows.append({"origin": f"o{o}", "fact": f"f{o}_{len(rows)}", "kind": "binary",
                         "horizon": "0-3 months", "brier_model": (p - y) ** 2, "brier_no_change": y,
                         "brier_climatology": (0.2 - y) ** 2,
                         "log_model": -np.log(p if y else 1 - p),
                         "log_no_change": -np.log(0.01 if y else 0.99),
                         "log_climatology": -np.log(0.2 if y else 0.8)})
    return pd.DataFrame(rows)


def test_bootstrap_skill_is_reproducible_and_its_intervals_hold_the_point():
    s = _scores()
    a, b = bt.bootstrap_skill(s, 500, seed=1), bt.bootstrap_skill(s, 500, seed=1)
    pd.testing.assert_frame_equal(a, b)
    c = bt.bootstrap_skill(s, 500, seed=2)
    assert not a["skill_vs_climatology_low"].equals(c["skill_vs_climatology_low"])
    for base in bt.BASELINES:
        point, lo, hi = (a[f"skill_vs_{base}{x}"] for x in ("", "_low", "_high"))
        ok = point.notna()
        assert ok.any() and ((lo[ok] <= point[ok]) & (point[ok] <= hi[ok])).all()
        assert (hi[ok] > lo[ok]).all()
    row = a[(a["horizon"] == "all") & (a["score"] == "brier")].iloc[0]
    assert row["origins"] == 8 and row["facts"] == 48 and row["shared_facts"] == 0
    assert row["model"] == pytest.approx(s["brier_model"].mean())


def _crossed(n_origins=10, shared_nulls=4, nulls=3, seed=0):
    """Every origin scores one shared fact the model gets right and a base rate wrong
    (as the Minsk closure), ``shared_nulls`` shared facts and ``nulls`` facts of its own
    where the model loses."""
    rng = np.random.default_rng(seed)
    rows = []
    for o in range(n_origins):
        facts = ([("shared", 1.0, 0.99)]
                 + [(f"shared_null_{k}", 0.0, rng.uniform(0.25, 0.35))
                    for k in range(shared_nulls)]
                 + [(f"null_{o}_{k}", 0.0, rng.uniform(0.25, 0.35)) for k in range(nulls)])
        for fid, y, p in facts:
            rows.append({"origin": f"o{o}", "fact": fid, "question": fid.startswith("null"),
                         "kind": "binary", "horizon": "0-3 months",
                         "brier_model": (p - y) ** 2, "brier_no_change": y,
                         "brier_climatology": (0.2 - y) ** 2,
                         "log_model": -np.log(p if y else 1 - p),
                         "log_no_change": -np.log(0.01 if y else 0.99),
                         "log_climatology": -np.log(0.2 if y else 0.8)})
    return pd.DataFrame(rows)


def test_the_bootstrap_resamples_facts_too_so_one_shared_fact_cannot_carry_the_skill():
    # the skill over all forecasts is positive only because of the one fact scored from
    # every origin; resampling origins alone keeps that fact in every resample (a narrow
    # interval above zero); drawing the shared facts as well leaves it out of about a
    # third of the resamples
    s = _crossed()
    row = bt.bootstrap_skill(s, 2000, seed=0).query("horizon == 'all' and score == 'brier'"
                                                    ).iloc[0]
    assert row["shared_facts"] == 5 and row["origins"] == 10
    point, lo = row["skill_vs_climatology"], row["skill_vs_climatology_low"]
    assert point > 0.3
    without = bt.skill_without_each(s).set_index("fact")
    assert without.loc["(none)", "skill_vs_climatology"] == pytest.approx(point)
    assert without.loc["shared", "skill_vs_climatology"] < -1
    assert lo < 0 < point  # the interval reaches the skill without the shared fact
    # with the shared fact split into one fact per origin (independent evidence: nested
    # in its origin, drawn with it) the same scores give an interval above zero: the
    # width came from the fact's sharing
    split = s.assign(fact=[f"{f}@{o}" if f == "shared" else f
                           for f, o in zip(s["fact"], s["origin"], strict=True)])
    r2 = bt.bootstrap_skill(split, 2000, seed=0).query(
        "horizon == 'all' and score == 'brier'").iloc[0]
    assert r2["skill_vs_climatology"] == pytest.approx(point)
    assert r2["skill_vs_climatology_low"] > 0


@pytest.fixture(scope="module")
def tiny_rolling():
    rule = bt.load_rule(RULE)
    facts = bt.rolling_facts(rule)
    return rule, facts, bt.rolling_backtest(rule, facts, worlds=300, seed=0,
                                            calibration_worlds=600, boot=200, origins=TINY)


def _forecasts(result, origin, skip=()):
    s = result.scores[(result.scores["origin"] == bt.origin_label(origin))
                      & ~result.scores["fact"].isin(skip)]
    return s[["fact", "forecast"]].reset_index(drop=True)


#: A point-valued assumption of the defaults (0.3), drawn from its declared prior U(0.15, 0.45).
PATIENCE = "actors.armenia.patience"


def test_no_leakage_a_later_fact_moved_leaves_each_origins_forecasts_unchanged(tiny_rolling):
    rule, facts, base = tiny_rolling
    post = base.posteriors[bt.origin_label(TINY[1])]
    # the declared priors are calibrated: a point-valued assumption has a posterior
    assert PATIENCE in post.columns and post[PATIENCE].between(0.15, 0.45).all()
    assert post[PATIENCE].nunique() > 1
    later = "no_treaty_signed_by_2026_06_25"  # after both origins
    moved = [dataclasses.replace(f, date=dt.date(2026, 7, 1), observed=1.0)
             if f.id == later else f for f in facts]
    again = bt.rolling_backtest(rule, moved, worlds=300, seed=0, calibration_worlds=600,
                                boot=200, origins=TINY)
    for o in TINY:
        pd.testing.assert_frame_equal(_forecasts(again, o, [later]),
                                      _forecasts(base, o, [later]))
    assert set(again.posteriors) == set(base.posteriors) == {bt.origin_label(TINY[1])}
    for k, post in base.posteriors.items():
        pd.testing.assert_frame_equal(again.posteriors[k], post)
        pd.testing.assert_series_equal(again.posteriors[k][PATIENCE], post[PATIENCE])
    # the test can fail: a fact dated before the second origin, changed, moves its
    # calibration and so its forecasts (and never the first origin's)
    early = "reported_incidents_five_weeks_after_2025_03_13"
    changed = [dataclasses.replace(f, observed=0.0) if f.id == early else f for f in facts]
    third = bt.rolling_backtest(rule, changed, worlds=300, seed=0, calibration_worlds=600,
                                boot=200, origins=TINY)
    pd.testing.assert_frame_equal(_forecasts(third, TINY[0], [early]),
                                  _forecasts(base, TINY[0], [early]))
    assert not third.posteriors[bt.origin_label(TINY[1])].equals(
        base.posteriors[bt.origin_label(TINY[1])])
    # ... the point-valued assumption's posterior included
    assert not third.posteriors[bt.origin_label(TINY[1])][PATIENCE].equals(post[PATIENCE])


def test_an_origin_is_calibrated_on_the_keys_sim_calibrate_selects_where_it_agrees():
    from sim.analysis.calibrate import calibration_inputs
    from sim.analysis.explore import discover_inputs
    from sim.experiment.config import load_params

    rule = bt.load_rule(RULE)
    first = rule.origins[0]
    own = bt.origin_inputs(rule, first)
    # the one selection: sim-calibrate's (every distribution and the defaults' point-valued
    # assumptions from their declared priors), the origin's state kept as its scenario sets
    assert own.priors == calibration_inputs("march_2025", bt._origin_setting(rule, first)[1]
                                            ).priors
    assert PATIENCE in own.from_prior and set(own.from_prior) < set(own.keys)
    assert "state.tension" not in own.keys
    point = bt.origin_inputs(rule, first, priors=False)
    scen, over = bt._origin_setting(rule, first)
    # priors=false: the distributions of the origin's YAML, its point values kept
    yaml = load_params(scen, overrides=over, assumptions="point")
    assert point.keys == [i.key for i in discover_inputs(yaml)]
    assert PATIENCE not in point.keys and not point.from_prior
    assert load_params("march_2025", assumptions="point").actors["armenia"].patience == 0.3
    # the first origin agrees with its own hindcast on every key
    assert bt.shared_keys(bt.hindcast_inputs(rule, first), own) == own.keys
    # from 14 Jun 2026 the baseline gives some keys newer priors: those keep the origin's
    late = dt.date(2026, 6, 14)
    hind, own = bt.hindcast_inputs(rule, late), bt.origin_inputs(rule, late)
    keys = bt.shared_keys(hind, own)
    kept = [k for k in hind.keys if k not in keys]
    assert "domestic.referendum.yes_share" in kept and PATIENCE in keys
    assert all(own.priors.get(k) != hind.priors[k] for k in kept)
    assert all(own.priors[k] == hind.priors[k] for k in keys)


def test_calibrate_origin_composes_its_origin_once(monkeypatch):
    from sim.analysis import calibrate as cb
    from sim.experiment import config

    calls = []
    real = config.compose_layers
    monkeypatch.setattr(config, "compose_layers",
                        lambda *a, **kw: calls.append(1) or real(*a, **kw))
    facts = bt.load_facts(CONFIG_DIR / "backtest" / "facts.yaml")
    cal = cb.calibrate_origin("origin_2025_08_08", dt.date(2025, 12, 31), facts, worlds=100,
                              seed=0, drop_unmatched=True)
    assert len(calls) == 1 and PATIENCE in cal.settings["from_prior"]


def test_the_tiny_rolling_run_scores_every_applicable_fact(tiny_rolling):
    rule, facts, res = tiny_rolling
    for o in TINY:
        got = set(res.scores.loc[res.scores["origin"] == bt.origin_label(o), "fact"])
        assert got == {f.id for f in facts if f.applies(o)}
    info = res.origins.set_index("origin")
    assert info.loc[bt.origin_label(TINY[0]), "calibration_facts"] == 0
    assert info.loc[bt.origin_label(TINY[1]), "calibration_facts"] > 5
    assert set(res.skill["horizon"]) >= {"all", "0-3 months", "6-12 months"}


def test_sim_backtest_rolling_writes_its_folder_and_refuses_bad_input(tmp_path, capsys):
    from sim.cli.backtest import main
    from sim.experiment.runfolder import verify_run_folder

    out = tmp_path / "rolling"
    assert main(["rolling=true", "worlds=200", "calibration_worlds=400", "bootstrap=100",
                 "rolling_origins=2025-03-13,2025-09-13", f"out={out}"]) == 0
    verify_run_folder(out)
    text = (out / "backtest.md").read_text()
    assert "skill vs climatology" in text and "| 2025-09-13 |" in text
    assert (out / "reliability.png").stat().st_size > 0
    for argv, key in ((["rolling=maybe"], "rolling"),
                      (["rolling=true", "rolling_origins=2025-03-14",
                        f"out={tmp_path / 'x'}"], "rolling_origins"),
                      (["rolling=true", "rolling_origins=June"], "rolling_origins"),
                      (["rolling=true", "calibration_worlds=-1"], "calibration_worlds"),
                      (["rolling=true", "priors=maybe"], "priors"),
                      (["rolling=true", f"rule={tmp_path / 'none.yaml'}",
                        f"out={tmp_path / 'x'}"], "none.yaml")):
        capsys.readouterr()
        assert main(argv) in (1, 2), argv
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and key in err, err
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(("edit", "key"), [
    (("every_months: 1", "every_months: 0"), "origins.every_months"),
    (("horizons_months: [3, 6, 12]", "horizons_months: [3, soon]"), "horizons_months"),
    (("  min_share: 0.01", "  min_share: 1.5"), "calibration.min_share"),
    (("end: 2026-07-04", "end: 2025-01-01"), "origins"),
])
def test_a_bad_rule_is_one_line_naming_the_file_and_key(tmp_path, edit, key):
    text = RULE.read_text(encoding="utf-8")
    assert edit[0] in text
    bad = tmp_path / "rolling.yaml"
    bad.write_text(text.replace(edit[0], edit[1], 1), encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        bt.load_rule(bad)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(f"{bad}: {key}"), msg
