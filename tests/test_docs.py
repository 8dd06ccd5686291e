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
