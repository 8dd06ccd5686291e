"""docs/model.md documents every parameter key of the schema in sim/model/params.py.

Fast: reads one Markdown file and walks the dataclasses; no model is built.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

import sim.model.params as P

DOC = Path(__file__).resolve().parent.parent / "docs" / "model.md"

#: Top-level sections and their dataclasses (actors are handled per role).
SECTIONS = {
    "incidents": P.IncidentParams,
    "negotiation": P.NegotiationParams,
    "domestic": P.DomesticParams,
    "state": P.StateParams,
}
#: Every dataclass the brief names, walked recursively for field names.
SCHEMA_CLASSES = (
    *P.ROLE_CLASSES.values(),
    P.IncidentParams,
    P.EscalationParams,
    P.NegotiationParams,
    P.SupportParams,
    P.GovernmentParams,
    P.ConstitutionParams,
    P.ParliamentParams,
    P.FactionParams,
    P.ReferendumParams,
    P.RatificationParams,
    P.StateParams,
    P.MonitorParams,
)


def _nested_class(f: dataclasses.Field) -> type | None:
    """The dataclass a nested field holds (``MonitorParams | None`` -> MonitorParams)."""
    if f.metadata.get("kind") != "nested":
        return None
    cls = P.nested_type(f)  # the parser's own resolver
    assert dataclasses.is_dataclass(cls), f"cannot resolve nested type {f.type!r}"
    return cls


def _walk(cls: type, prefix: str = ""):
    """Yield ``(dotted_key, field_name)`` for every field, recursing into nested ones."""
    for f in dataclasses.fields(cls):
        key = f"{prefix}.{f.name}" if prefix else f.name
        yield key, f.name
        sub = _nested_class(f)
        if sub is not None:
            yield from _walk(sub, key)


@pytest.fixture(scope="module")
def doc() -> str:
    assert DOC.is_file(), f"{DOC} is missing"
    return DOC.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def code_spans(doc: str) -> set[str]:
    """Contents of every inline code span of the document."""
    return {m.group(1).strip() for m in re.finditer(r"`([^`\n]+)`", doc)}


@pytest.fixture(scope="module")
def tokens(code_spans: set[str]) -> set[str]:
    """Dotted components of every code span: `incidents.escalation.x` gives all three."""
    out: set[str] = set()
    for span in code_spans:
        out.update(part.strip() for part in span.split("."))
    return out


def test_schema_walk_finds_the_fields():
    names = {n for cls in SCHEMA_CLASSES for _, n in _walk(cls)}
    # guards against a walk that silently finds nothing
    assert {"tension_threshold", "reservation", "quorum", "damping",
            "incentives", "decay"} <= names
    assert len(names) > 80


def test_every_field_name_is_documented_in_backticks(tokens: set[str]):
    missing = sorted({n for cls in SCHEMA_CLASSES for _, n in _walk(cls)} - tokens)
    assert not missing, ("docs/model.md does not mention these parameter keys in "
                         f"backticks: {', '.join(missing)}")


def test_every_section_key_is_documented_with_its_dotted_path(code_spans: set[str]):
    keys = [key for s, cls in SECTIONS.items() for key, _ in _walk(cls, s)]
    # grouping keys (domestic.support, incidents.escalation ...) need not have a row
    leaves = [k for k in keys if not any(other.startswith(k + ".") for other in keys)]
    missing = [k for k in leaves if k not in code_spans]
    assert not missing, ("docs/model.md has no `dotted.key` entry for: "
                         f"{', '.join(missing)}")


@pytest.mark.parametrize("role", sorted(P.ROLE_CLASSES))
def test_every_actor_key_is_documented_per_role(role: str, code_spans: set[str]):
    cls = P.ROLE_CLASSES[role]
    base = {f.name for f in dataclasses.fields(P.ActorBase)}
    missing = []
    for key, _name in _walk(cls):
        top = key.split(".")[0]
        if top in base:
            wanted = {f"actors.<name>.{key}", f"actors.<{role}>.{key}"}
        else:
            wanted = {f"actors.<{role}>.{key}"}
        if not wanted & code_spans:
            missing.append(sorted(wanted)[-1])
    assert not missing, f"docs/model.md has no entry for: {', '.join(missing)}"


# ------------------------------------------------------------------ declared kinds (issue 19)


def _section8(doc: str) -> str:
    """Section 8's hand-written tables (the generated table of 8.12 left out)."""
    from sim.experiment.priors import DOC_BEGIN, DOC_END

    text = doc[doc.index("## 8. Parameters"):doc.index("## 9. Stylized")]
    return text.split(DOC_BEGIN, 1)[0] + text.split(DOC_END, 1)[-1]


