"""Pre-emption: SIGTERM (scheduler kill, `scancel`), SIGUSR1 (SLURM's warning before the kill,
`#SBATCH --signal=USR1@120`) and Ctrl-C ask the trainer to finish the current step, write a
checkpoint and stop. The process then exits with EXIT_PREEMPTED so a job script can requeue it;
`repro train --auto-resume` (or `--resume RUN_DIR`) continues exactly where it stopped."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

EXIT_PREEMPTED = 75  # EX_TEMPFAIL from sysexits.h: "try again later"
SIGNALS = (signal.SIGTERM, signal.SIGUSR1, signal.SIGINT)


class StopRequest:
    def __init__(self) -> None:
        self.signal: str | None = None

    def __call__(self) -> bool:
        return self.signal is not None

    def _handle(self, signum: int, frame) -> None:
        if self.signal is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C: stop now, without a checkpoint
        self.signal = signal.Signals(signum).name


@contextlib.contextmanager
def stop_on_signals() -> Iterator[StopRequest]:
    """Install the handlers for the duration of a run (only the main thread may install them;
    elsewhere the request simply never fires)."""
    request = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield request
        return
    previous = {s: signal.signal(s, request._handle) for s in SIGNALS}
    try:
        yield request
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
