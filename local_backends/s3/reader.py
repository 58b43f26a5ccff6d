"""Reading a byte range of a stored object: positioned reads straight from the blob files.

An object is kept in one blob file or, after a multipart upload, in the files of its parts
(segments). :class:`RangeReader` reads a range that may span several of them with
``os.pread``/``os.preadv``: no shared file offset (so no seek), one copy from the page cache
into the caller's buffer, and the GIL released for the whole copy, so that the threads of a
parallel download (s3transfer runs ten) copy on every core at once.
"""
from __future__ import annotations

import io
import os

_O_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
_ONE_READ = 1 << 30  # Linux moves at most 2 GiB - 4 KiB per read call: larger reads loop


class ShortBlob(OSError):
    """A blob file holds fewer bytes than its database record says (the store is damaged)."""


class RangeReader(io.RawIOBase):
    """A raw, read-only stream over ``(path, start, length)`` pieces, one after the other.

    All files are opened at construction, so a blob replaced or removed later (a new version
    of the key) is still read in full; ``FileNotFoundError`` there means the object changed
    between its lookup and the open. ``read(n)`` returns exactly ``min(n, bytes left)``
    bytes; wrap it in an ``io.BufferedReader`` for many small reads.
    """

    def __init__(self, pieces: list[tuple[os.PathLike | str, int, int]]) -> None:
        super().__init__()
        self._fds: list[int] = []
        self._pieces: list[tuple[int, int, int]] = []
        try:
            for path, start, length in pieces:
                if length <= 0:
                    continue
                fd = os.open(path, _O_FLAGS)
                self._fds.append(fd)
                self._pieces.append((fd, start, length))
        except BaseException:
            self.close()
            raise
        self._i = 0      # current piece
        self._done = 0   # bytes already read from the current piece
        self._left = sum(p[2] for p in self._pieces)

    def readable(self) -> bool:
        return True

    def remaining(self) -> int:
        """Bytes not read yet."""
        return self._left

    def _next(self, want: int) -> tuple[int, int, int]:
        """``(fd, file offset, count)`` of the next read of at most ``want`` bytes."""
        fd, start, length = self._pieces[self._i]
        return fd, start + self._done, min(want, length - self._done)

    def _advance(self, n: int) -> None:
        self._done += n
        self._left -= n
        if self._done == self._pieces[self._i][2]:
            self._i += 1
            self._done = 0

    def read(self, size: int | None = -1) -> bytes:
        self._check_open()
        want = self._left if size is None or size < 0 else min(size, self._left)
        if want == 0:
            return b""
        fd, offset, count = self._next(want)
        if count == want <= _ONE_READ:  # the common case: one piece, one system call, one copy
            data = os.pread(fd, count, offset)
            if len(data) != count:
                raise ShortBlob("an object file is shorter than its record")
            self._advance(count)
            return data
        buf = bytearray(want)
        self.readinto(buf)
        return bytes(buf)

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer) -> int:
        self._check_open()
        view = memoryview(buffer).cast("B")
        total = min(len(view), self._left)
        filled = 0
        while filled < total:
            fd, offset, count = self._next(total - filled)
            n = os.preadv(fd, [view[filled:filled + count]], offset)
            if n <= 0:
                raise ShortBlob("an object file is shorter than its record")
            self._advance(n)
            filled += n
        return filled

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed file.")

    def close(self) -> None:
        fds, self._fds = self._fds, []
        for fd in fds:
            os.close(fd)
        super().close()

