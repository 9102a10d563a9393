"""A cap on requests in flight per provider, shared by every thread and process on this machine."""

import contextlib
import fcntl
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path


class SlotLimiter:
    """At most `slots` holders at once: each holds an exclusive flock on one of N slot files."""

    # flock locks belong to an open file description, so two threads of one process contend like two
    # processes do; a crashed holder's lock is released by the kernel with its file descriptors.

    def __init__(self, folder: Path, slots: int, poll: float = 0.02):
        self.folder = folder
        self.slots = max(1, slots)
        self.poll = poll

    def _try(self, index: int) -> int | None:
        fd = os.open(self.folder / f"slot-{index}", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return fd

    @contextlib.contextmanager
    def hold(self) -> Iterator[int]:
        """Wait for a free slot and hold it for the `with` block; yields the slot's number."""
        self.folder.mkdir(parents=True, exist_ok=True)
        while True:
            start = random.randrange(self.slots)
            for n in range(self.slots):
                index = (start + n) % self.slots
                fd = self._try(index)
                if fd is None:
                    continue
                try:
                    yield index
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                    os.close(fd)
                return
            time.sleep(self.poll * (0.5 + random.random()))
