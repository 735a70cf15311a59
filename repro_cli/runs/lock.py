"""Who is training a run right now: an exclusive `flock` on `<run>/.lock`, held for as long as a
process trains the run. The kernel drops the lock when the process dies however it dies (kill -9,
node reboot of a local disk), so a run whose run.json says `running` but whose lock nobody holds is
stale, and two processes can never resume the same run at once."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_FILE = ".lock"


class RunLock:
    def __init__(self, run_path: Path):
        self.path = Path(run_path) / LOCK_FILE
        self.fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock without waiting; False when another process holds it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def is_locked(run_path: Path) -> bool:
    """Whether some process (this one included, through another lock object) trains the run."""
    if not (Path(run_path) / LOCK_FILE).exists():
        return False
    probe = RunLock(run_path)
    try:
        if probe.acquire():
            probe.release()
            return False
    except OSError:  # unreadable directory: cannot tell, so do not call it stale
        return True
    return True
