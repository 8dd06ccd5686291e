"""Load the YAML configuration under ``configs/`` without Hydra.

The layout is that of the Hydra app (``configs/config.yaml`` with a defaults list of
groups, one folder per group, and ``configs/scenario/<name>.yaml`` files that hold only
what a scenario changes). This loader composes the same files the same way for library
use, tests and notebooks, and remembers which file set each key so that a
:class:`~sim.errors.ConfigError` can name the file.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml

from sim.errors import ConfigError
from sim.params import MODEL_SECTIONS, ModelParams, parse_params

#: The repository's configuration folder.
CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"


#: Largest YAML file read, in bytes (configuration files are a few kilobytes).
MAX_YAML_BYTES = 1_000_000
#: Deepest nesting of mappings and lists in a YAML file.
MAX_YAML_DEPTH = 40
#: Most nodes (scalars, mappings, lists) in one YAML file.
MAX_YAML_NODES = 200_000
#: The one header line a configuration file may carry (Hydra reads ``# @...`` lines).
GLOBAL_HEADER = "# @package _global_"
#: Run keys a scenario file may set, besides the model's sections.
SCENARIO_RUN_KEYS = ("worlds", "seed", "horizon_weeks", "precision", "block_worlds",
                     "max_worlds", "quiet", "trace")
#: OmegaConf resolvers a configuration file may call (``${name:...}``); ``oc.env`` and
#: the like would copy the environment into a run's files.
ALLOWED_RESOLVERS = ("sim_root", "hydra", "now")
#: Most YAML files read from one configuration folder (or search-path folder).
MAX_CONFIG_FILES = 2000

_DIRECTIVE = re.compile(r"^\s*#\s*@")
_RESOLVER = re.compile(r"\$\{\s*([^${}:\s]+)\s*:")


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader without anchors and aliases, with caps on size and depth.

    Aliases let a few hundred bytes expand into billions of nodes (a "billion laughs"
    file); configuration files never need them. Duplicate keys are refused instead of
    the last one silently winning.
    """

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _Refused("anchors and aliases (&name, *name) are not allowed",
                           event.start_mark)
        self._nodes += 1
        if self._nodes > MAX_YAML_NODES:
            raise _Refused(f"more than {MAX_YAML_NODES:,} values", event.start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise _Refused(f"nested more than {MAX_YAML_DEPTH} levels deep",
                               event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> dict:
        seen: dict = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _Refused("merge keys (<<) are not allowed", key_node.start_mark)
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) and key is not None:
                raise _Refused("keys must be names", key_node.start_mark)
            if key in seen:
                raise _Refused(f"duplicate key {key!r} (first at line {seen[key] + 1})",
                               key_node.start_mark)
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


class _Refused(yaml.YAMLError):
    """Something :class:`_StrictLoader` refuses, with where it was found."""

    def __init__(self, problem: str, mark: Any):
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = mark


def read_text(path: Path, source: str | None = None) -> str:
    """Read a configuration file as UTF-8 text, refusing folders and huge files.

    Raises:
        ConfigError: Missing, unreadable, a folder, too large, or not UTF-8.
    """
    src = source or str(path)
    path = Path(path)
    try:
        if path.is_dir():
            raise ConfigError("file", "is a folder; expected a YAML file", src)
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            raise ConfigError("file", f"is {size:,} bytes; configuration files may hold "
                              f"at most {MAX_YAML_BYTES:,}", src)
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError("file", "not found", src) from None
    except OSError as e:
        raise ConfigError("file", f"cannot read it ({e.strerror or e})", src) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise ConfigError("file", f"not UTF-8 text (byte 0x{raw[e.start]:02x} at line "
                          f"{line}); save it as UTF-8", src) from None


def safe_load_yaml(path: Path, source: str | None = None, text: str | None = None) -> dict:
    """Read one YAML file as a mapping: safe, bounded, without anchors or aliases.

    The one YAML reader for configuration files: every file a Hydra app may compose
    passes through it (:func:`check_config_file`) before Hydra or OmegaConf sees it.

    Args:
        path: The file.
        source: Its name in error messages (default: the path).
        text: The file's text, if already read.

    Raises:
        ConfigError: Unreadable, not UTF-8, malformed, anchors or aliases, duplicate
            keys, too deep or too large, or not a mapping; naming the file and line.
    """
    src = source or str(path)
    if text is None:
        text = read_text(path, src)
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "unknown line"
        problem = getattr(e, "problem", None) or str(e).strip() or type(e).__name__
        problem = str(problem).splitlines()[0]
        raise ConfigError("yaml", f"malformed YAML at {where}: {problem}", src) from None
    except RecursionError:
        raise ConfigError("yaml", f"nested more than {MAX_YAML_DEPTH} levels deep",
                          src) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError("yaml", "the file must hold a mapping of keys", src)
    return data


#: Kept for callers of the earlier name.
read_yaml = safe_load_yaml


def header_lines(text: str) -> list[tuple[int, str]]:
    """Hydra directive lines (``# @...``) of a file: ``(line number, line)``."""
    return [(i + 1, ln.strip()) for i, ln in enumerate(text.splitlines())
            if _DIRECTIVE.match(ln)]


def _is_global_line(line: str) -> bool:
    return line.replace(" ", "").replace("\t", "") == GLOBAL_HEADER.replace(" ", "")


def _walk_strings(node: Any, path: str = ""):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk_strings(v, f"{path}.{k}" if path else str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk_strings(v, f"{path}[{i}]")
    elif isinstance(node, str):
        yield path, node


def check_resolvers(data: Any, source: str) -> None:
    """Refuse ``${name:...}`` calls other than :data:`ALLOWED_RESOLVERS`.

    ``${oc.env:SECRET}`` in a shared file would copy an environment variable into the
    run's files; references to other keys (``${paths.results_dir}``) stay allowed.

    Raises:
        ConfigError: Naming the key and the resolver.
    """
    for key, text in _walk_strings(data):
        for name in _RESOLVER.findall(text):
            if name not in ALLOWED_RESOLVERS:
                raise ConfigError(key or "yaml", f"calls resolver {name!r}; configuration "
                                  "files may use only ${other.key} references and "
                                  f"{', '.join(ALLOWED_RESOLVERS)}", source)


def check_config_file(path: Path, kind: str, source: str | None = None) -> dict:
    """Check a configuration file before any Hydra app composes it; return its data.

    A file may carry at most one header line and only ``# @package _global_`` (Hydra
    takes the last ``# @package`` line, so a second one could move the body into
    Hydra's own settings), no ``hydra:`` key, no anchors or aliases, and no resolver
    but :data:`ALLOWED_RESOLVERS`.

    Args:
        path: The file.
        kind: ``"root"`` (``config.yaml``: may hold the defaults list), ``"scenario"``
            (must start with the global header; may set only the model's sections and
            :data:`SCENARIO_RUN_KEYS`), ``"group"`` (any other group file; if global, the
            same keys as a scenario) or ``"hydra"`` (files of the ``hydra`` group: may
            set Hydra's settings, which the app checks after composing).
        source: The file's name in messages.

    Raises:
        ConfigError: The first rule broken, naming the file, the line or key.
    """
    src = source or str(path)
    text = read_text(path, src)
    data = safe_load_yaml(path, src, text)
    heads = header_lines(text)
    if len(heads) > 1:
        raise ConfigError("header", f"{len(heads)} '# @' header lines (lines "
                          f"{', '.join(str(n) for n, _ in heads)}); a file may carry one: "
                          f"{GLOBAL_HEADER}", src)
    is_global = bool(heads) and _is_global_line(heads[0][1])
    if heads and not is_global and kind != "hydra":
        raise ConfigError("header", f"line {heads[0][0]} {heads[0][1]!r}: the only header "
                          f"allowed is {GLOBAL_HEADER!r}", src)
    if kind == "hydra":
        if heads and not is_global and not re.fullmatch(
                r"#\s*@package\s+hydra(\.[\w.]+)?", heads[0][1]):
            raise ConfigError("header", f"line {heads[0][0]} {heads[0][1]!r}: a file of "
                              "the hydra group may only place itself under hydra", src)
    else:
        if "hydra" in data:
            raise ConfigError("hydra", "Hydra settings belong in configs/hydra/, not here",
                              src)
        if "defaults" in data and kind != "root":
            raise ConfigError("defaults", "only configs/config.yaml may hold a defaults "
                              "list", src)
    if kind == "scenario" and not is_global:
        raise ConfigError(GLOBAL_HEADER, "missing: a scenario file must start with this "
                          "line", src)
    if kind == "scenario" or (kind == "group" and is_global):
        allowed = MODEL_SECTIONS + SCENARIO_RUN_KEYS
        for k in data:
            if k not in allowed:
                raise ConfigError(str(k), "unknown key; a scenario file may set only "
                                  f"{', '.join(allowed)}", src)
    check_resolvers(data, src)
    return data


def yaml_files(folder: Path) -> list[Path]:
    """The YAML files under ``folder`` (recursively), at most :data:`MAX_CONFIG_FILES`.

    Raises:
        ConfigError: Too many files.
    """
    out: list[Path] = []
    for p in sorted(Path(folder).rglob("*")):
        if p.suffix in (".yaml", ".yml") and not p.is_dir():
            out.append(p)
            if len(out) > MAX_CONFIG_FILES:
                raise ConfigError("files", f"more than {MAX_CONFIG_FILES} YAML files",
                                  str(folder))
    return out


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
    sdata = check_config_file(spath, "scenario", _rel(spath, config_dir))
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
