"""core.stopping (issue #14): the stop signal handler only counts, so repeated and nested signals neither
raise, nor hang, nor end the process before the loop has finished its step; a third in a row does."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from gongzhi.core.stopping import StopFlag


@pytest.fixture
def flag():
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    stop = StopFlag().install()
    yield stop
    stop.restore()
    assert {sig: signal.getsignal(sig) for sig in before} == before


def test_two_quick_sigterms_set_the_flag_without_raising_or_exiting(flag):
    assert not flag.requested
    os.kill(os.getpid(), signal.SIGTERM)
    os.kill(os.getpid(), signal.SIGTERM)
    flag.wait(5)  # returns as soon as the flag is seen: the signals are handled between bytecodes
    assert flag.requested and flag.count == 2
    assert flag.reason == "SIGTERM"


def test_sigint_is_a_stop_request_not_a_keyboard_interrupt(flag):
    os.kill(os.getpid(), signal.SIGINT)
    assert flag.wait(5)
    assert flag.reason == "SIGINT"


def test_wait_sleeps_the_whole_time_when_nobody_asks_to_stop(flag):
    started = time.monotonic()
    assert flag.wait(0.3) is False
    assert time.monotonic() - started >= 0.3


def test_restore_puts_back_the_previous_handlers():
    def mine(signum, frame):
        pass

    previous = signal.signal(signal.SIGTERM, mine)
    try:
        with StopFlag():
            assert signal.getsignal(signal.SIGTERM) != mine
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, previous)


RUN = textwrap.dedent("""
    import os, signal, sys
    from gongzhi.core.stopping import StopFlag
    stop = StopFlag().install()
    for _ in range(int(sys.argv[1])):
        os.kill(os.getpid(), signal.SIGTERM)
    stop.wait(2)
    print("stopping cleanly after", stop.count, flush=True)
""")


def test_a_second_signal_is_harmless_and_a_third_in_a_row_exits_at_once():
    two = subprocess.run([sys.executable, "-c", RUN, "2"], capture_output=True, text=True, timeout=60)
    assert two.returncode == 0 and "stopping cleanly after 2" in two.stdout
    three = subprocess.run([sys.executable, "-c", RUN, "3"], capture_output=True, text=True, timeout=60)
    assert three.returncode == 1 and "stopping cleanly" not in three.stdout
    assert "third stop signal" in three.stderr


def test_release_keeps_absorbing_a_burst_once_stopping_and_restores_otherwise():
    previous = signal.getsignal(signal.SIGTERM)
    idle = StopFlag().install()
    idle.release()
    assert signal.getsignal(signal.SIGTERM) is previous
    stopping = StopFlag().install()
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stopping.wait(5)
        stopping.release()
        os.kill(os.getpid(), signal.SIGTERM)  # late in the burst: counted, does not kill this process
        deadline = time.monotonic() + 5
        while stopping.count < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert stopping.count == 2
    finally:
        stopping.restore()
    assert signal.getsignal(signal.SIGTERM) is previous


def test_code_inside_a_stopping_command_can_ask_whether_it_should_stop():
    from gongzhi.core.stopping import stop_requested

    assert not stop_requested()  # no command loop: never
    with StopFlag() as stop:
        assert not stop_requested()
        os.kill(os.getpid(), signal.SIGTERM)
        stop.wait(5)
        assert stop_requested()  # what the deadline sweep task asks between its rows
    assert not stop_requested()  # restored: the flag is no longer the command's
