"""sim-explore: Sobol/Morris through per-world arrays, PRIM, the model hook, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from sim import CONFIG_DIR, load_params, simulate
from sim.analysis.explore import (
    LUCK,
    Input,
    convergence_warnings,
    discover_inputs,
    explore,
    model_evaluator,
    parse_explore,
    ranking_markdown,
    sobol_design,
    world_outputs,
)
from sim.analysis.prim import describe, paste, prim
from sim.cli.explore import compose, main
from sim.cli.explore import explore as explore_cli
from sim.model.dists import Dist
from sim.model.rng import stream
from sim.viz.report import build_report

IGNORED = "incidents.investigation_ambiguity"  # only read when investigation_mechanism


def settings(method="sobol", **kw):
    cfg = yaml.safe_load((CONFIG_DIR / "explore" / f"{method}.yaml").read_text())
    cfg.update({"precision": None, **kw})  # N as given unless a test sets a target
    return parse_explore(cfg)


# ------------------------------------------------------------------ known answers

A, B = 7.0, 0.1
_V = A**2 / 8 + B * np.pi**4 / 5 + B**2 * np.pi**8 / 18 + 0.5
_V1 = 0.5 * (1 + B * np.pi**4 / 5) ** 2
_V2 = A**2 / 8
_V13 = B**2 * np.pi**8 * (1 / 18 - 1 / 50)
ISHIGAMI_S1 = {"x1": _V1 / _V, "x2": _V2 / _V, "x3": 0.0}
ISHIGAMI_ST = {"x1": (_V1 + _V13) / _V, "x2": _V2 / _V, "x3": _V13 / _V}
PI = Dist("uniform", (("low", -np.pi), ("high", np.pi)))
ISHIGAMI_INPUTS = [Input(k, PI, True) for k in ("x1", "x2", "x3")]


def ishigami(arrays, block):
    """Per-world outputs of the Ishigami function: the evaluator a model run would be."""
    x1, x2, x3 = arrays["x1"], arrays["x2"], arrays["x3"]
    y = np.sin(x1) + A * np.sin(x2) ** 2 + B * x3**4 * np.sin(x1)
    return {"signed": y}


def index(ex, name, kind, output="signed"):
    t = ex.indices
    r = t[(t["output"] == output) & (t["input"] == name) & (t["index"] == kind)].iloc[0]
    return float(r["value"]), float(r["conf"])


def test_ishigami_sobol_indices_within_salib_intervals_of_the_analytic_values():
    calls = []

    def ev(arrays, block):
        calls.append((block, len(arrays["x1"])))
        return ishigami(arrays, block)

    ex = explore(ISHIGAMI_INPUTS, ev, settings(n=1024, second_order=True), seed=3)
    for name in ("x1", "x2", "x3"):
        for kind, truth in (("S1", ISHIGAMI_S1), ("ST", ISHIGAMI_ST)):
            v, conf = index(ex, name, kind)
            assert abs(v - truth[name]) <= conf, (name, kind, v, conf, truth[name])
    s2 = ex.second_order.set_index(["input", "other"])
    r = s2.loc[("x1", "x3")]
    assert abs(r["value"] - _V13 / _V) <= r["conf"]
    # a deterministic function has no luck: its indices are exactly zero
    assert index(ex, LUCK, "ST") == (0.0, 0.0)
    # the design ran as 2D + 2 runs (D = 3 inputs + luck) of N worlds, in two luck blocks
    assert len(calls) == 2 * 4 + 2 and {n for _, n in calls} == {1024}
    assert {b for b, _ in calls} == {0, 1}
    assert len(ex.u) == 1024 * 10


def test_luck_rows_share_their_world_position_and_block():
    """Rows of one Saltelli group that take luck from A run in block 0 at one position."""
    seen = {}

    def ev(arrays, block):
        seen.setdefault(block, []).append(np.column_stack([arrays[k] for k in arrays]))
        return ishigami(arrays, block)

    ex = explore(ISHIGAMI_INPUTS, ev, settings(n=8, second_order=False), seed=0)
    # group j: A row, AB_x1..AB_x3 (luck from A), AB_luck and B (luck from B)
    per = 3 + 1 + 2
    assert len(seen[0]) == 4 and len(seen[1]) == 2
    A_rows = ex.u[::per, :3]
    assert np.allclose(seen[0][0], PI.ppf(A_rows))


def test_same_seed_same_indices_other_seed_other_design():
    # seed 0 is a seed like any other: intervals (bootstrap) included
    a = explore(ISHIGAMI_INPUTS, ishigami, settings(n=64), seed=0).indices
    b = explore(ISHIGAMI_INPUTS, ishigami, settings(n=64), seed=0).indices
    c = explore(ISHIGAMI_INPUTS, ishigami, settings(n=64), seed=6).indices
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["value"], c["value"])
    m = [explore(ISHIGAMI_INPUTS, ishigami, settings("morris", n=10), seed=0).indices
         for _ in range(2)]
    pd.testing.assert_frame_equal(*m)


def test_the_default_sobol_run_has_a_precision_target_so_its_top_indices_are_readable():
    cfg = yaml.safe_load((CONFIG_DIR / "explore" / "sobol.yaml").read_text())
    s = parse_explore(cfg)
    assert s.precision is not None and s.precision <= 0.1 and s.max_n >= 8 * s.n


def test_precision_doubles_n_until_the_top_intervals_are_narrow_enough():
    ex = explore(ISHIGAMI_INPUTS, ishigami, settings(n=64, precision=0.06, max_n=4096,
                                                   second_order=True),
                 seed=1)
    ns = [n for n, _ in ex.history]
    assert ns == [64 * 2**i for i in range(len(ns))] and len(ns) > 1
    assert ex.precision_reached and ex.history[-1][1] <= 0.06 < ex.history[0][1]
    assert len(ex.u) == ex.n * 10  # the batches add up to one design of the final N
    whole = sobol_design(["x1", "x2", "x3"], ex.n, True, True, seed=1)
    assert np.array_equal(ex.u, whole.u)
    capped = explore(ISHIGAMI_INPUTS, ishigami, settings(n=64, precision=1e-4, max_n=128,
                                                   second_order=True),
                     seed=1)
    assert capped.precision_reached is False and capped.n == 128


UNIT = Dist("uniform", (("low", 0.0), ("high", 1.0)))


def noisy_linear(arrays, block):
    """y = x1 plus luck: a normal of variance 1/12 per world position of the block."""
    x = arrays["x1"]
    noise = stream(11, "noise", block).normal(0.0, np.sqrt(1 / 12), len(x))
    return {"signed": x + noise}


@pytest.mark.parametrize("R", [1, 8])
def test_replicates_shrink_luck_as_one_over_r(R):
    # Var x1 = 1/12, the luck's 1/12 / R: luck's total index 1 / (R + 1), x1's R / (R + 1)
    inputs = [Input("x1", UNIT, True), Input("x2", UNIT, True)]
    ex = explore(inputs, noisy_linear, settings(n=1024, second_order=False, replicates=R),
                 seed=2)
    assert ex.worlds == len(ex.u) * R == 1024 * 5 * R
    for name, truth in ((LUCK, 1 / (R + 1)), ("x1", R / (R + 1)), ("x2", 0.0)):
        v, conf = index(ex, name, "ST")
        assert abs(v - truth) <= max(conf, 0.02), (name, R, v, conf, truth)
    sh = ex.variance_shares()
    assert sh["first_order_inputs"] == pytest.approx(R / (R + 1), abs=0.06)
    assert sh["first_order_luck"] == pytest.approx(1 / (R + 1), abs=0.06)
    half = sum(index(ex, nm, "S1")[1] for nm in ("x1", "x2", LUCK))
    assert abs(sh["interactions"]) <= half           # additive: nothing interacts


def test_the_first_order_shares_of_ishigami_are_its_analytic_variance_shares():
    ex = explore(ISHIGAMI_INPUTS, ishigami, settings(n=1024), seed=3)
    sh = ex.variance_shares()
    assert sh["first_order_inputs"] == pytest.approx((_V1 + _V2) / _V, abs=0.05)
    assert sh["interactions"] == pytest.approx(_V13 / _V, abs=0.05)
    assert "These are shares of the variance" in ranking_markdown(ex)


def test_convergence_warnings_name_wide_intervals_and_impossible_indices():
    rows = [("signed", "a", "ST", 1.11, 0.05), ("signed", "a", "S1", 0.3, 0.2),
            ("signed", "b", "ST", 0.4, 0.21), ("signed", "b", "S1", -0.3, 0.1),
            ("escalated", "a", "ST", 1.5, 0.01)]
    t = pd.DataFrame(rows, columns=["output", "input", "index", "value", "conf"])
    t["low"], t["high"] = t["value"] - t["conf"], t["value"] + t["conf"]
    w = convergence_warnings(t, "sobol", 0.1, 3)
    assert len(w) == 3 and "+-0.210, wider than the target +-0.1" in w[0]
    assert any("ST of a on P(sign) is 1.11" in x for x in w)
    assert any("S1 of b on P(sign) is -0.30" in x for x in w)
    assert convergence_warnings(t, "sobol", 0.5, 3) == [w[1], w[2]]
    ok = explore(ISHIGAMI_INPUTS, ishigami, settings(n=1024, precision=0.2, max_n=4096),
                 seed=3)
    assert ok.warnings == []


def test_morris_ranks_a_linear_function_and_gives_an_unused_input_zero():
    inputs = [Input(k, Dist("uniform", (("low", 0.0), ("high", 1.0))), True)
              for k in ("a", "b", "c")]

    def ev(arrays, block):
        return {"signed": 3 * arrays["a"] + 1 * arrays["b"]}

    ex = explore(inputs, ev, settings("morris", n=20), seed=0)
    mu = {r.input: r.value for r in ex.top().itertuples()}
    assert mu["a"] == pytest.approx(3.0) and mu["b"] == pytest.approx(1.0)
    assert mu["c"] == 0.0
    assert list(ex.top()["input"]) == ["a", "b", "c"]


# ------------------------------------------------------------------ PRIM


def planted(n=6000, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.uniform(0, 1, (n, 5)), columns=[f"x{i}" for i in range(5)])
    inside = (X["x0"] > 0.6) & (X["x2"] < 0.3)
    y = np.where(inside, rng.uniform(size=n) < 0.9, rng.uniform(size=n) < 0.1)
    return X, y


def test_prim_recovers_a_planted_box():
    X, y = planted()
    res = prim(X, y, threshold=0.85)
    box = res.box
    assert sorted(box.restricted) == ["x0", "x2"]
    assert box.limits["x0"][0] == pytest.approx(0.6, abs=0.04)
    assert box.limits["x2"][1] == pytest.approx(0.3, abs=0.04)
    assert box.density >= 0.85 and res.threshold_reached
    assert box.coverage > 0.5 and 0.08 < box.mass < 0.16  # the box holds 12 % of worlds
    assert all(p < 1e-6 for p in box.qp.values())
    traj = res.trajectory
    assert traj["coverage"].iloc[0] == 1.0 and traj["mass"].is_monotonic_decreasing
    assert traj["mass"].iloc[-1] >= 0.05
    text = describe(box, "signed", res.base_density)
    lo, hi = box.limits["x0"][0], box.limits["x2"][1]
    assert f"when x0 >= {lo:.3g} and x2 <= {hi:.3g};" in text and "x1" not in text


def test_a_chosen_step_is_the_box_of_that_step_before_pasting():
    X, y = planted()
    res = prim(X, y, threshold=0.85, step=3)
    assert res.chosen == 3 and res.box.mass >= res.trajectory["mass"].iloc[3]
    with pytest.raises(IndexError, match="steps 0 to"):
        prim(X, y, step=10_000)


def test_pasting_widens_a_box_peeled_too_far():
    X, _ = planted(seed=1)
    Xa = X.to_numpy()
    ya = (Xa[:, 0] > 0.6) & (Xa[:, 2] < 0.3)  # noise-free: pasting inside keeps density 1
    lo, hi = Xa.min(axis=0), Xa.max(axis=0)
    lo[0], hi[2] = 0.8, 0.1  # inside the planted box: density already high
    plo, phi = paste(Xa, ya, lo, hi, 0.05)
    assert plo[0] == pytest.approx(0.6, abs=0.05) and phi[2] == pytest.approx(0.3, abs=0.05)


# ------------------------------------------------------------------ the model hook


def test_fixed_draws_replace_the_draws_of_named_keys_only(cfg):
    params = load_params(assumptions="point")   # table_inertia a number, as in the YAML
    vals = np.linspace(0.4, 0.55, 50)
    a = simulate(params, worlds=50, seed=2, horizon_weeks=20,
                 fixed_draws={"actors.armenia.reservation": vals})
    b = simulate(params, worlds=50, seed=2, horizon_weeks=20)
    assert np.array_equal(a.outcomes["param.actors.armenia.reservation"], vals)
    assert np.array_equal(a.outcomes["param.incidents.base_rate"],
                          b.outcomes["param.incidents.base_rate"])
    with pytest.raises(ValueError, match="not a distributed parameter"):
        simulate(params, worlds=50, horizon_weeks=5,
                 fixed_draws={"negotiation.table_inertia": vals})
    with pytest.raises(ValueError, match="must hold 50 values"):
        simulate(params, worlds=50, horizon_weeks=5,
                 fixed_draws={"actors.armenia.reservation": vals[:10]})


@pytest.mark.parametrize("dist", [
    Dist("uniform", (("low", 0.2), ("high", 0.6)), 0, 1),
    Dist("normal", (("mean", 0.5), ("sd", 0.1)), 0, 1),
    Dist("beta", (("a", 2.0), ("b", 5.0)), 0, 1),
    Dist("triangular", (("low", 1.0), ("mode", 2.0), ("high", 5.0)), 0, 10),
])
def test_ppf_maps_quantiles_onto_the_same_law_as_sample(dist):
    x = dist.sample(np.random.default_rng(0), 200_000)
    q = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
    assert np.allclose(dist.ppf(q), np.quantile(x, q), atol=0.01 * (x.max() - x.min()))


def test_inputs_are_discovered_from_the_composed_parameters():
    params = load_params("march_2025")
    keys = [i.key for i in discover_inputs(params)]
    assert "domestic.constitution.draft_weeks" in keys  # the scenario's own distribution
    assert "domestic.support.initial" in keys and "actors.armenia.reservation" in keys
    assert all(isinstance(i.dist, Dist) for i in discover_inputs(params))


def test_world_outputs_censor_weeks_to_signing_at_the_horizon():
    o = pd.DataFrame({"signed": [True, True, False], "sign_week": [10, 60, -1],
                      "escalated": [False, False, True]})
    y = world_outputs(o, 156)
    assert list(y["weeks_to_sign"]) == [10, 60, 156]
    assert list(y["signed_12m"]) == [1, 0, 0] and list(y["signed_24m"]) == [1, 1, 0]
    assert list(y["escalated"]) == [0, 0, 1]


# ------------------------------------------------------------------ on the model


def _model_sobol(seed, n, named=()):
    over = {"incidents": {IGNORED.split(".")[1]: {"dist": "uniform", "low": 0.0,
                                                  "high": 1.0}}}
    params = load_params(overrides=over)
    inputs = discover_inputs(params, named=[IGNORED])
    return explore(inputs, model_evaluator(params, seed, 156), settings(n=n), seed=seed)


@pytest.fixture(scope="module")
def model_runs():
    # N = 1024: at 256 the top two inputs' intervals (yes share, general support) overlap
    # at P(sign) near 0.1 and their ranking can swap between seeds
    return _model_sobol(0, 1024), _model_sobol(1, 1024)


def test_an_input_the_model_ignores_gets_zero_within_its_interval(model_runs):
    ex = model_runs[0]
    assert IGNORED in ex.names
    for output in ex.y:
        for kind in ("S1", "ST"):
            v, conf = index(ex, IGNORED, kind, output)
            assert v - conf <= 0.0 <= v + conf, (output, kind, v, conf)
    # and a model input that matters does not
    top = ex.top().query("input != @LUCK").iloc[0]
    assert top["low"] > 0


def test_the_top_input_is_stable_across_seeds_within_its_interval(model_runs):
    a, b = model_runs
    ta = a.top().query("input != @LUCK").iloc[0]
    tb = b.top().query("input != @LUCK").iloc[0]
    assert ta["input"] == tb["input"]
    assert abs(ta["value"] - tb["value"]) <= max(ta["conf"], tb["conf"])


# ------------------------------------------------------------------ the command line


def bad(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    return err


@pytest.mark.parametrize("argv, key, words", [
    (["explore.n=100"], "explore.n", "power of two"),
    (["explore.method=fast"], "explore.method", "morris, sobol, prim"),
    (["explore.bogus=1"], "explore.bogus", "unknown key"),
    (["+explore.inputs.incidents.base_rate=[0.5,0.1]"], "explore.inputs.incidents.base_rate",
     "low < high"),
    (["+explore.inputs.incidents.nope=[0,1]"], "explore.inputs.incidents.nope",
     "not a numeric model parameter"),
    (["+explore.inputs.incidents.branching_ratio=[0,2]"],
     "explore.inputs.incidents.branching_ratio", "[0, 0.95]"),
    (["explore=prim", "explore.source=/nonexistent/run"], "explore.source", "not a sim-run"),
    (["explore.inputs.incidents.tension_gain=[0,2]"], "explore.inputs.incidents.tension_gain",
     "'+explore.inputs.incidents.tension_gain=[low,high]'"),
    (["explore=nope"], "explore", "available: morris, prim, sobol"),
    (["-m", "seed=1,2"], "--multirun", "one exploration"),
    (["worlds=-1"], "worlds", "whole number"),
])
def test_bad_input_is_one_line_and_exit_2(argv, key, words, capsys):
    line = bad(argv, capsys)
    assert line.startswith("sim-explore: error:") and key in line and words in line, line


def test_a_scenario_without_distributions_has_nothing_to_explore():
    from sim.cli.explore import prepare
    from sim.errors import ConfigError
    from sim.model.dists import DIST_ARGS

    def fix(node):  # every distribution replaced by a number inside its support
        if isinstance(node, dict):
            if node.get("dist") in DIST_ARGS:
                return Dist(node["dist"], tuple((k, float(v)) for k, v in node.items()
                                                if k != "dist")).mean()
            return {k: fix(v) for k, v in node.items()}
        return node

    cfg = fix(compose(["explore.priors=false"]))  # the scenario's distributions only
    with pytest.raises(ConfigError, match="nothing to explore"):
        prepare(cfg)
    cfg["explore"]["inputs"] = {"incidents": {"base_rate": [0.05, 0.5]}}
    assert [i.key for i in discover_inputs(prepare(cfg).job.params)] == ["incidents.base_rate"]


def test_explore_group_files_name_themselves(tmp_path, capsys):
    cfg = tmp_path / "configs"
    import shutil

    shutil.copytree(CONFIG_DIR, cfg)
    (cfg / "explore" / "sobol.yaml").write_text(
        (cfg / "explore" / "sobol.yaml").read_text().replace("n: 256", "n: 300"))
    line = bad(["--config-path", str(cfg)], capsys)
    assert "explore/sobol.yaml" in line and "explore.n" in line


def test_command_line_sobol_writes_an_exploration_folder_and_report(tmp_path, capsys):
    out = tmp_path / "ex"
    main(["explore.n=16", "explore.precision=null", "horizon_weeks=52",
          "explore.second_order=false", "+explore.inputs.incidents.tension_gain=[0,2]",
          "explore.priors=false", f"hydra.run.dir={out}"])
    assert "inputs by total index ST on P(sign)" in capsys.readouterr().out
    summary = json.loads((out / "exploration.json").read_text())
    assert summary["method"] == "sobol" and summary["n"] == 16
    keys = {i["key"]: i["source"] for i in summary["inputs"]}
    assert keys["incidents.tension_gain"] == "named range"
    assert keys["domestic.support.initial"] == "scenario"
    ind = pd.read_csv(out / "indices.csv")
    assert {"output", "input", "index", "value", "conf", "low", "high"} <= set(ind.columns)
    assert set(ind["output"]) == {"signed", "signed_12m", "signed_24m", "escalated",
                                  "weeks_to_sign"}
    assert (out / "indices.parquet").exists() and (out / "ranking.md").exists()
    design = pd.read_parquet(out / "design.parquet")
    assert len(design) == summary["worlds"] == 16 * (len(keys) + 1 + 2)
    assert design["param.incidents.tension_gain"].between(0, 2).all()
    index_html = build_report(out)
    names = {p.name for p in index_html.parent.glob("*.png")}
    assert "sensitivity_signed.png" in names and len(names) == 5
    md = (index_html.parent / "report.md").read_text()
    assert "Inputs ranked" in md
    assert md.count("Worlds covered: every world of the design") == len(names)


def test_prim_on_a_fresh_run_states_the_box_in_words(tmp_path):
    ov = ["explore=prim", "worlds=4000", "quiet=true", "explore.priors=false"]
    s = explore_cli(compose(ov), tmp_path, ov)
    assert (tmp_path / "run" / "worlds.parquet").exists()
    words = s["box"]["words"]
    assert words.startswith("P(signed) = ")
    # the box is stated in the run's drawn inputs (support.baseline, named here before,
    # no longer exists: public support is one draw, docs/model.md 7.7)
    assert any(f" {i.key} " in words for i in discover_inputs(load_params("baseline")))
    again = explore_cli(compose(["explore=prim", f"explore.source={tmp_path / 'run'}"]),
                        tmp_path / "again", [f"explore.source={tmp_path / 'run'}"])
    assert again["box"]["limits"] == s["box"]["limits"]
    names = {p.name for p in build_report(tmp_path).parent.glob("*.png")}
    assert names == {"prim_trajectory.png", "prim_box.png"}


def test_figures_rank_inputs_and_the_core_does_not_import_hydra():
    import subprocess
    import sys

    from sim.viz import plots

    ind = pd.DataFrame({"output": "signed", "input": ["a.x", "a.y", "a.x", "a.y"],
                        "index": ["S1", "S1", "ST", "ST"], "value": [0.1, 0.5, 0.2, 0.7],
                        "conf": 0.05})
    ind["low"], ind["high"] = ind["value"] - 0.05, ind["value"] + 0.05
    fig = plots.sobol_bars(ind, "signed", output_label="P(sign)")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["a.x", "a.y"]  # ranked by ST, highest at the top
    assert plots.figure_title(fig) == "What drives P(sign): Sobol indices"
    code = ("import sys, sim.analysis.explore, sim.analysis.prim; "
            "assert not any(m.startswith('hydra') for m in sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_morris_folder_report_has_ranked_bars_and_the_plane(tmp_path):
    ov = ["explore=morris", "explore.n=4", "horizon_weeks=52", "quiet=true"]
    s = explore_cli(compose(ov), tmp_path, ov)
    assert s["method"] == "morris" and s["worlds"] == 4 * (len(s["inputs"]) + 1)
    names = {p.name for p in build_report(tmp_path).parent.glob("*.png")}
    assert {"morris_bars_signed.png", "morris_signed.png"} <= names


def test_sim_explore_composes_at_the_point_values_and_refuses_a_joint_posterior(capsys):
    """sim-run draws the record's posterior by default; a Sobol or Morris design varies
    each input alone over its prior, so sim-explore composes with assumptions=point and
    refuses the posterior (whose rows are joint) in one line."""
    from sim.cli.explore import prepare

    xj = prepare(compose(["explore.n=16"]), ["explore.n=16"])
    assert xj.job.settings.assumptions == "point" and xj.from_prior
    err = bad(["explore.n=16", "assumptions=posterior"], capsys)
    assert "assumptions" in err and "need assumptions=point, got posterior" in err
