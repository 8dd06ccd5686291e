"""Analyses of runs: backtest and scoring, sensitivity (Sobol, Morris), PRIM."""
