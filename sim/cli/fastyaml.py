"""OmegaConf's YAML loader on libyaml: the same documents, parsed in C.

Hydra reads every configuration file through ``OmegaConf.load``, whose loader is a
pure-Python ``yaml.SafeLoader`` subclass built anew for each file. A sweep job composes
its configuration about twice (the preflight check, then Hydra's own job), and parsing
was about half of a job's start-up. :func:`install` gives OmegaConf the same loader on
``yaml.CSafeLoader``: libyaml's parser with the Python resolver and constructor, and
OmegaConf's own rules (duplicate keys refused, its float syntax, no timestamps, its
``pathlib`` tags) copied from OmegaConf's loader itself, so the documents load to the
same values (``tests/test_configs.py`` checks every bundled file). Without libyaml
nothing changes.
"""

from __future__ import annotations

import functools
from typing import Any

import yaml


@functools.lru_cache(maxsize=1)
def fast_loader() -> type:
    """OmegaConf's loader, rebuilt on ``yaml.CSafeLoader``."""
    from omegaconf import _utils

    slow = getattr(_utils.get_yaml_loader, "_sim_slow", _utils.get_yaml_loader)()

    class FastOmegaConfLoader(yaml.CSafeLoader):
        """libyaml parser; OmegaConf's resolvers and constructors."""

        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> Any:
            keys = set()
            for key_node, _ in node.value:
                if key_node.tag != yaml.resolver.BaseResolver.DEFAULT_SCALAR_TAG:
                    continue
                if key_node.value in keys:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping", node.start_mark,
                        f"found duplicate key {key_node.value}", key_node.start_mark)
                keys.add(key_node.value)
            return super().construct_mapping(node, deep=deep)

    FastOmegaConfLoader.yaml_implicit_resolvers = {
        k: list(v) for k, v in slow.yaml_implicit_resolvers.items()}
    FastOmegaConfLoader.yaml_constructors = dict(slow.yaml_constructors)
    return FastOmegaConfLoader


def install() -> bool:
    """Make OmegaConf (and so Hydra) load YAML with :func:`fast_loader`. Idempotent.

    Returns:
        Whether the C loader is in use (False without libyaml).
    """
    if not getattr(yaml, "__with_libyaml__", False):
        return False
    from omegaconf import _utils, basecontainer

    if getattr(_utils.get_yaml_loader, "_sim_slow", None) is not None:
        return True
    slow = _utils.get_yaml_loader

    def get_yaml_loader() -> Any:
        return fast_loader()

    get_yaml_loader._sim_slow = slow  # type: ignore[attr-defined]
    _utils.get_yaml_loader = get_yaml_loader
    basecontainer.get_yaml_loader = get_yaml_loader  # imported by name there
    return True
