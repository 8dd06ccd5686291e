"""User-facing configuration errors.

Every mistake in a configuration is reported as one :class:`ConfigError` whose message
names the file (when known), the key and what is allowed. Entry points print
``str(error)`` on one line and exit non-zero; they never show a traceback for it.
"""

from __future__ import annotations


class ConfigError(ValueError):
    """A configuration value that the model cannot accept.

    Args:
        key: Dotted path of the offending key, e.g. ``incidents.base_rate``.
        problem: What is wrong and what is allowed, e.g. ``"must be in [0, 1], got 1.4"``.
        source: The file (or ``"command line"``) the value came from, if known.
    """

    def __init__(self, key: str, problem: str, source: str | None = None):
        self.key = key
        self.problem = problem
        self.source = source
        super().__init__(self._format())

    def _format(self) -> str:
        where = f"{self.source}: " if self.source else ""
        return f"{where}{self.key}: {self.problem}"

    def with_source(self, source: str | None) -> ConfigError:
        """Return a copy of this error that names ``source`` as the file."""
        return ConfigError(self.key, self.problem, source)
