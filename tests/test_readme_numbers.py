"""The README's headline numbers are those of a fresh run at the worlds and seed it states.

The paragraph is ``experiments/readme_numbers/readme_numbers.py``'s template filled with
its measurements; the slow test re-measures at 50,000 worlds (about 25 s of one core).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import load_script

ROOT = Path(__file__).resolve().parent.parent
rn = load_script("experiments/readme_numbers/readme_numbers.py")


def _slots(paragraph: str) -> dict[str, str]:
    """The values in the README's paragraph, read back through the template."""
    pattern = re.escape(rn.TEMPLATE)
    for name in re.findall(r"\{(\w+)\}", rn.TEMPLATE):
        pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P<{name}>.+?)", 1)
    m = re.fullmatch(pattern, paragraph)
    assert m is not None, "README.md's headline paragraph is not the script's template"
    return m.groupdict()


def test_the_readme_paragraph_is_the_template_with_numbers_and_states_its_run():
    slots = _slots(rn.quoted(rn.README.read_text(encoding="utf-8")))
    assert slots["worlds"] == f"{rn.WORLDS:,}" and slots["seed"] == str(rn.SEED)
    for key, text in slots.items():
        if key.startswith("p_") or key.startswith("yes_"):
            # never "0.000": a probability is positive or an exact zero with its count
            value = float(text.split(" ")[0].strip("*"))
            assert value > 0 or re.fullmatch(r"0 \(0 of [\d,]+ worlds\)", text), (key, text)


@pytest.mark.parametrize("p, d, n, text", [(0.0862, 3, None, "0.086"),
                                           (8 / 50_000, 3, 50_000,
                                            "0.0002 (8 of 50,000 worlds)"),
                                           (0.0, 3, 10, "0 (0 of 10 worlds)"),
                                           (0.0, 3, None, "0.000")])
def test_a_non_zero_probability_is_never_printed_as_zero(p, d, n, text):
    assert rn.prob(p, d, n) == text


def test_replace_rewrites_only_the_marked_paragraph():
    text = f"before\n\n{rn.START}\nold numbers\n{rn.END}\n\nafter\n"
    new = rn.replace(text, "new numbers " * 20)
    assert new.startswith("before\n\n") and new.endswith("\n\nafter\n")
    assert rn.quoted(new) == ("new numbers " * 20).strip()


@pytest.mark.slow
def test_the_readme_headline_numbers_are_those_of_a_fresh_run():
    fresh = rn.render(rn.measure(rn.WORLDS, rn.SEED))
    have = rn.quoted(rn.README.read_text(encoding="utf-8"))
    assert _slots(have) == _slots(fresh), (
        "README.md's headline numbers drifted: run "
        "`python experiments/readme_numbers/readme_numbers.py --write`")
