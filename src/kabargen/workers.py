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


def give_back_free_memory() -> None:
    """Return the C heap's free pages to the system before forking (glibc only; elsewhere nothing).

    Reading a site frees most of what it allocated (raw files, parsed sources, cache
    entries), but the C allocator keeps those pages, and a forked process inherits them. Both
    processes then allocate into them while rendering, and each such write copies a page
    that was shared: at 10,000 releases about 90 MiB of free pages in the main process, which
    cost their size again in every render process. Given back, new allocations start on
    fresh private pages instead.
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS, Windows)
        return
    trim.argtypes = [ctypes.c_size_t]
    trim(0)
