"""The ``assumptions`` switch: assumptions at a point, from their priors or from the record.

A scenario's assumptions are held at the defaults' values, drawn from their declared
priors, or drawn from the posterior learnt on the dated record.

``configs/config.yaml`` holds ``assumptions: posterior`` (the default since stop 31) and
``posterior_file``; a scenario file may set ``assumptions`` (the three that start before
the posterior's cut-off say ``prior``); ``sim-run assumptions=point`` or
``load_params("baseline", assumptions="point")`` choose another mode (:data:`MODES`):

* ``point``: the defaults' values, unchanged (the YAML's numbers);
* ``prior``: every assumption of ``configs/priors.yaml`` that the defaults fix at a point
  is drawn per world from its declared prior (:func:`sim.experiment.priors.prior_overrides`,
  the inputs ``sim-explore`` and ``sim-calibrate`` draw);
* ``posterior``: as ``prior``, and then every key the posterior sample file
  (``posterior_file``, :mod:`sim.model.posterior`) calibrated is drawn from the file
  instead (``{dist: posterior, file: ..., column: <key>}``): each world takes one row of
  the file for all these keys, so the sample's joint structure is kept. An assumption the
  calibration did not learn stays drawn from its prior (the state of knowledge about it).

**Which keys the switch touches (one rule, both modes).** Only a key the model groups'
defaults (``configs/<group>/*.yaml``) set (:func:`sim.experiment.priors.set_by_defaults`):
a value a scenario, the command line or a library override sets — a scenario's own state,
a what-if — stays as set. In ``posterior`` mode, moreover, only a column whose prior in
the calibration's origin scenario (the file header's ``origin``) came from the defaults or
the declared priors, not from the origin scenario itself: an origin's own distribution
(say its referendum yes share, what was known on its start date) is a statement about its
moment, not about the target scenario's key, so it is not carried over. A column that
names no parameter of the target scenario (an actor it does not have) is left out.

Every value so set is checked by the schema like any other (:func:`params_from_config`);
its provenance names the posterior file or ``configs/priors.yaml``. The schema refuses a
posterior file whose ``cutoff`` is after the scenario's ``state.start_date``
(:meth:`sim.model.dists.Dist.known_from`): a run may use only what was known at its
start, so the backtest's origins (13 Mar 2025 ...) cannot take the 4 Jul 2026 posterior.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sim.errors import ConfigError

#: The modes of the ``assumptions`` key.
MODES = ("point", "prior", "posterior")
#: Provenance of the keys a ``prior`` draw sets (the declarations' file).
PRIORS_SOURCE = "configs/priors.yaml"


def check_mode(mode: Any, source: str | None = None, key: str = "assumptions") -> str:
    """The mode, checked.

    Raises:
        ConfigError: Not one of :data:`MODES` (one line naming ``key``).
    """
    if mode not in MODES:
        raise ConfigError(key, f"must be one of {', '.join(MODES)}, got {mode!r}", source)
    return str(mode)


def composed_mode(config: Mapping[str, Any], prov: Mapping[str, str]) -> str:
    """The mode a composition runs in, checked: its ``assumptions`` key.

    That is a scenario file's, else ``config.yaml``'s; an error names the file that set it.
    """
    return check_mode(config.get("assumptions", "point"), prov.get("assumptions"))


def check_posterior_file(file: Any) -> str:
    """``posterior_file``, checked: a non-empty text (the run settings and the library).

    Raises:
        ConfigError: Not a non-empty text (one line naming ``posterior_file``).
    """
    from sim.experiment.settings import show

    if not isinstance(file, str) or not file:
        raise ConfigError("posterior_file", "must be the path of a posterior sample file "
                          f"(relative: inside the configuration folder), got {show(file)}")
    return file


def posterior_path(file: Any, config_dir: Path | None = None) -> Path:
    """``posterior_file`` as a path: a relative one is inside the configuration folder.

    Raises:
        ConfigError: Not a non-empty text (:func:`check_posterior_file`).
    """
    from sim.experiment.config import CONFIG_DIR

    p = Path(check_posterior_file(file))
    return p if p.is_absolute() else Path(config_dir or CONFIG_DIR) / p


@functools.lru_cache(maxsize=16)
def _origin_set(origin: str, config_dir: str) -> frozenset[str]:
    """Keys whose value (or prior) the origin scenario sets itself, not the defaults."""
    from sim.experiment.config import compose_model
    from sim.experiment.priors import from_defaults

    comp = compose_model(origin, Path(config_dir))
    return frozenset(k for k, src in comp.prov.items() if not from_defaults(src))


def transferable(header: Mapping[str, Any], columns: list[str],
                 config_dir: Path | None = None) -> list[str]:
    """The columns of a posterior file that speak about the defaults' keys (module doc).

    A column is left out when the calibration's origin scenario set the key (or one of
    its prior's arguments) itself. A file without an ``origin`` in its header (a toy
    calibration) transfers every column.

    Raises:
        ConfigError: The header's origin is not a scenario of the configuration.
    """
    from sim.experiment.config import CONFIG_DIR

    origin = header.get("origin")
    if not origin:
        return list(columns)
    own = _origin_set(str(origin), str(Path(config_dir or CONFIG_DIR)))
    return [c for c in columns
            if not any(k == c or k.startswith(f"{c}.") for k in own)]


def assumption_values(mode: str, params: Any, prov: Mapping[str, str] | None,
                      posterior_file: Path | None = None,
                      config_dir: Path | None = None) -> dict[str, dict]:
    """Dotted key -> the distribution mapping the mode gives it (empty for ``point``).

    Args:
        mode: One of :data:`MODES`.
        params: The scenario's parameters under ``point`` (validated).
        prov: Which file set each key (the scenario's composition).
        posterior_file: The posterior sample file (``posterior`` mode).
        config_dir: The configuration folder (declarations, the origin's scenario).

    Raises:
        ConfigError: A bad mode, or a posterior file that cannot be read (naming
            ``posterior_file``).
    """
    from sim.experiment.priors import (
        leaves,
        load_declarations,
        prior_overrides,
        set_by_defaults,
    )
    from sim.model.posterior import WEIGHT, PosteriorFileError, read_posterior

    check_mode(mode)
    if mode == "point":
        return {}
    out: dict[str, dict] = prior_overrides(params, load_declarations(config_dir), prov)
    if mode == "prior":
        return out
    if posterior_file is None:
        raise ConfigError("posterior_file", "assumptions=posterior needs a posterior sample "
                          "file")
    try:
        header, samples, _ = read_posterior(posterior_file)
    except PosteriorFileError as e:
        raise ConfigError("posterior_file", f"{posterior_file} {e}") from None
    keys = {leaf.key for leaf in leaves(params)}
    columns = [c for c in samples.columns if c != WEIGHT and c in keys]
    for k in transferable(header, columns, config_dir):
        if set_by_defaults(k, prov):
            out[k] = {"dist": "posterior", "file": str(posterior_file), "column": k}
    return out


def with_assumptions(mode: str, cfg: dict, prov: dict, posterior_file: Path | None = None,
                     config_dir: Path | None = None, source_name: str | None = None
                     ) -> tuple[dict, dict]:
    """A composed configuration with the mode's draws applied, and its provenance.

    ``point`` returns ``cfg`` and ``prov`` unchanged. Otherwise the keys of
    :func:`assumption_values` are set (:func:`sim.experiment.priors.apply_overrides`) and
    their provenance becomes the posterior file (``source_name``, default its path) or
    :data:`PRIORS_SOURCE`.

    Raises:
        ConfigError: As :func:`assumption_values`, or the scenario's own mistake.
    """
    from sim.experiment.config import params_from_config

    if check_mode(mode) == "point":
        return cfg, prov
    values = assumption_values(mode, params_from_config(cfg, prov, config_dir), prov,
                               posterior_file, config_dir)
    if not values:
        return cfg, prov
    return apply_values(cfg, prov, values, source_name or str(posterior_file))


def apply_values(cfg: dict, prov: Mapping[str, str], values: Mapping[str, dict],
                 posterior_source: str | None = None) -> tuple[dict, dict]:
    """``cfg`` with the distributions ``values`` set, and the provenance that says so.

    The one place a mode's draws (or a calibration's, :func:`sim.analysis.calibrate.
    calibration_inputs`) replace the defaults' point values: every key of ``values`` is set
    (:func:`sim.experiment.priors.apply_overrides`), the provenance of it and of anything
    under it is dropped, and the key's provenance becomes ``posterior_source`` for a
    ``posterior`` draw, else :data:`PRIORS_SOURCE`.
    """
    from sim.experiment.priors import apply_overrides

    new_prov = {k: v for k, v in prov.items()
                if not any(k == d or k.startswith(f"{d}.") for d in values)}
    for k, v in values.items():
        new_prov[k] = (posterior_source or PRIORS_SOURCE) if v.get("dist") == "posterior" \
            else PRIORS_SOURCE
    return apply_overrides(cfg, values), new_prov
