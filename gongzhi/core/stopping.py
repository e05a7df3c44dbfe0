"""Stopping a long-running loop on SIGTERM/SIGINT without ever hanging (issue #14).

A Python signal handler runs in the main thread between two bytecodes of whatever was running, and a
second signal can run a second handler in the middle of the first. A handler that takes a lock (as
`threading.Event.set()` does, and logging, and print) can therefore wait for a lock its own thread holds:
the process hangs for ever, keeping the SQLite write lock. So the handler here only sets plain attributes
(a counter and two times); the loop checks `requested` between its steps, never inside a transaction,
and sleeps with `wait()`, short slices that look at the flag (no Event, no Condition).

A second signal while stopping changes nothing. A third within EXIT_WINDOW seconds of the first of the
three ends the process at once with `os._exit(1)`: someone insists, and the step in progress may be slow.
That is safe because every step is one database transaction: a killed process's connection drops and the
database rolls back what was not committed (SQLite's journal, PostgreSQL's backend), so nothing is ever
half-recorded; `_exit` skips only Python's cleanup (atexit, buffered output), none of which holds data.

    stop = StopFlag().install()
    try:
        while not stop.requested:
            do_one_step()            # one transaction, or several each complete
            stop.wait(interval)
        logger.info("stopping…")
    finally:
        stop.release()    # restore(), unless stopping: late signals of the burst stay harmless
"""

import atexit
import os
import signal
import sys
import time

_installed: list["StopFlag"] = []   # the flags installed now, newest last (main thread only)

EXIT_WINDOW = 5.0     # a third signal within this many seconds of the first of the three: exit at once
SLICE = 0.1           # wait() looks at the flag this often


class StopFlag:
    def __init__(self, signals=(signal.SIGTERM, signal.SIGINT), *, exit_window: float = EXIT_WINDOW):
        self.signals = tuple(signals)
        self.exit_window = exit_window
        self.count = 0            # signals received
        self.signum = None        # the first one's number
        self.first_at = None      # time.monotonic() of the first
        self._older = None        # the times of the two signals before the latest
        self._newer = None
        self._previous = {}

    # The handler: plain attribute assignments only (no locks, no I/O but the last-resort write below).
    def _on_signal(self, signum, frame):
        now = time.monotonic()
        self.count += 1
        if self.signum is None:
            self.signum, self.first_at = signum, now
        if self._older is not None and now - self._older <= self.exit_window:
            # Third within the window. os.write is one system call (no Python lock), unlike print/logging.
            try:
                os.write(2, b"third stop signal: exiting at once\n")
            finally:
                os._exit(1)
        self._older, self._newer = self._newer, now

    def install(self) -> "StopFlag":
        """Handle this flag's signals from now on (main thread only); restore() puts the old handlers back."""
        for sig in self.signals:
            self._previous[sig] = signal.signal(sig, self._on_signal)
        _installed.append(self)
        return self

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        self._previous = {}
        if self in _installed:
            _installed.remove(self)

    def release(self) -> None:
        """At the end of a command: restore(), unless a stop was asked. Then the rest of a burst of signals
        (the terminal's and a supervisor's, as `make demo`'s Ctrl-C sends) may still be on its way, and the
        default action would kill the process as it returns (a -15 exit after a clean stop): keep counting."""
        if not self.requested:
            self.restore()
        else:  # Python resets its handlers to the default late in its shutdown: ignore the burst's tail there
            atexit.register(self._ignore_from_now_on)

    def _ignore_from_now_on(self) -> None:  # runs after threads are joined, just before the interpreter ends
        for sig in self.signals:
            signal.signal(sig, signal.SIG_IGN)

    def __enter__(self) -> "StopFlag":
        return self.install()

    def __exit__(self, *exc) -> None:
        self.restore()

    @property
    def requested(self) -> bool:
        return self.count > 0

    @property
    def reason(self) -> str:
        if self.signum is None:
            return ""
        try:
            return signal.Signals(self.signum).name
        except ValueError:
            return str(self.signum)

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`, returning early (within SLICE) once a stop is requested; whether it is."""
        deadline = time.monotonic() + seconds
        while not self.requested:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(SLICE, left))
        return self.requested


def exit_now(code: int = 0) -> None:
    """After a command has stopped cleanly on a signal: end the process without the interpreter's teardown.
    Freeing every module and object of a Django process costs about 1 s of CPU, several seconds of wall time on
    a busy machine: longer than scripts/run.sh's grace, which then signals again and kills a process that had
    already stopped (the soak saw it on every stop, docs/reliability.md). Nothing that holds data is left: each
    step committed and the loop closed its connections; the atexit functions run and the output is flushed."""
    import logging

    try:
        atexit._run_exitfuncs()  # noqa: SLF001 - what the interpreter would run first at exit
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
    finally:
        os._exit(code)


def stop_requested() -> bool:
    """Whether the command this code runs in was asked to stop (a long task, as the deadline sweep under
    `gongzhi db_worker`, asks between its steps). False outside such a command."""
    return any(flag.requested for flag in _installed)
