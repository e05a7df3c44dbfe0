"""A `gongzhi` loop stopped by a signal ends at once after its clean stop (issue #19, found by the soak): the
interpreter's teardown of a Django process costs about 1 s of CPU, several seconds on a busy machine, longer
than scripts/run.sh's grace, which then killed processes that had already stopped. cli.main skips the
teardown (core.stopping.exit_now) once a stop was asked; the atexit functions still run, the output is
flushed, the exit status is 0. Other commands end as before."""

import signal
import subprocess
import sys
import textwrap

from gongzhi.core.tests.throwaway import ROOT, throwaway_database

# A process that runs cli.main as the `gongzhi` script does, with an object whose finaliser runs only in the
# interpreter's teardown, and an atexit function.
PROBE = textwrap.dedent("""
    import atexit, os, signal, sys
    atexit.register(lambda: print("atexit ran", flush=True))

    class Teardown:
        def __del__(self):
            os.write(1, b"teardown ran\\n")

    kept = Teardown()
    if sys.argv[1] == "signalled":  # as a loop's flag that a SIGTERM reached
        from gongzhi.core.stopping import StopFlag
        flag = StopFlag().install()
        os.kill(os.getpid(), signal.SIGTERM)
        assert flag.wait(10)
    from gongzhi import cli
    cli.main(["gongzhi", *sys.argv[2:]])
    print("after the command", flush=True)
""")


def probe(tmp_path, *argv, **popen):
    return subprocess.Popen([sys.executable, "-c", PROBE, *argv], cwd=ROOT, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**popen.pop("env", {}), "GONGZHI_VAR_DIR": str(tmp_path),
                                                         "PATH": "/usr/bin:/bin"}, **popen)


def test_a_command_that_was_asked_to_stop_exits_without_the_teardown_after_its_atexit_functions(tmp_path):
    process = probe(tmp_path, "signalled", "version")
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    lines = out.splitlines()
    assert lines[0].count(".") >= 1  # the command's own output (Django's version) came out whole
    assert "atexit ran" in lines
    assert "teardown ran" not in lines and "after the command" not in lines


def test_a_command_nobody_stopped_returns_and_ends_as_usual(tmp_path):
    process = probe(tmp_path, "plain", "version")
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "after the command" in out.splitlines() and "atexit ran" in out.splitlines()


def test_the_ledger_sequencer_stopped_by_sigterm_says_so_and_skips_the_teardown(tmp_path):
    with throwaway_database(tmp_path, "gongzhi_quick_exit") as database:
        process = probe(tmp_path, "plain", "ledger", "sequence", "--forever", "--interval", "0.2",
                        env={**database.env, "GONGZHI_LOG_LEVEL": "INFO"})
        try:
            first = process.stdout.readline()
            assert "SIGTERM or Ctrl-C to stop" in first, first + process.stderr.read()
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert process.returncode == 0, err
    assert "stopped after sequencing" in out and "stopped after sequencing" in err  # stdout and the log, flushed
    assert "atexit ran" in out
    assert "teardown ran" not in out and "after the command" not in out
