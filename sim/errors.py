"""User-facing configuration errors.

Every mistake in a configuration is reported as one :class:`ConfigError` whose message
names the file (when known), the key and what is allowed. Entry points print
``str(error)`` on one line and exit non-zero; they never show a traceback for it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

_LONG_NUMBER = re.compile(r"(?<![\w.])\d{21,}")


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
        # a value like 1e308 read as a whole number would print 309 digits
        problem = _LONG_NUMBER.sub(lambda m: f"{float(m.group()):.6g}"
                                   if len(m.group()) < 309 else "a huge number", self.problem)
        return _escaped(f"{where}{self.key}: {problem}")

    def with_source(self, source: str | None) -> ConfigError:
        """Return a copy of this error that names ``source`` as the file."""
        return ConfigError(self.key, self.problem, source)


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e"
                          r"\u2066-\u2069]")


def _escaped(text: str) -> str:
    """``text`` with its control characters written as escapes.

    A name typed or stored with terminal escape codes (``ESC [ 31 m``), a newline or a
    bidirectional override prints as one plain line, escaped as Python writes it.
    """
    return _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], text)


def check_keys(node: Mapping[str, object], allowed: Sequence[str], prefix: str) -> None:
    """Check a mapping's keys against the allowed ones, all of which are required.

    Raises:
        ConfigError: The first key not in ``allowed``, then the first allowed key missing
            (named ``<prefix>.<key>``).
    """
    for k in node:
        if k not in allowed:
            raise ConfigError(f"{prefix}.{k}", f"unknown key; allowed: {', '.join(allowed)}")
    for k in allowed:
        if k not in node:
            raise ConfigError(f"{prefix}.{k}", "missing; this key is required")


class EnvironmentProblem(RuntimeError):
    """A failure of the machine, not of the input (disk full, read-only folder ...).

    Entry points print ``str(error)`` on one line and exit with code 1.
    """


def environment_problem(e: OSError, where: object = None) -> str:
    """One line for a failure of the machine, not of the input: what happened, what to do.

    Args:
        e: The error (disk full, read-only or unwritable folder, ...).
        where: The folder or file concerned, if the error names none.
    """
    import errno

    path = e.filename if e.filename is not None else where
    head = f"{path}: " if path is not None else ""
    advice = {
        errno.ENOSPC: "the disk is full; free space or write elsewhere "
                      "(e.g. paths.results_dir=/other/disk)",
        errno.EDQUOT: "disk quota exceeded; free space or write elsewhere",
        errno.EROFS: "the file system is read-only; write elsewhere "
                     "(e.g. paths.results_dir=/writable/folder)",
        errno.EACCES: "permission denied; write elsewhere or fix the folder's permissions",
        errno.EPERM: "operation not permitted; write elsewhere or fix the permissions",
        errno.ENOMEM: "out of memory; use fewer worlds or a smaller block_worlds",
    }.get(e.errno or 0, f"{e.strerror or e}")
    return f"{head}{advice}"
