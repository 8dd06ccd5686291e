"""What every numeric model parameter is: sourced, calibrated or an assumption with a prior.

The one list is ``configs/priors.yaml`` (:data:`PRIORS_FILE` in the configuration
folder): a mapping from a dotted key, or a pattern of keys, to a *declaration*::

    incidents.branching_ratio: {kind: sourced, source: "DOMAIN.md Border incidents: ..."}
    incidents.escalation.coercion_rate: {kind: calibrated, source: "DOMAIN.md Base rates: ..."}
    actors.armenia.patience: {kind: assumption, prior: {dist: uniform, low: 0.15, high: 0.45}}

Kinds (:data:`KINDS`): ``sourced`` and ``calibrated`` need a ``source`` (where the value
comes from, or what it was set to reproduce); ``assumption`` needs a ``prior``, a
bounded distribution (:data:`PRIOR_DISTS`) inside the key's allowed range. Any entry may
carry a ``note``. In a pattern ``*`` stands for one name, ``actors.<role>`` for any actor
of that role and ``actors.<name>`` for any actor; the entry with the most literal parts
wins.

Who reads it:

* the schema (:func:`check_declarations`, called by
  :func:`sim.experiment.config.params_from_config`, so by ``load_params``, ``sim-run``,
  ``sim-explore``, ``sim-sweep`` ...): every numeric leaf the model draws per world must
  be declared, and a value the *defaults* (``configs/<group>/*.yaml``) give an
  assumption must lie inside its prior. A scenario, the command line or a library
  override may set any allowed value: that is a stated what-if, not a default;
* ``sim-explore`` and ``sim-calibrate``, whose default inputs are every assumption:
  :func:`prior_overrides` turns each assumption the defaults fix at a point into its
  prior (keys a scenario or the user set stay as set);
* ``tests/test_docs.py``, which checks docs/model.md's tables against the list, and
  ``experiments/priors/screen.py``, the one-at-a-time screen of the priors.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.errors import ConfigError
from sim.model.dists import Dist, parse_dist

#: The declarations' file, in the configuration folder.
PRIORS_FILE = "priors.yaml"
#: What a parameter can be.
KINDS = ("sourced", "calibrated", "assumption")
#: Keys an entry may have.
ENTRY_KEYS = ("kind", "source", "prior", "note")
#: Distributions a prior may be (bounded, with a density: ABC-SMC needs one).
PRIOR_DISTS = ("uniform", "loguniform", "beta", "triangular")
#: Schema kinds whose entries are numeric leaves keyed by a name.
LEAF_MAPS = ("issue_map", "name_map", "actor_map")


@dataclass(frozen=True)
class Declaration:
    """One entry of the list.

    Attributes:
        pattern: The entry's key as written (a dotted key or a pattern).
        kind: ``sourced``, ``calibrated`` or ``assumption``.
        source: Where the value comes from (sourced, calibrated); may be empty otherwise.
        prior: An assumption's prior (bounds checked against the key when matched).
        prior_spec: The prior as written (a mapping usable as a YAML value).
        note: Why (optional).
    """

    pattern: str
    kind: str
    source: str = ""
    prior: Dist | None = None
    prior_spec: dict | None = None
    note: str = ""


@dataclass(frozen=True)
class Leaf:
    """One numeric leaf of a parsed configuration.

    Attributes:
        key: Dotted key (``actors.armenia.patience``).
        value: A number or a :class:`~sim.model.dists.Dist`.
        lo: Lowest value the schema allows.
        hi: Highest value the schema allows.
        role: The actor's role for keys under ``actors.<name>``, else ``""``.
    """

    key: str
    value: float | Dist
    lo: float
    hi: float
    role: str = ""


class Declarations:
    """The parsed list, with the lookup of a key's declaration.

    Args:
        entries: Pattern -> declaration, in the file's order.
        source: The file, for error messages.
    """

    def __init__(self, entries: Mapping[str, Declaration], source: str):
        self.entries = dict(entries)
        self.source = source
        #: patterns by their number of parts (a key matches only its own length)
        self._split: dict[int, list[tuple[list[str], Declaration]]] = {}
        for p, d in self.entries.items():
            pat = p.split(".")
            self._split.setdefault(len(pat), []).append((pat, d))
        self._found: dict[tuple[str, str], Declaration | None] = {}

    def __len__(self) -> int:
        return len(self.entries)

    def lookup(self, key: str, role: str = "") -> Declaration | None:
        """The most specific declaration matching ``key`` (an actor's key needs its role)."""
        if (key, role) in self._found:   # a composition asks for each key several times
            return self._found[key, role]
        parts = key.split(".")
        best: tuple[int, int] | None = None
        found = None
        for pat, d in self._split.get(len(parts), ()):
            if not _matches(pat, parts, role):
                continue
            # literal parts first, then a role over any actor, then the earlier entry
            rank = (sum(p == k for p, k in zip(pat, parts, strict=True)),
                    int(bool(role) and f"<{role}>" in pat))
            if best is None or rank > best:
                best, found = rank, d
        self._found[key, role] = found
        return found


def _matches(pat: list[str], parts: list[str], role: str) -> bool:
    for j, (p, k) in enumerate(zip(pat, parts, strict=True)):
        if p == k or p == "*":
            continue
        if j == 1 and parts[0] == "actors" and (p == "<name>" or (role and p == f"<{role}>")):
            continue
        return False
    return True


def _text(v: Any, key: str, what: str, src: str) -> str:
    if not isinstance(v, str) or not v.strip():
        raise ConfigError(key, f"{what} must be a non-empty text", src)
    return v.strip()


def parse_declarations(data: Any, source: str = f"configs/{PRIORS_FILE}") -> Declarations:
    """Check the list's mapping (see the module doc) and return it.

    Raises:
        ConfigError: An entry that is not a mapping, an unknown key or kind, a sourced or
            calibrated entry without ``source``, an assumption without ``prior`` or with
            a prior that is not one of :data:`PRIOR_DISTS` (one line naming the entry).
    """
    if not isinstance(data, Mapping) or not data:
        raise ConfigError("priors", "must map dotted parameter keys to "
                          "{kind: sourced|calibrated|assumption, ...}", source)
    out: dict[str, Declaration] = {}
    for pattern, entry in data.items():
        key = str(pattern)
        if not isinstance(pattern, str) or not all(pattern.split(".")):
            raise ConfigError(key, "must be a dotted parameter key or pattern", source)
        if not isinstance(entry, Mapping):
            raise ConfigError(key, "must be a mapping {kind: ..., source: ... | prior: ...}",
                              source)
        extra = [k for k in entry if k not in ENTRY_KEYS]
        if extra:
            raise ConfigError(f"{key}.{extra[0]}", f"unknown key; allowed: "
                              f"{', '.join(ENTRY_KEYS)}", source)
        kind = entry.get("kind")
        if kind not in KINDS:
            raise ConfigError(f"{key}.kind", f"must be one of {', '.join(KINDS)}, got "
                              f"{kind!r}", source)
        note = _text(entry["note"], f"{key}.note", "a note", source) if "note" in entry else ""
        if kind == "assumption":
            spec = entry.get("prior")
            if spec is None:
                raise ConfigError(f"{key}.prior", "missing: an assumption needs a prior "
                                  "{dist: uniform|loguniform|beta|triangular, ...}", source)
            if not isinstance(spec, Mapping) or spec.get("dist") not in PRIOR_DISTS:
                got = spec.get("dist") if isinstance(spec, Mapping) else spec
                raise ConfigError(f"{key}.prior", f"must be a bounded distribution: "
                                  f"{{dist: {'|'.join(PRIOR_DISTS)}, ...}}, got {got!r}",
                                  source)
            try:
                prior = parse_dist(dict(spec), f"{key}.prior", -math.inf, math.inf)
            except ConfigError as e:
                raise e.with_source(source) from None
            src_txt = (_text(entry["source"], f"{key}.source", "a source", source)
                       if "source" in entry else "")
            out[key] = Declaration(key, kind, src_txt, prior, dict(spec), note)
        else:
            if "prior" in entry:
                raise ConfigError(f"{key}.prior", f"only an assumption has a prior; a "
                                  f"{kind} parameter has a source", source)
            if "source" not in entry:
                raise ConfigError(f"{key}.source", f"missing: a {kind} parameter names its "
                                  "source (a DOMAIN.md section and claim, or what it "
                                  "reproduces)", source)
            out[key] = Declaration(key, kind, _text(entry["source"], f"{key}.source",
                                                    "a source", source), note=note)
    return Declarations(out, source)


_CACHE: dict[tuple[str, bytes], Declarations] = {}


def load_declarations(config_dir: Path | None = None) -> Declarations:
    """Read and check ``<config_dir>/priors.yaml`` (safe YAML; cached by content).

    Raises:
        ConfigError: A missing or bad file (one line naming it and the entry).
    """
    import hashlib

    from sim.experiment.config import CONFIG_DIR, _rel, safe_load_yaml
    from sim.safeio import read_regular_bytes

    folder = Path(config_dir) if config_dir is not None else CONFIG_DIR
    path = folder / PRIORS_FILE
    src = _rel(path, folder)
    try:
        raw = read_regular_bytes(path, 10_000_000)
    except FileNotFoundError:
        raise ConfigError("priors", f"missing: {src} declares every numeric parameter "
                          "(sourced, calibrated or assumption with a prior)", src) from None
    except OSError as e:
        raise ConfigError("priors", f"cannot be read ({e})", src) from None
    digest = hashlib.sha256(raw).digest()
    hit = _CACHE.get((str(path), digest))
    if hit is not None:
        return hit
    data = safe_load_yaml(path, src, raw.decode("utf-8", errors="replace"))
    decl = parse_declarations(data, src)
    _CACHE[(str(path), digest)] = decl
    return decl


def leaves(spec: Any) -> list[Leaf]:
    """Every numeric leaf the model draws per world, in the model's walking order.

    The same walk as :func:`sim.model.state.draw_parameters` (numbers that may be
    distributions, and the per-issue, per-name and per-actor maps of them).
    """
    out: list[Leaf] = []

    def walk(obj: Any, prefix: str, role: str) -> None:
        if isinstance(obj, dict):
            for k, v in obj.items():
                walk(v, f"{prefix}.{k}", getattr(v, "role", role) if prefix == "actors"
                     else role)
            return
        if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
            return
        for f in dataclasses.fields(obj):
            if f.name in ("issues", "issue_labels"):
                continue
            v = getattr(obj, f.name)
            key = f"{prefix}.{f.name}" if prefix else f.name
            md = f.metadata
            kind = md.get("kind")
            if kind == "num" and md.get("dist", True):
                out.append(Leaf(key, v, md["lo"], md["hi"], role))
            elif kind in LEAF_MAPS:
                out.extend(Leaf(f"{key}.{k}", x, md["lo"], md["hi"], role)
                           for k, x in v.items())
            else:
                walk(v, key, role)

    walk(spec, "", "")
    return out


def _support(v: float | Dist) -> tuple[float, float]:
    return (v.support() if isinstance(v, Dist) else (float(v), float(v)))


def from_defaults(source: str | None) -> bool:
    """True when a value was set by a model group's option file (``configs/<section>/``).

    ``source`` is a file as provenance names it (``configs/actors/default.yaml``, or an
    absolute path for another configuration folder); the command line, overrides and
    scenario files are not defaults.
    """
    from sim.model.params import MODEL_SECTIONS

    parts = str(source or "").replace("\\", "/").split("/")
    return len(parts) >= 2 and parts[-1].endswith(".yaml") and parts[-2] in MODEL_SECTIONS


def leaf_source(key: str, prov: Mapping[str, str] | None) -> str | None:
    """The file that set a leaf (a distribution's own arguments count as the leaf)."""
    if prov is None:
        return None
    from sim.experiment.config import source_of

    for k in (key, f"{key}.dist"):
        if k in prov:
            return prov[k]
    return source_of(key, dict(prov))


def set_by_defaults(key: str, prov: Mapping[str, str] | None) -> bool:
    """True when a leaf and every part of it (a distribution's arguments) are defaults.

    An argument merged in by a scenario or the command line makes the leaf a what-if.
    """
    if prov is None:
        return True
    parts: list[str | None] = [s for k, s in prov.items()
                               if k == key or k.startswith(f"{key}.")]
    return all(from_defaults(s) for s in parts or [leaf_source(key, prov)])


def check_declarations(spec: Any, decl: Declarations,
                       prov: Mapping[str, str] | None = None) -> None:
    """Every numeric leaf is declared; the defaults' assumptions lie inside their priors.

    Args:
        spec: Parsed parameters (:func:`sim.model.params.parse_params`).
        decl: The list (:func:`load_declarations`).
        prov: Dotted key -> the file (or ``command line``, ``overrides``) that set it;
            the prior check applies to values set by a group's defaults only (with no
            provenance, to every value).

    Raises:
        ConfigError: The first undeclared key (naming the list), an assumption's prior
            outside the key's allowed range, or a default outside its prior (naming
            the file that set it).
    """
    for leaf in leaves(spec):
        d = decl.lookup(leaf.key, leaf.role)
        if d is None:
            raise ConfigError(leaf.key, f"undeclared parameter: declare it in "
                              f"{decl.source} as {{kind: sourced, source: ...}}, "
                              f"{{kind: calibrated, source: ...}} or "
                              f"{{kind: assumption, prior: {{dist: ..., ...}}}}",
                              decl.source)
        if d.kind != "assumption" or d.prior is None:
            continue
        plo, phi = d.prior.support()
        if plo < leaf.lo or phi > leaf.hi:
            raise ConfigError(f"{d.pattern}.prior", f"the prior's support [{plo:g}, "
                              f"{phi:g}] must lie in {leaf.key}'s allowed range "
                              f"[{leaf.lo:g}, {leaf.hi:g}]", decl.source)
        src = leaf_source(leaf.key, prov)
        if not set_by_defaults(leaf.key, prov):
            continue
        vlo, vhi = _support(leaf.value)
        if vlo < plo or vhi > phi:
            shown = (f"{leaf.value.kind} on [{vlo:g}, {vhi:g}]" if isinstance(leaf.value, Dist)
                     else f"{vlo:g}")
            raise ConfigError(leaf.key, f"value {shown} lies outside its prior "
                              f"[{plo:g}, {phi:g}] ({decl.source}: {d.pattern}); allowed: a "
                              "value inside the prior, or widen the prior and say why", src)


def assumptions(spec: Any, decl: Declarations) -> list[tuple[Leaf, Declaration]]:
    """Every leaf of ``spec`` declared an assumption, with its declaration."""
    out = []
    for leaf in leaves(spec):
        d = decl.lookup(leaf.key, leaf.role)
        if d is not None and d.kind == "assumption":
            out.append((leaf, d))
    return out


def prior_overrides(spec: Any, decl: Declarations,
                    prov: Mapping[str, str] | None = None,
                    keep: tuple[str, ...] | list[str] | set[str] = ()) -> dict[str, dict]:
    """Dotted key -> prior mapping for every assumption the defaults fix at a point.

    The inputs ``sim-explore`` and ``sim-calibrate`` add by default: an assumption held
    at a number by a group's defaults is drawn from its prior instead. An assumption
    that already is a distribution keeps it (it lies inside its prior); a key a
    scenario, the command line or an override set keeps its value (a what-if), and so
    does every key in ``keep`` (named by the user).
    """
    out: dict[str, dict] = {}
    for leaf, d in assumptions(spec, decl):
        if isinstance(leaf.value, Dist) or leaf.key in keep or d.prior_spec is None:
            continue
        if not set_by_defaults(leaf.key, prov):
            continue
        out[leaf.key] = dict(d.prior_spec)
    return out


def apply_overrides(cfg: dict, values: Mapping[str, Any]) -> dict:
    """A deep copy of the composed mapping ``cfg`` with each dotted key set to its value."""
    import copy

    out = copy.deepcopy(cfg)
    for key, v in values.items():
        node: Any = out
        parts = key.split(".")
        for p in parts[:-1]:
            node = node[p]
        node[parts[-1]] = copy.deepcopy(v)
    return out


# ------------------------------------------------------------------ docs/model.md's table

#: Markers of the generated table in docs/model.md.
DOC_BEGIN = "<!-- priors:begin (generated by `python -m sim.experiment.priors --write`) -->"
DOC_END = "<!-- priors:end -->"


def describe_prior(d: Dist) -> str:
    """``U(0.15, 0.45)``, ``logU(1e-4, 1e-3)``, ``Beta(2, 5)``, ``Tri(0, 0.2, 1)``."""
    a = dict(d.args)
    if d.kind == "uniform":
        return f"U({a['low']:g}, {a['high']:g})"
    if d.kind == "loguniform":
        return f"logU({a['low']:g}, {a['high']:g})"
    if d.kind == "beta":
        return f"Beta({a['a']:g}, {a['b']:g})"
    if d.kind == "triangular":
        return f"Tri({a['low']:g}, {a['mode']:g}, {a['high']:g})"
    return f"{d.kind}({', '.join(f'{v:g}' for v in a.values())})"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(spec: Any, decl: Declarations) -> str:
    """The table of every numeric leaf of ``spec``: key, default, kind, prior, source/note."""
    lines = ["| key | default | kind | prior | source or note |", "|---|---|---|---|---|"]
    counts = dict.fromkeys(KINDS, 0)
    for leaf in leaves(spec):
        d = decl.lookup(leaf.key, leaf.role)
        if d is None:
            raise ConfigError(leaf.key, "undeclared parameter", decl.source)
        counts[d.kind] += 1
        v = leaf.value
        shown = describe_prior(v) if isinstance(v, Dist) else f"{v:g}"
        prior = describe_prior(d.prior) if d.prior is not None else ""
        note = d.source or d.note
        if d.source and d.note:
            note = f"{d.source}; {d.note}"
        lines.append(f"| `{leaf.key}` | {shown} | {d.kind} | {prior} | {_cell(note)} |")
    head = (f"{sum(counts.values())} numeric parameters of the baseline: "
            + ", ".join(f"{n} {k}" for k, n in counts.items()) + ".")
    return head + "\n\n" + "\n".join(lines)


def doc_block(spec: Any, decl: Declarations) -> str:
    """The generated block of docs/model.md, markers included."""
    return (f"{DOC_BEGIN}\n<details><summary>Every numeric parameter of the baseline, "
            f"declared</summary>\n\n{markdown_table(spec, decl)}\n\n</details>\n{DOC_END}")


def _main(argv: list[str] | None = None) -> int:
    import argparse
    import sys

    from sim.experiment.config import load_params

    ap = argparse.ArgumentParser(prog="python -m sim.experiment.priors",
                                 description="write or check docs/model.md's table of "
                                 "declared parameters (configs/priors.yaml)")
    ap.add_argument("--write", action="store_true", help="rewrite the block in place")
    ap.add_argument("--doc", type=Path,
                    default=Path(__file__).resolve().parents[2] / "docs" / "model.md")
    a = ap.parse_args(argv)
    try:
        # the YAML's own values (the default run draws them from the record's posterior)
        block = doc_block(load_params("baseline", assumptions="point"), load_declarations())
    except ConfigError as e:
        print(f"priors: {e}", file=sys.stderr)
        return 2
    text = a.doc.read_text(encoding="utf-8")
    if DOC_BEGIN not in text or DOC_END not in text:
        print(f"priors: {a.doc}: no generated block ({DOC_BEGIN} ... {DOC_END})",
              file=sys.stderr)
        return 2
    head, rest = text.split(DOC_BEGIN, 1)
    _, tail = rest.split(DOC_END, 1)
    new = head + block + tail
    if new == text:
        print(f"{a.doc}: the table of declared parameters is up to date")
        return 0
    if not a.write:
        print(f"{a.doc}: the table of declared parameters is out of date; run "
              "python -m sim.experiment.priors --write", file=sys.stderr)
        return 1
    a.doc.write_text(new, encoding="utf-8")
    print(f"{a.doc}: table of declared parameters written")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
