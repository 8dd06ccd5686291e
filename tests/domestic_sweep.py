"""Helpers for the +-20 % sweep of the domestic parameters (tests/test_domestic.py)."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np

import sim.model.params as P


def numeric_keys(cfg: dict) -> list[tuple[str, ...]]:
    """Paths of every number or distribution under ``domestic`` (ints included)."""
    out = []

    def walk(node, path):
        if isinstance(node, dict):
            if "dist" in node:
                out.append(path)
                return
            for k, v in node.items():
                walk(v, (*path, k))
        elif isinstance(node, int | float) and not isinstance(node, bool):
            out.append(path)

    walk(cfg["domestic"], ("domestic",))
    return out


def _field_meta(path: tuple[str, ...]) -> dict:
    """Schema metadata (range, kind) of a domestic key."""
    cls = P.DomesticParams
    parts = list(path[1:])
    if parts[:2] == ["parliament", "factions"]:
        cls, parts = P.FactionParams, parts[3:]
    for i, name in enumerate(parts):
        f = {f.name: f for f in dataclasses.fields(cls)}[name]
        if i == len(parts) - 1:
            return f.metadata
        cls = P.nested_type(f)
    raise AssertionError(path)


def scaled(cfg: dict, path: tuple[str, ...], factor: float) -> dict:
    """``cfg`` with the key at ``path`` multiplied by ``factor`` (a distribution's
    location parameters all scaled), kept inside the key's allowed range."""
    c = copy.deepcopy(cfg)
    node = c
    for k in path[:-1]:
        node = node[k]
    md = _field_meta(path)
    lo, hi = md["lo"], md["hi"]
    eps = 1e-6 if md.get("lo_open") or md.get("hi_open") else 0.0

    def clip(x):
        return float(np.clip(x, lo + eps, hi - eps))

    v = node[path[-1]]
    if isinstance(v, dict):
        v = dict(v)
        for a in ("low", "high", "mode", "mean"):
            if a in v:
                v[a] = clip(v[a] * factor)
        if "low" in v and v["low"] >= v["high"]:
            v["low"] = v["high"] - 1e-6
    elif md["kind"] == "int":
        v = int(round(v * factor))
    else:
        v = clip(v * factor)
    node[path[-1]] = v
    return c
