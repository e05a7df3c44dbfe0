"""The production layout in deploy/ (docs/deployment.md): the files agree with each other, and
deploy/check-layout.py starts all of it on loopback (its own PostgreSQL, the units' ExecStart lines, nginx with
the site file) and checks it end to end through nginx, then stops everything, leaving no process behind.

The end-to-end run starts a PostgreSQL of its own, so it runs once: in make test's PostgreSQL pass."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


def layout_module():
    spec = importlib.util.spec_from_file_location("check_layout", DEPLOY / "check-layout.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def under_ci() -> bool:
    return os.environ.get("CI") in ("1", "true")


# --- the files agree with each other (both passes: no database, no process) -----------------------------------

def test_the_target_wants_every_long_running_unit_and_each_belongs_to_it():
    """The processes that run all the time (started by check-layout.py); units started by a timer (the nightly
    backup) are not part of the target."""
    layout = layout_module()
    target = (DEPLOY / "systemd" / "gongzhi.target").read_text()
    wants = re.search(r"^Wants=(.*)$", target, re.M).group(1).split()
    services = sorted(w.removesuffix(".service") for w in wants)
    assert services == sorted(layout.UNITS)
    for name in services:
        assert (DEPLOY / "systemd" / f"{name}.service").exists(), name
        text = (DEPLOY / "systemd" / f"{name}.service").read_text()
        assert "Restart=" in text, name
        assert "PartOf=gongzhi.target" in text and "WantedBy=gongzhi.target" in text, name


def test_every_unit_runs_from_the_checkout_with_the_environment_file_and_stops_on_sigterm():
    layout = layout_module()
    env = layout.read_env_file(DEPLOY / "gongzhi.env")
    for name in layout.UNITS:
        unit = layout.read_unit(DEPLOY / "systemd" / f"{name}.service")
        assert unit["EnvironmentFile"] == "/etc/gongzhi/gongzhi.env"
        assert unit["WorkingDirectory"] == "/srv/gongzhi/app"
        assert unit["KillSignal"] == "SIGTERM" and float(unit["TimeoutStopSec"]) >= 30
        argv = layout.expand(unit["ExecStart"], env)  # every ${VARIABLE} is in the environment file
        assert argv[0].startswith("/srv/gongzhi/app/.venv/bin/"), argv
    web = layout.expand(layout.read_unit(DEPLOY / "systemd" / "gongzhi-web.service")["ExecStart"], env)
    assert web[web.index("--workers") + 1] == env["GONGZHI_WEB_WORKERS"]
    # Filing apart from the sweep and the periodic jobs, which the sweeper runs: each one exactly once.
    worker = layout.expand(layout.read_unit(DEPLOY / "systemd" / "gongzhi-worker.service")["ExecStart"], env)
    sweeper = layout.expand(layout.read_unit(DEPLOY / "systemd" / "gongzhi-sweeper.service")["ExecStart"], env)
    assert worker[1:4] == ["demands", "work", "--forever"] and "--no-jobs" in worker
    assert worker[worker.index("--sweep-interval") + 1] == "0"
    assert sweeper[1:4] == ["demands", "sweep", "--forever"] and "--no-jobs" not in sweeper
    assert "python:gongzhi.ops.gunicorn" in web  # the request metrics of every process add up


def test_nginx_serves_the_static_folder_the_environment_names_and_proxies_to_the_web_unit():
    layout = layout_module()
    env = layout.read_env_file(DEPLOY / "gongzhi.env")
    site = (DEPLOY / "nginx" / "gongzhi.conf").read_text()
    assert f"alias {env['GONGZHI_VAR_DIR']}/static/;" in site
    web = layout.read_unit(DEPLOY / "systemd" / "gongzhi-web.service")["ExecStart"]
    bind = re.search(r"--bind (\S+)", web).group(1)
    assert f"server {bind};" in site
    assert "X-Forwarded-Proto $scheme" in site and env["GONGZHI_PROXY_COUNT"] == "1" and env["GONGZHI_HTTPS"] == "1"
    assert env["GONGZHI_LEDGER_SEQUENCER"] == "loop"  # gongzhi-sequencer.service does the sequencing
    assert env["DATABASE_URL"].startswith("postgres")


def test_a_substitution_that_no_longer_matches_stops_the_check_with_what_to_update():
    layout = layout_module()
    with pytest.raises(SystemExit, match="no longer contains"):
        layout.substitute("listen 8080;", [(r"listen 80;", "listen 1;")], "the site")


# --- the whole layout, end to end ------------------------------------------------------------------------------

def processes_mentioning(text: str) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in argv:
            found.append(f"{cmdline.parent.name}: {argv[:200]}")
    return found


def test_the_whole_layout_starts_from_deploy_and_answers_end_to_end_then_stops_clean():
    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        pytest.skip("runs once, in the PostgreSQL pass (it starts a PostgreSQL server of its own)")
    from gongzhi.core import pgserver

    missing = [name for name, there in (("nginx (/usr/sbin/nginx)", Path("/usr/sbin/nginx").exists()),
                                         ("PostgreSQL's server binaries", pgserver.available())) if not there]
    if missing:
        (pytest.fail if under_ci() else pytest.skip)(f"needs {', '.join(missing)}: scripts/system-packages.sh --ops")
    done = subprocess.run([sys.executable, str(DEPLOY / "check-layout.py")], cwd=ROOT, capture_output=True,
                          text=True, timeout=900, stdin=subprocess.DEVNULL)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    folder = re.search(r"folder (\S+);", out).group(1)
    for step in ("the home page answers 200 over HTTPS", "is served by nginx from the collected files",
                 "/health/ready/ answers 200", "the worker and the sweeper have both beaten",
                 "a fast-path submission is accepted (202)", "the worker filed it",
                 "the sequencer put the filing in the ledger", "`gongzhi ledger verify --db` passes",
                 "/metrics through nginx without the token is refused", "/metrics shows the queue gauges",
                 "every process stopped on its unit's signal"):
        assert any("] ok   " in line and step in line for line in out.splitlines()), f"{step!r} not passed:\n{out}"
    assert " 0 failed" in out
    database = re.search(r"PostgreSQL \S+ in (\S+) on port", out).group(1)
    assert processes_mentioning(folder) == [] and processes_mentioning(database) == []  # nothing left running
    assert not Path(folder).exists() and not Path(database).exists()


def test_the_admin_command_wrapper_runs_as_the_units_do():
    layout = layout_module()
    unit = layout.read_unit(DEPLOY / "systemd" / "gongzhi-worker.service")
    wrapper = (DEPLOY / "gongzhi").read_text()
    assert f"--uid={unit['User']}" in wrapper and f"--gid={unit['Group']}" in wrapper
    assert f"EnvironmentFile={unit['EnvironmentFile']}" in wrapper
    assert f"WorkingDirectory={unit['WorkingDirectory']}" in wrapper
    assert f"StateDirectory={unit['StateDirectory']}" in wrapper
    assert f"{unit['WorkingDirectory']}/.venv/bin/gongzhi \"$@\"" in wrapper