#: Fields that map names (issues, signatories, spoilers) to numbers.
MAP_FIELDS = {f.name for cls in SCHEMA_CLASSES for f in dataclasses.fields(cls)
              if f.metadata.get("kind") in ("issue_map", "name_map", "actor_map")}


def _row_leaves(key: str, leaves: list) -> list:
    """The numeric leaves a table row's key stands for (``actors.<role>.x``: every such
    actor's; a per-issue or per-name map: every entry)."""
    pat = key.split(".")
    out = []
    for leaf in leaves:
        parts = leaf.key.split(".")
        if len(parts) != len(pat) and not (len(parts) == len(pat) + 1
                                           and pat[-1] in MAP_FIELDS):
            continue
        ok = True
        for j, p in enumerate(pat):
            if p == parts[j] or (j == 1 and pat[0] == "actors"
                                 and p in ("<name>", f"<{leaf.role}>")):
                continue
            if p.startswith("<") and p.endswith(">") and j > 1:
                continue
            ok = False
            break
        if ok:
            out.append(leaf)
    return out


@pytest.fixture(scope="module")
def declared():
    from sim.experiment.config import load_params
    from sim.experiment.priors import leaves, load_declarations

    params = load_params("baseline", assumptions="point")   # the YAML's values
    decl = load_declarations()
    return params, decl, leaves(params)


def test_the_table_of_declared_parameters_is_generated_from_the_list(doc: str, declared):
    from sim.experiment.priors import DOC_BEGIN, DOC_END, doc_block

    params, decl, _ = declared
    assert DOC_BEGIN in doc and DOC_END in doc
    block = DOC_BEGIN + doc.split(DOC_BEGIN, 1)[1].split(DOC_END, 1)[0] + DOC_END
    assert block == doc_block(params, decl), (
        "docs/model.md's table of declared parameters is stale: run "
        "python -m sim.experiment.priors --write")


def test_each_parameter_row_agrees_with_the_declared_kind_and_prior(doc: str, declared):
    """A row whose source says "assumption"/"calibrated" names a key of that kind; a row
    whose keys are all assumptions says so; a row's U(a, b) default lies in the prior."""
    _, decl, leaves = declared
    bad, rows = [], 0
    for line in _section8(doc).splitlines():
        m = re.match(r"\| `([^`]+)` \|(.*)\|\s*$", line)
        if not m:
            continue
        cells = [c.strip() for c in m.group(2).split("|")]
        key, source = m.group(1), cells[-1]
        ls = _row_leaves(key, leaves)
        if not ls:
            continue
        rows += 1
        kinds = {decl.lookup(x.key, x.role).kind for x in ls}
        first = re.split(r"[\s.:;,(]", source.lower(), maxsplit=1)[0]
        if first in ("assumption", "calibrated") and kinds != {first}:
            bad.append(f"{key}: the row says {first}, the list {sorted(kinds)}")
        if kinds == {"assumption"} and "assumption" not in source.lower():
            bad.append(f"{key}: every key is an assumption, the row does not say so")
        u = re.fullmatch(r"U\(([-\d.]+), ([-\d.]+)\)", cells[-2]) if len(cells) == 5 else None
        if u and kinds == {"assumption"}:
            lo, hi = float(u.group(1)), float(u.group(2))
            for x in ls:
                plo, phi = decl.lookup(x.key, x.role).prior.support()
                if not plo <= lo < hi <= phi:
                    bad.append(f"{key}: default U({lo:g}, {hi:g}) outside the prior "
                               f"[{plo:g}, {phi:g}]")
    assert rows > 100  # guards against a parser that finds no row
    assert not bad, "docs/model.md disagrees with configs/priors.yaml: " + "; ".join(bad)
