"""Load the YAML configuration under ``configs/`` without Hydra.

The layout is that of the Hydra app (``configs/config.yaml`` with a defaults list of
groups, one folder per group, and ``configs/scenario/<name>.yaml`` files that hold only
what a scenario changes). This loader composes the same files the same way for library
use, tests and notebooks, and remembers which file set each key so that a
:class:`~sim.errors.ConfigError` can name the file.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from sim.errors import ConfigError
from sim.params import MODEL_SECTIONS, ModelParams, parse_params

#: The repository's configuration folder.
CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"


def read_yaml(path: Path) -> dict:
    """Read one YAML file as a mapping (safe loader: no Python objects).

    Raises:
        ConfigError: Missing file or malformed YAML, naming the file and line.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file", "not found", str(path)) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "unknown line"
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError("yaml", f"malformed YAML at {where}: {problem}", str(path)) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError("yaml", "the file must hold a mapping of keys", str(path))
    return data


def deep_merge(base: dict, over: dict, src: str, prov: dict, prefix: str = "") -> dict:
    """Merge ``over`` into a copy of ``base``; mappings merge, everything else replaces.

    ``prov`` maps dotted keys to the file that set them and is updated in place.
    """
    out = dict(base)
    for k, v in over.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, dict) and isinstance(out.get(k), dict) and "dist" not in v:
            out[k] = deep_merge(out[k], v, src, prov, key)
        else:
            out[k] = copy.deepcopy(v)
            _mark(v, key, src, prov)
    return out


def _mark(v: Any, key: str, src: str, prov: dict) -> None:
    prov[key] = src
    if isinstance(v, dict):
        for k, x in v.items():
            _mark(x, f"{key}.{k}", src, prov)


def source_of(key: str, prov: dict) -> str | None:
    """The file that set ``key`` or its nearest enclosing key."""
    parts = key.split(".")
    for i in range(len(parts), 0, -1):
        k = ".".join(parts[:i])
        if k in prov:
            return prov[k]
    return None


def _rel(path: Path, config_dir: Path) -> str:
    try:
        return str(Path("configs") / path.relative_to(config_dir))
    except ValueError:
        return str(path)


def scenarios(config_dir: Path = CONFIG_DIR) -> list[str]:
    """Names of the bundled scenarios."""
    return sorted(p.stem for p in (config_dir / "scenario").glob("*.yaml"))


def compose(scenario: str = "baseline", config_dir: Path | None = None,
            overrides: dict | None = None) -> tuple[dict, dict]:
    """Compose the model configuration: group defaults, then the scenario, then overrides.

    Args:
        scenario: Name of a file in ``configs/scenario/``.
        config_dir: Configuration folder (defaults to the repository's ``configs/``).
        overrides: Nested mapping applied last (source ``"overrides"``).

    Returns:
        ``(config, provenance)``: the merged mapping and, for each dotted key, the file
        that set it.
    """
    config_dir = Path(config_dir) if config_dir is not None else CONFIG_DIR
    root_path = config_dir / "config.yaml"
    root = read_yaml(root_path)
    cfg: dict = {}
    prov: dict = {}
    for entry in root.get("defaults", []):
        if not isinstance(entry, dict):
            continue
        ((group, choice),) = entry.items()
        if group not in MODEL_SECTIONS:
            continue
        path = config_dir / group / f"{choice}.yaml"
        cfg = deep_merge(cfg, {group: read_yaml(path)}, _rel(path, config_dir), prov)
    known = scenarios(config_dir)
    if scenario not in known:
        raise ConfigError("scenario", f"unknown scenario {scenario!r}; available: "
                          f"{', '.join(known)}", _rel(config_dir / "scenario", config_dir))
    spath = config_dir / "scenario" / f"{scenario}.yaml"
    sdata = read_yaml(spath)
    sdata = {k: v for k, v in sdata.items() if k in MODEL_SECTIONS}
    cfg = deep_merge(cfg, sdata, _rel(spath, config_dir), prov)
    if overrides:
        cfg = deep_merge(cfg, overrides, "overrides", prov)
    return cfg, prov


def params_from_config(cfg: dict, prov: dict | None = None) -> ModelParams:
    """Validate a composed mapping, naming the file of the first bad key on error."""
    try:
        return parse_params(cfg)
    except ConfigError as e:
        if prov is not None and e.source is None:
            raise e.with_source(source_of(e.key, prov)) from None
        raise


def load_params(scenario: str = "baseline", config_dir: Path | None = None,
                overrides: dict | None = None) -> ModelParams:
    """Compose and validate a scenario's parameters (see :func:`compose`)."""
    cfg, prov = compose(scenario, config_dir, overrides)
    return params_from_config(cfg, prov)
