"""Bounded reading of the files the commands read: regular files only, never past a cap.

Every file a command reads on a user's word (configuration files, facts, run folders'
JSON and tables, posterior samples) goes through :func:`read_regular_bytes`: it opens the
file without blocking (a FIFO would otherwise hang the open), checks on the open
descriptor that it is a regular file (a device such as ``/dev/zero``, a FIFO or a socket
is refused, whatever a symlink's name says), and reads at most ``max_bytes`` (a device's
or a growing file's reported size is not trusted: the read itself is bounded).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class UnsafeFile(ValueError):
    """A file that is not a regular file, or larger than allowed; the message says which."""


_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"))


def file_kind(mode: int) -> str:
    """What a ``st_mode`` is, in words (``"a regular file"``, ``"a FIFO (named pipe)"``...)."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "a regular file" if stat.S_ISREG(mode) else "not a regular file"


def read_regular_bytes(path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` bytes.

    Raises:
        UnsafeFile: Not a regular file (folder, FIFO, socket, device), or larger than
            ``max_bytes``; the message says what it is and what is allowed.
        OSError: The file is missing or unreadable (``FileNotFoundError`` and the like).
    """
    fd = os.open(Path(path), os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise UnsafeFile(f"is {file_kind(mode)}; only a regular file is read")
        chunks: list[bytes] = []
        left = max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) > max_bytes:
            raise UnsafeFile(f"is larger than {max_bytes:,} bytes, the most allowed here")
        return data
    finally:
        os.close(fd)


def read_regular_text(path: str | os.PathLike[str], max_bytes: int) -> str:
    """:func:`read_regular_bytes` decoded as UTF-8 (``UnicodeDecodeError`` if it is not)."""
    return read_regular_bytes(path, max_bytes).decode("utf-8")
