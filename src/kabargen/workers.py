"""Worker processes that Ctrl-C does not disturb: the parent stops them, they stay quiet."""

from __future__ import annotations

import signal
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def forking_quietly() -> Iterator[None]:
    """Hold Ctrl-C back in this thread while it forks worker processes.

    A child inherits the forking thread's signal mask. Without this, Ctrl-C that reaches the
    process group in the instant after a fork interrupts the child's own start-up (before its
    initializer can ignore the signal) and prints a traceback into the user's terminal. A
    Ctrl-C held back here is delivered as soon as the block ends.
    """
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def quiet_worker() -> None:
    """Initializer of a worker process: ignore Ctrl-C (the parent handles it), then let signals in."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
