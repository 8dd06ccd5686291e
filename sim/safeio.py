"""Bounded reading of the files the commands read: regular files only, never past a cap.

Every file a command reads on a user's word (configuration files, facts, run folders'
JSON and tables, posterior samples) goes through :func:`read_regular_bytes`: it opens the
file without blocking (a FIFO would otherwise hang the open), checks on the open
descriptor that it is a regular file (a device such as ``/dev/zero``, a FIFO or a socket
is refused, whatever a symlink's name says), and reads at most ``max_bytes`` (a device's
or a growing file's reported size is not trusted: the read itself is bounded).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO


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


def _open(path: str | os.PathLike[str]) -> int:
    """A read-only descriptor of ``path``, opened without blocking (a FIFO would hang).

    A socket cannot be opened at all (``ENXIO``): it is refused as what it is, like a
    FIFO or a device, rather than reported as a failure of the machine.
    """
    try:
        return os.open(Path(path), os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        if e.errno in (errno.ENXIO, errno.EOPNOTSUPP):
            try:
                mode = os.stat(path).st_mode
            except OSError:
                raise e from None
            if not stat.S_ISREG(mode):
                raise UnsafeFile(f"is {file_kind(mode)}; only a regular file is read"
                                 ) from None
        raise


def read_regular_bytes(path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` bytes.

    Raises:
        UnsafeFile: Not a regular file (folder, FIFO, socket, device), or larger than
            ``max_bytes``; the message says what it is and what is allowed.
        OSError: The file is missing or unreadable (``FileNotFoundError`` and the like).
    """
    fd = _open(path)
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


def open_regular(path: str | os.PathLike[str], max_bytes: int) -> BinaryIO:
    """A regular file of at most ``max_bytes`` bytes, opened for binary reading.

    For readers that take a file object (pyarrow's parquet reader, pandas' CSV reader):
    the checks of :func:`read_regular_bytes` are made on the open descriptor, so the file
    handed on is the one checked (a FIFO, socket or device never reaches the reader), and
    a file larger than ``max_bytes`` is refused before a byte of it is read.

    Raises:
        UnsafeFile: Not a regular file, or larger than ``max_bytes``.
        OSError: The file is missing or unreadable.
    """
    fd = _open(path)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeFile(f"is {file_kind(st.st_mode)}; only a regular file is read")
        if st.st_size > max_bytes:
            raise UnsafeFile(f"is larger than {max_bytes:,} bytes, the most allowed here")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
