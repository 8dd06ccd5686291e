"""Load the YAML configuration under ``configs/`` without Hydra.

The layout is that of the Hydra app (``configs/config.yaml`` with a defaults list of
groups, one folder per group, and ``configs/scenario/<name>.yaml`` files that hold only
what a scenario changes). :func:`compose_layers` composes the same files the same way
for the library, tests and notebooks and for the command line's checks
(:mod:`sim.cli.compose`), and remembers which file set each key so that a
:class:`~sim.errors.ConfigError` can name the file; :func:`check_override_key` checks
overrides for both in the same words. Each file is parsed once per content per process,
by libyaml's parser under the strict loader's checks (:func:`_parse`).
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import hashlib
import importlib.resources
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from sim.errors import ConfigError
from sim.model.params import MODEL_SECTIONS, ModelParams, parse_params, schema_keys
from sim.safeio import UnsafeFile, read_regular_bytes


def _config_dir() -> Path:
    """The installed package's ``sim/configs`` (a wheel), else the checkout's ``configs/``."""
    packaged = Path(str(importlib.resources.files("sim"))) / "configs"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / "configs"


#: The configuration folder: the checkout's ``configs/`` (the one home of the defaults,
#: also under an editable install), or the copy a wheel installs as ``sim/configs``.
CONFIG_DIR = _config_dir()


def output_root() -> Path:
    """Where ``results/`` (and ``forecasts/``) go by default.

    The checkout holding :data:`CONFIG_DIR`; for an installed package (whose configs live
    in site-packages), the current working directory.
    """
    if CONFIG_DIR.parent == Path(__file__).resolve().parents[1]:
        return Path.cwd()
    return CONFIG_DIR.parent


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
                     "max_worlds", "quiet", "trace", "assumptions")
#: A scenario file's key for the claim it makes (:func:`parse_claims`); never reaches the model.
CLAIM_KEY = "expect"
#: Outcome measures a scenario may claim a direction for (each a share of worlds, paired
#: world by world with the baseline in ``tests/test_scenario_claims.py``).
CLAIM_MEASURES = ("p_sign", "p_ratified", "p_escalation", "p_government_fell",
                  "p_referendum_held", "p_referendum_passed", "p_stalemate")
#: Directions a claim may state.
CLAIM_DIRECTIONS = ("up", "down")
#: OmegaConf resolvers a configuration file may call (``${name:...}``); ``oc.env`` and
#: the like would copy the environment into a run's files.
ALLOWED_RESOLVERS = ("sim_root", "hydra", "now")
#: Most YAML files read from one configuration folder (or search-path folder).
MAX_CONFIG_FILES = 2000

_DIRECTIVE = re.compile(r"^\s*#\s*@")
_RESOLVER = re.compile(r"\$\{\s*([^${}:\s]+)\s*:")


class _StrictChecks:
    """Checks shared by both strict loaders: no anchors or aliases, caps on size and depth.

    Aliases let a few hundred bytes expand into billions of nodes (a "billion laughs"
    file); configuration files never need them. Duplicate keys are refused instead of
    the last one silently winning. Mixed into a loader whose composer is PyYAML's
    Python :class:`~yaml.composer.Composer` (these methods override it).
    """

    _depth: int
    _nodes: int

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[attr-defined]
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
            return super().compose_node(parent, index)  # type: ignore[misc]
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> dict:
        seen: dict = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _Refused("merge keys (<<) are not allowed", key_node.start_mark)
            key = self.construct_object(key_node, deep=True)  # type: ignore[attr-defined]
            if not isinstance(key, str | int | float | bool) and key is not None:
                raise _Refused("keys must be names", key_node.start_mark)
            if key in seen:
                raise _Refused(f"duplicate key {key!r} (first at line {seen[key] + 1})",
                               key_node.start_mark)
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)  # type: ignore[misc]


class _StrictLoader(_StrictChecks, yaml.SafeLoader):
    """PyYAML's pure-Python safe loader with :class:`_StrictChecks`.

    The reference: it decides (and words) every refusal; :class:`_FastStrictLoader`
    is used only for files it reads without complaint.
    """

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0


#: Floats as OmegaConf (so Hydra) reads them, besides YAML 1.1's: ``1e-3`` and ``1e3``
#: (no dot) are numbers, as an analyst means them, in the library as on the command line.
_FLOAT = re.compile(r"""^(?:
     [-+]?[0-9]+(?:_[0-9]+)*\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9]+(?:_[0-9]+)*(?:[eE][-+]?[0-9]+)
    |\.[0-9]+(?:_[0-9]+)*(?:[eE][-+][0-9]+)?
    |[-+]?[0-9]+(?:_[0-9]+)*(?::[0-5]?[0-9])+\.[0-9_]*
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""", re.X)
_StrictLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT,
                                    list("-+0123456789."))

_CParser: Any
try:  # libyaml's scanner and parser (C); PyYAML built without it falls back below
    from yaml import _yaml

    _CParser = _yaml.CParser
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    _CParser = None

#: Whether configuration files are scanned and parsed by libyaml (about 7x faster).
LIBYAML = _CParser is not None

if _CParser is not None:
    class _FastStrictLoader(_StrictChecks, Composer, _CParser,
                            SafeConstructor, Resolver):
        """libyaml's scanner and parser with the Python composer, constructor, resolver.

        Only tokens and events come from C; nodes are composed by the same Python
        :class:`~yaml.composer.Composer` as :class:`_StrictLoader`'s, so every
        :class:`_StrictChecks` check (aliases, anchors, depth, node count, merge and
        duplicate keys) runs on the same events, and the same constructor refuses the
        same tags. (libyaml's own composer, ``yaml.CSafeLoader``, cannot be checked
        this way: its node building is compiled.) The parser is iterative, so a deeply
        nested file stops at :data:`MAX_YAML_DEPTH` in the composer.
        """

        def __init__(self, stream: str):
            _CParser.__init__(self, stream)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            Composer.__init__(self)
            self._depth = 0
            self._nodes = 0

    _FastStrictLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT,
                                            list("-+0123456789."))


class _Refused(yaml.YAMLError):
    """Something the strict loaders refuse, with where it was found."""

    def __init__(self, problem: str, mark: Any):
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = mark


#: Characters PyYAML's pure reader refuses; libyaml's set differs slightly, so a text
#: holding any of them is left to the pure loader.
_NON_PRINTABLE = re.compile("[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD"
                            "\U00010000-\U0010FFFF]")
#: Parsed texts (digest -> data), shared by every caller in the process.
_PARSED: dict[bytes, Any] = {}
#: Checked files ((digest, kind, source) -> (data, is_global)).
_CHECKED: dict[tuple, tuple[dict, bool]] = {}
#: Most entries of each cache (a process reads a few dozen files).
_CACHE_SIZE = 1024


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=20).digest()


def _copy(x: Any) -> Any:
    """A deep copy of YAML data (mappings, lists, immutable scalars), fast."""
    if isinstance(x, dict):
        return {k: _copy(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_copy(v) for v in x]
    if isinstance(x, str | int | float | bool | dt.date | bytes) or x is None:
        return x
    return copy.deepcopy(x)


def _remember(cache: dict, key: Any, value: Any) -> None:
    if len(cache) >= _CACHE_SIZE:
        cache.clear()
    cache[key] = value


def _parse(text: str) -> Any:
    """Parse a YAML text with the strict checks, once per distinct text per process.

    Files are cached by content, not by modification time: a file rewritten within the
    file system's timestamp granularity with the same size would otherwise be served
    stale. Reading and hashing a configuration file costs microseconds; parsing it
    (even in C) costs far more. Callers get a copy they may change.

    Raises:
        yaml.YAMLError, RecursionError: As :class:`_StrictLoader` raises them.
    """
    key = _digest(text)
    hit = _PARSED.get(key, _PARSED)
    if hit is not _PARSED:
        return _copy(hit)
    _check_directives(text)
    data = None
    done = False
    if LIBYAML and not _NON_PRINTABLE.search(text):
        try:
            data = yaml.load(text, Loader=cast(Any, _FastStrictLoader))  # noqa: S506 - safe
            done = True
        except (yaml.YAMLError, RecursionError):
            pass  # the pure loader refuses it too, in the words it always used
    if not done:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    _remember(_PARSED, key, data)
    return _copy(data)


#: ``%YAML`` versions every YAML reader of a run accepts (libyaml's; Hydra's too).
YAML_VERSIONS = ("1.1", "1.2")
_YAML_DIRECTIVE = re.compile(r"^%YAML[ \t]+(\S*)", re.MULTILINE)


class _Mark:
    """Where a text-level refusal was found (the part of a YAML mark messages read)."""

    def __init__(self, line: int):
        self.line = line


def _check_directives(text: str) -> None:
    """Refuse a ``%YAML`` version other than :data:`YAML_VERSIONS`.

    PyYAML's pure reader takes any 1.x; libyaml and so Hydra only these. Refused here, a
    file with ``%YAML 1.3`` is named in the message, not left for Hydra to fail on.

    Raises:
        yaml.YAMLError: Naming the line.
    """
    for m in _YAML_DIRECTIVE.finditer(text):
        if m.group(1) not in YAML_VERSIONS:
            raise _Refused(f"%YAML {m.group(1)}: only versions "
                           f"{' and '.join(YAML_VERSIONS)} are read",
                           _Mark(text.count("\n", 0, m.start())))


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
        raw = read_regular_bytes(path, MAX_YAML_BYTES)
    except UnsafeFile as e:
        raise ConfigError("file", f"{e}; configuration files are regular files of at most "
                          f"{MAX_YAML_BYTES:,} bytes", src) from None
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
        data = _parse(text)
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
    data, _ = _checked_file(path, kind, source)
    return data


def _checked_file(path: Path, kind: str, source: str | None = None) -> tuple[dict, bool]:
    """:func:`check_config_file`'s data (a copy) and whether the file is global.

    The file is read each time (so an edited file is seen at once) and parsed and
    checked once per content, kind and name per process.
    """
    src = source or str(path)
    text = read_text(path, src)
    key = (_digest(text), kind, src)
    hit = _CHECKED.get(key)
    if hit is None:
        hit = _check_text(text, path, kind, src)
        _remember(_CHECKED, key, hit)
    return _copy(hit[0]), hit[1]


def _check_text(text: str, path: Path, kind: str, src: str) -> tuple[dict, bool]:
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
            file_defaults(data, "global" if kind == "group" and is_global else kind, src)
    if kind == "scenario" and not is_global:
        raise ConfigError(GLOBAL_HEADER, "missing: a scenario file must start with this "
                          "line (without it Hydra would file its keys under 'scenario.')",
                          src)
    if kind == "scenario" and CLAIM_KEY in data:
        parse_claims(data[CLAIM_KEY], src)
    if kind == "scenario" or (kind == "group" and is_global):
        allowed = MODEL_SECTIONS + SCENARIO_RUN_KEYS + ((CLAIM_KEY,) if kind == "scenario"
                                                        else ())
        for k in data:
            if k not in allowed and k != "defaults":
                raise ConfigError(str(k), f"unknown key{did_you_mean(k, allowed)}; a "
                                  f"scenario file may set only {', '.join(allowed)}", src)
    check_resolvers(data, src)
    return data, is_global


@dataclass(frozen=True)
class Claims:
    """What a scenario file says it does, in data (its ``expect:`` block).

    ``directions`` maps a measure of :data:`CLAIM_MEASURES` to ``"up"`` or ``"down"``
    against the baseline; ``under`` holds dotted overrides applied to the scenario and the
    baseline alike before they are compared (``{domestic.support.frozen: true}`` to test a
    channel with public support held fixed); ``worlds`` is how many paired worlds the
    claim needs (default: the test's); ``assumptions`` is where both runs' assumptions
    come from when the claim is checked (``point``, ``prior`` or ``posterior``; default
    the scenario's own mode, :func:`sim.analysis.claims.check_scenario`): a claim about
    a mechanism at the defaults' values says ``point``.
    """

    directions: dict[str, str]
    under: dict[str, Any]
    worlds: int | None = None
    assumptions: str | None = None


def parse_claims(block: Any, src: str) -> Claims:
    """Check and return a scenario's ``expect:`` block (see :class:`Claims`).

    Raises:
        ConfigError: Not a mapping, an unknown measure, a direction other than up or
            down, ``under`` not a mapping of dotted keys to values, a bad ``worlds`` or
            ``assumptions``.
    """
    from sim.experiment.assumptions import check_mode

    if not isinstance(block, dict) or not block:
        raise ConfigError(CLAIM_KEY, "must be a mapping of outcome measures to up or "
                          f"down (measures: {', '.join(CLAIM_MEASURES)})", src)
    directions: dict[str, str] = {}
    under: dict[str, Any] = {}
    worlds = None
    mode = None
    for k, v in block.items():
        key = f"{CLAIM_KEY}.{k}"
        if k == "under":
            if not isinstance(v, dict) or not all(isinstance(x, str) and x for x in v):
                raise ConfigError(key, "must be a mapping of dotted keys to values "
                                  "({domestic.support.frozen: true})", src)
            under = dict(v)
        elif k == "worlds":
            if isinstance(v, bool) or not isinstance(v, int) or not 100 <= v <= 1_000_000:
                raise ConfigError(key, f"must be a whole number from 100 to 1000000, got "
                                  f"{v!r}", src)
            worlds = v
        elif k == "assumptions":
            mode = check_mode(v, src, key)
        elif k in CLAIM_MEASURES:
            if v not in CLAIM_DIRECTIONS:
                raise ConfigError(key, f"must be one of {', '.join(CLAIM_DIRECTIONS)}, "
                                  f"got {v!r}", src)
            directions[k] = v
        else:
            raise ConfigError(key, f"unknown measure{did_you_mean(k, CLAIM_MEASURES)}; "
                              f"allowed: {', '.join(CLAIM_MEASURES)}, under, worlds, assumptions",
                              src)
    if not directions:
        raise ConfigError(CLAIM_KEY, "names no measure; allowed: "
                          f"{', '.join(CLAIM_MEASURES)}", src)
    return Claims(directions, under, worlds, mode)


def scenario_claims(scenario: str, config_dir: Path | None = None) -> Claims | None:
    """The claim a scenario file states (its ``expect:`` block), or None if it states none.

    Raises:
        ConfigError: Unknown scenario, or a file or block that breaks a rule.
    """
    config_dir = Path(config_dir) if config_dir is not None else CONFIG_DIR
    path = _option_path([config_dir], "scenario", scenario, None,
                        lambda p: _rel(p, config_dir))
    data, _ = _checked_file(path, "scenario", _rel(path, config_dir))
    if CLAIM_KEY not in data:
        return None
    return parse_claims(data[CLAIM_KEY], _rel(path, config_dir))


#: What an option name may look like (a file name in its group's folder, never a path).
_OPTION = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def did_you_mean(word: Any, allowed: Sequence[Any]) -> str:
    """`` (did you mean 'x'?)`` for the allowed name nearest ``word``, else ``""``.

    The one suggestion used for command-line overrides, library overrides, keys inside
    configuration files and scenario or group option names.
    """
    guess = difflib.get_close_matches(str(word), [str(a) for a in allowed], n=1)
    return f" (did you mean {guess[0]!r}?)" if guess else ""


def file_defaults(data: dict, kind: str, src: str) -> list[tuple[str, str]]:
    """The entries of a scenario's or group file's ``defaults`` list, checked.

    A scenario may choose other options of the model's groups, as
    lightning-hydra-template's experiment files do
    (``defaults: [{override /actors: with_turkey}]``); a group file may extend other
    options of its own group (``defaults: [default]``; its own keys come after them, so
    ``_self_``, if written, is the last entry). Nothing else: no other group, no
    package, no Hydra group.

    Args:
        data: The file's mapping.
        kind: ``"scenario"``, ``"group"`` or ``"global"`` (a global group file: none).
        src: The file's name in messages.

    Returns:
        ``(group, option)`` pairs: for a scenario the group it overrides, for a group
        file ``""`` (its own group) and the option it extends.

    Raises:
        ConfigError: A malformed or forbidden entry, naming the file.
    """
    entries = data.get("defaults")
    if kind == "global":
        raise ConfigError("defaults", "a '# @package _global_' group file may not hold a "
                          "defaults list", src)
    if not isinstance(entries, list):
        raise ConfigError("defaults", "must be a list, e.g. defaults: [{override "
                          "/actors: with_turkey}]", src)
    out = []
    for i, entry in enumerate(entries):
        if entry == "_self_":
            if kind != "scenario" and i != len(entries) - 1:
                raise ConfigError("defaults", "'_self_' may only be the last entry (a "
                                  "group file's own keys come after what it extends)", src)
            continue
        if kind == "scenario":
            if not (isinstance(entry, dict) and len(entry) == 1):
                raise ConfigError("defaults", f"unexpected entry {_shown(entry)}; a "
                                  "scenario may only choose options of the model's groups, "
                                  "e.g. {override /actors: with_turkey}", src)
            ((head, choice),) = entry.items()
            group = str(head).removeprefix("override").strip().removeprefix("/")
            if not str(head).startswith("override ") or group not in MODEL_SECTIONS:
                raise ConfigError("defaults", f"unexpected entry {_shown(entry)}; allowed: "
                                  "{override /<group>: <option>} with a group of "
                                  f"{', '.join(MODEL_SECTIONS)}", src)
        else:
            group, choice = "", entry
        if not isinstance(choice, str) or not _OPTION.fullmatch(choice):
            raise ConfigError("defaults", f"{_shown(choice)} is not an option name", src)
        out.append((group, choice))
    return out


def _shown(x: Any) -> str:
    """A value as messages show it: quoted, control characters escaped (never raw)."""
    return repr(x if isinstance(x, str) else str(x))


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


def merged(*overrides: dict) -> dict:
    """Nested override mappings merged left to right (a later leaf wins).

    A mapping with a ``dist`` key is a distribution, replaced whole rather than merged.
    """
    out: dict = {}

    def put(dst: dict, src: dict) -> None:
        for k, v in src.items():
            if isinstance(v, dict) and "dist" not in v and isinstance(dst.get(k), dict):
                put(dst[k], v)
            else:
                dst[k] = copy.deepcopy(v)
    for o in overrides:
        put(out, o)
    return out


def deep_merge(base: dict, over: dict, src: str, prov: dict, prefix: str = "") -> dict:
    """Merge ``over`` into a copy of ``base``; mappings merge, everything else replaces.

    A mapping with a ``dist`` key replaces whatever was there (a distribution written
    in a later layer replaces an earlier one whole). ``prov`` maps dotted keys to the
    file that set them and is updated in place.
    """
    out = dict(base)
    for k, v in over.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, dict) and isinstance(out.get(k), dict) and "dist" not in v:
            out[k] = deep_merge(out[k], v, src, prov, key)
        else:
            out[k] = _copy(v)
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


def options(group: str, config_dir: Path | None = None,
            search: Sequence[Path] = ()) -> list[str]:
    """The options of a configuration group: its files, in every folder Hydra searches.

    Args:
        group: The group (``"scenario"``, ``"actors"`` ...).
        config_dir: The configuration folder (default :data:`CONFIG_DIR`).
        search: Search-path folders (``--config-dir``, ``hydra.searchpath``), after it.
    """
    names: set[str] = set()
    for folder in (config_dir or CONFIG_DIR, *search):
        gdir = Path(folder) / group
        if gdir.is_dir():
            names.update(p.stem for p in gdir.glob("*.yaml"))
    return sorted(names)


def scenarios(config_dir: Path | None = None, search: Sequence[Path] = ()) -> list[str]:
    """Names of the scenarios: ``configs/scenario/`` and any search-path folders'."""
    return options("scenario", config_dir, search)


def _option_path(folders: Sequence[Path], group: str, choice: Any, where: str | None,
                 name: Any) -> Path:
    """The file of a group option: the first folder that has it, as Hydra looks.

    Raises:
        ConfigError: No folder has it (or it is not a name, e.g. ``../x``); with the
            nearest name and the options available.
    """
    if isinstance(choice, str) and _OPTION.fullmatch(choice):
        for folder in folders:
            path = Path(folder) / group / f"{choice}.yaml"
            if path.exists():
                return path
    known = options(group, folders[0], folders[1:])
    what = "scenario" if group == "scenario" else f"{group} option"
    raise ConfigError(group, f"unknown {what} {_shown(choice)}"
                      f"{did_you_mean(choice, known)}; available: "
                      f"{', '.join(known) or 'none'}", where or name(Path(folders[0]) / group))


def _group_layers(folders: Sequence[Path], group: str, choice: str, name: Any,
                  where: str | None = None, chain: tuple[str, ...] = ()
                  ) -> list[tuple[str, dict, bool]]:
    """A group option's layers ``(source, data, is_global)``: what it extends, then itself."""
    path = _option_path(folders, group, choice, where, name)
    src = name(path)
    data, is_global = _checked_file(path, "group", src)
    out = []
    if "defaults" in data:
        for _, option in file_defaults(data, "global" if is_global else "group", src):
            if option in (*chain, choice):
                raise ConfigError("defaults", f"{group}/{option} extends itself (through "
                                  f"{' -> '.join((*chain, choice, option))})", src)
            out += _group_layers(folders, group, option, name, src, (*chain, choice))
        del data["defaults"]
    out.append((src, data, is_global))
    return out


# ----------------------------------------------------------------------- composition

#: Source name of the library's overrides (:func:`load_params`).
OVERRIDES = "overrides"
#: Source name of overrides given on the command line.
COMMAND_LINE = "command line"
#: Where each run setting belongs when a library caller passes it as an override.
RUN_SETTING_HOMES = {
    "worlds": "pass worlds= to simulate()",
    "seed": "pass seed= to simulate()",
    "horizon_weeks": "pass horizon_weeks= to simulate()",
    "trace": "pass trace=True to simulate()",
    "scenario": "name the scenario as load_params's first argument",
}


@dataclass
class Composition:
    """A composed configuration, which file set each key, and the layers in order.

    Attributes:
        config: The merged plain mapping (run keys and model sections; interpolations
            such as ``${sim_root:}`` are left as written).
        prov: Dotted key -> the file (or ``"command line"``/``"overrides"``) that set it.
        order: The sources, earliest layer first.
        groups: Group -> chosen option (``scenario`` included).
    """

    config: dict
    prov: dict
    order: list[str]
    groups: dict

    def rank(self, src: str | None) -> int:
        """Position of a source in the layer order (-1 if unknown)."""
        return self.order.index(src) if src in self.order else -1

    def model(self) -> dict:
        """The model's sections (:data:`~sim.model.params.MODEL_SECTIONS`) of :attr:`config`."""
        return {k: self.config[k] for k in MODEL_SECTIONS if k in self.config}


def root_defaults(root: dict, root_src: str) -> list[tuple[str, str]]:
    """The ``(group, option)`` entries of a root configuration's defaults list.

    Raises:
        ConfigError: An entry other than ``_self_`` or ``group: option``.
    """
    entries = []
    for entry in root.get("defaults", []):
        if isinstance(entry, dict) and len(entry) == 1:
            ((group, choice),) = entry.items()
            entries.append((str(group), str(choice)))
        elif entry != "_self_":
            raise ConfigError("defaults", f"unexpected entry {entry!r}", root_src)
    return entries


def config_groups(config_dir: Path | None = None, name: Any = None) -> dict:
    """Group -> default option of a configuration folder's ``config.yaml``."""
    config_dir = Path(config_dir) if config_dir is not None else CONFIG_DIR
    name = name or (lambda p: _rel(p, config_dir))
    root_path = config_dir / "config.yaml"
    return dict(root_defaults(check_config_file(root_path, "root", name(root_path)),
                              name(root_path)))


def compose_layers(config_dir: Path | None = None, choices: Mapping[str, str] | None = None,
                   overrides: Sequence[tuple[str, Any]] = (), *, source: str = OVERRIDES,
                   check: Sequence[str] = (), library: bool = True,
                   name: Any = None, search: Sequence[Path] = ()) -> Composition:
    """Compose a configuration folder in Hydra's order and record provenance.

    The one composition: the library (:func:`load_params`) and the command line
    (:func:`sim.cli.compose.layers`) both run what it returns. Layers: the root
    ``config.yaml`` (``_self_`` first), one file per group of its defaults list
    (``hydra`` excepted; a file starting ``# @package _global_`` is placed at the top
    level; a group file's own defaults list puts the options it extends first), the
    scenario, then the overrides. A scenario's defaults list
    (``{override /actors: with_turkey}``) chooses group options before the groups are
    composed; a choice in ``choices`` (the command line's) wins over it, as in Hydra.
    Every file is checked (:func:`check_config_file`) and parsed once per content per
    process.

    Args:
        config_dir: Configuration folder (default :data:`CONFIG_DIR`).
        choices: Group -> option, over the defaults list (``{"scenario": "baseline"}``).
        overrides: ``(dotted key, value)`` pairs applied last, in order, as
            :func:`deep_merge` merges (a mapping with ``dist`` replaces whole); the
            value :data:`DELETE` removes the key (``~key``).
        source: Name of the overrides' layer in provenance and messages.
        check: Dotted keys of the overrides to check against the composed files
            (:func:`check_override_key`) before they are merged.
        library: The library's rules for ``check`` (run settings refused, new names
            allowed where the schema takes any) instead of the command line's.
        name: How files are named in messages (default ``configs/<group>/<file>``).
        search: Further folders searched for group options after ``config_dir``
            (``--config-dir``, ``hydra.searchpath``), as Hydra searches them.

    Raises:
        ConfigError: Unknown group option or scenario, a file that breaks a rule, or an
            override key the configuration does not have.
    """
    config_dir = Path(config_dir) if config_dir is not None else CONFIG_DIR
    folders = [config_dir, *(Path(f) for f in search)]
    name = name or (lambda p: _rel(p, config_dir))
    root_path = config_dir / "config.yaml"
    root_src = name(root_path)
    root = check_config_file(root_path, "root", root_src)
    groups = dict(root_defaults(root, root_src))
    given = dict(choices or {})
    groups.update(given)
    scenario_layer: tuple[str, dict] | None = None
    chosen_in: dict[str, str] = {}  # group -> the scenario file that chose its option
    if "scenario" in groups:
        path = _option_path(folders, "scenario", groups["scenario"], None, name)
        src = name(path)
        data, _ = _checked_file(path, "scenario", src)
        for group, choice in file_defaults(data, "scenario", src) if "defaults" in data \
                else ():
            if group not in groups:
                raise ConfigError("defaults", f"override /{group}: {root_src} has no "
                                  f"{group} group", src)
            if group not in given:
                groups[group] = choice
                chosen_in[group] = src
        data.pop("defaults", None)
        data.pop(CLAIM_KEY, None)  # the claim is for the tests, not the model
        scenario_layer = (src, data)
    prov: dict = {}
    order = [root_src]
    cfg = deep_merge({}, {k: v for k, v in root.items() if k != "defaults"}, root_src, prov)
    for group, choice in groups.items():
        if group == "hydra" or group.startswith("hydra/"):
            continue
        if group == "scenario" and scenario_layer is not None:
            layers = [(scenario_layer[0], scenario_layer[1], True)]
        else:
            layers = _group_layers(folders, group, choice, name, chosen_in.get(group))
        for src, data, is_global in layers:
            cfg = deep_merge(cfg, data if is_global else {group: data}, src, prov)
            order.append(src)
    for key in check:
        check_override_key(cfg, key, source, library=library)
    for key, value in overrides:
        if value is DELETE:
            cfg = _deleted(cfg, key)
            for k in [k for k in prov if k.startswith(f"{key}.")]:
                del prov[k]
            prov[key] = source  # a missing key then names who removed it
        else:
            cfg = deep_merge(cfg, _nest(key, value), source, prov)
    order.append(source)
    return Composition(cfg, prov, order, groups)


class _Delete:
    """The type of :data:`DELETE`."""

    def __repr__(self) -> str:
        return "DELETE"

    def __deepcopy__(self, memo: dict) -> _Delete:
        return self


#: An override value that removes its key (the command line's ``~key``).
DELETE = _Delete()


def _deleted(cfg: dict, key: str) -> dict:
    """A copy of ``cfg`` without the dotted ``key`` (nothing if it is not there)."""
    head, _, rest = key.partition(".")
    if head not in cfg:
        return cfg
    out = dict(cfg)
    if not rest:
        del out[head]
    elif isinstance(out[head], dict):
        out[head] = _deleted(out[head], rest)
    return out


def _nest(key: str, value: Any) -> dict:
    out: Any = value
    for part in reversed(key.split(".")):
        out = {part: out}
    return out


def check_override_key(base: dict, key: str, source: str, *, library: bool) -> None:
    """Refuse an override of a key the composed configuration does not have.

    One check, one wording for the command line and the library: a misspelt section or
    key is refused naming the key as written, with the keys allowed where it went wrong
    (and the nearest one). The command line (Hydra) adds a key only with ``+key=...``;
    the library adds one where the schema takes new names (a new event, actor,
    faction ...) or an optional key the files leave out (:func:`sim.model.params.schema_keys`),
    and refuses run settings, which are not model parameters.

    Args:
        base: The configuration composed from the files, before any override.
        key: Dotted key as written.
        source: ``"command line"`` or ``"overrides"``.
        library: Apply the library's rules.

    Raises:
        ConfigError: Naming ``source``, ``key`` and what is allowed.
    """
    parts = key.split(".")
    if library and parts[0] in base and parts[0] not in MODEL_SECTIONS:
        home = RUN_SETTING_HOMES.get(parts[0], f"sim-run takes it on its command line "
                                     f"({key}=...); load_params does not")
        raise ConfigError(key, f"a run setting, not a model parameter: {home}", source)
    node: Any = base
    for i, part in enumerate(parts):
        if not isinstance(node, dict):
            return  # a value replaced by a mapping: parse_params says what is allowed
        if part not in node:
            if library and i > 0:
                allowed = schema_keys(parts[:i], base)
                if allowed is None or part in allowed:
                    return  # a new name or an optional key: parse_params checks it
            here = [str(k) for k in node]
            hint = did_you_mean(part, here)
            listed = ", ".join(here) or "none"
            if i == len(parts) - 1:
                problem = f"unknown key{hint}; allowed here: {listed}"
            else:
                where = "at the top level" if i == 0 else f"in {'.'.join(parts[:i])}"
                problem = f"unknown key {part!r}{hint}; allowed {where}: {listed}"
            raise ConfigError(key, problem, source)
        node = node[part]


def override_pairs(overrides: Any, source: str = OVERRIDES) -> list[tuple[str, Any]]:
    """The library's overrides as ``(dotted key, value)`` pairs, in order.

    Accepts a mapping whose keys may be dotted (``{"incidents.base_rate": 0.4}``) and
    whose values may be nested mappings (``{"incidents": {"base_rate": 0.4}}``), or a
    list of ``"key=value"`` strings with YAML values (``"incidents.base_rate=0.4"``,
    ``"incidents.base_rate={dist: normal, mean: 0.4, sd: 0.1}"``).

    Raises:
        ConfigError: A key that is not a dotted name, or a value that is not YAML.
    """
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        items = list(overrides.items())
    elif isinstance(overrides, str | bytes) or not isinstance(overrides, Sequence):
        raise ConfigError("overrides", "must be a mapping ({'incidents.base_rate': 0.4}) "
                          f"or a list of 'key=value' strings, got {type(overrides).__name__}",
                          source)
    else:
        items = [_split_override(text, source) for text in overrides]
    out = []
    for key, value in items:
        if not isinstance(key, str) or not all(p.strip() for p in key.split(".")):
            raise ConfigError(str(key), "override keys must be dotted names, e.g. "
                              "incidents.base_rate", source)
        out.append((key, value))
    return out


def _split_override(text: Any, source: str) -> tuple[str, Any]:
    if not isinstance(text, str) or "=" not in text:
        raise ConfigError(str(text), "an override must read key=value, e.g. "
                          "incidents.base_rate=0.4", source)
    key, _, raw = text.partition("=")
    key = key.strip()
    if key.startswith("~"):
        raise ConfigError(key.lstrip("~"), "keys cannot be deleted here; set an event to "
                          "null to cancel it", source)
    key = key.lstrip("+")
    if not raw.strip():
        return key, ""
    try:
        return key, _parse(raw)
    except (yaml.YAMLError, RecursionError) as e:
        problem = str(getattr(e, "problem", None) or e).splitlines()[0]
        raise ConfigError(key, f"cannot parse {raw!r}: {problem}", source) from None


def leaf_keys(key: str, value: Any) -> list[str]:
    """Dotted keys an override sets: into mappings, not into a distribution.

    ``leaf_keys("state", {"trust": 0.2, "tension": 0.3})`` is ``["state.trust",
    "state.tension"]``: each is checked (:func:`check_override_key`) as if written alone.
    """
    if isinstance(value, dict) and value and "dist" not in value:
        return [k for sub, v in value.items() for k in leaf_keys(f"{key}.{sub}", v)]
    return [key]


def compose(scenario: str = "baseline", config_dir: Path | None = None,
            overrides: Any = None) -> tuple[dict, dict]:
    """Compose the model configuration: group defaults, then the scenario, then overrides.

    Args:
        scenario: Name of a file in ``configs/scenario/``.
        config_dir: Configuration folder (defaults to the repository's ``configs/``).
        overrides: Applied last (source ``"overrides"``): a mapping with dotted or
            nested keys, or a list of ``"key=value"`` strings (:func:`override_pairs`).
            Checked as the command line checks its overrides
            (:func:`check_override_key`): an unknown or misspelt key or section, or a run
            setting such as ``worlds``, is a :class:`~sim.errors.ConfigError`.

    Returns:
        ``(config, provenance)``: the merged model sections and, for each dotted key,
        the file that set it.
    """
    comp = compose_model(scenario, config_dir, overrides)
    return comp.model(), comp.prov


def compose_model(scenario: str = "baseline", config_dir: Path | None = None,
                  overrides: Any = None) -> Composition:
    """:func:`compose` as a :class:`Composition` (the run keys included)."""
    if not isinstance(scenario, str) or not scenario:
        raise ConfigError("scenario", f"must be a scenario name, got {scenario!r}")
    pairs = override_pairs(overrides)
    check = [k for key, value in pairs for k in leaf_keys(key, value)]
    return compose_layers(config_dir, {"scenario": scenario}, pairs, check=check)


def params_from_config(cfg: dict, prov: dict | None = None,
                       config_dir: Path | None = None) -> ModelParams:
    """Validate a composed mapping, naming the file of the first bad key on error.

    A misspelt key gets the nearest allowed one (:func:`did_you_mean`), and a new name
    that breaks the schema (an actor ``rusia`` without a role) the existing name
    nearest it, wherever the key was written: a file, the command line or overrides.
    Then the declarations (``<config_dir>/priors.yaml``, :mod:`sim.experiment.priors`):
    every numeric leaf declared, every default of an assumption inside its prior.

    Raises:
        ConfigError: The first bad key.
    """
    from sim.experiment.priors import check_declarations, load_declarations

    try:
        params = parse_params(cfg)
    except ConfigError as e:
        err = _with_hint(e, cfg)
        if prov is not None and err.source is None:
            err = err.with_source(source_of(err.key, prov))
        raise err from None
    check_declarations(params, load_declarations(config_dir), prov)
    return params


def _with_hint(e: ConfigError, cfg: dict) -> ConfigError:
    """``e`` with a "did you mean" for a misspelt key or new name, if one is near."""
    if "did you mean" in e.problem:
        return e
    parts = e.key.split(".")
    if e.problem.startswith("unknown key"):
        allowed = schema_keys(parts[:-1], cfg)
        hint = did_you_mean(parts[-1], allowed or ())
        if hint:
            return ConfigError(e.key, e.problem.replace("unknown key", "unknown key" + hint,
                                                        1), e.source)
        return e
    node: Any = cfg
    for i, part in enumerate(parts[:-1]):
        if not isinstance(node, dict) or part not in node:
            break
        if i > 0 and schema_keys(parts[:i], cfg) is None:  # a name the user chooses
            hint = did_you_mean(part, [k for k in node if k != part])
            if hint:
                return ConfigError(e.key, f"{e.problem}; {part!r} is a new name here"
                                   f"{hint}", e.source)
        node = node[part]
    return e


def load_params(scenario: str = "baseline", config_dir: Path | None = None,
                overrides: Any = None, assumptions: str | None = None,
                posterior_file: str | None = None) -> ModelParams:
    """Compose and validate a scenario's parameters (see :func:`compose`).

    >>> p = load_params("baseline", overrides={"incidents.base_rate": 0.4})
    >>> p.incidents.base_rate
    0.4

    Args:
        scenario: Name of a file in ``configs/scenario/``.
        config_dir: Configuration folder (defaults to the repository's ``configs/``).
        overrides: Applied last, as :func:`compose` applies them.
        assumptions: ``point``, ``prior`` or ``posterior``
            (:mod:`sim.experiment.assumptions`); None: the scenario's (its file's,
            else ``config.yaml``'s, ``posterior``).
        posterior_file: The posterior sample file of ``posterior``; None:
            ``config.yaml``'s (a relative path is inside the configuration folder).

    Raises:
        ConfigError: The first mistake, in the command line's words: an unknown scenario
            or key, a run setting passed as an override, a value of the wrong type or
            out of range, an unknown ``assumptions`` mode; naming the file (or
            ``overrides``) and the key.
    """
    from sim.experiment.assumptions import (
        check_mode,
        composed_mode,
        posterior_path,
        with_assumptions,
    )

    comp = compose_model(scenario, config_dir, overrides)
    mode = (check_mode(assumptions) if assumptions is not None
            else composed_mode(comp.config, comp.prov))
    post = posterior_file if posterior_file is not None else comp.config.get("posterior_file")
    cfg, prov = with_assumptions(mode, comp.model(), comp.prov,
                                 posterior_path(post, config_dir) if mode == "posterior"
                                 else None, config_dir, post)
    return params_from_config(cfg, prov, config_dir)
