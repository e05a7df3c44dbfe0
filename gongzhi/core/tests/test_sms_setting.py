"""The SMS backend is chosen from the environment, as the systemd layout's environment file sets it (a reviewer of
docs/deployment.md found it could only be set by editing settings.py)."""

import os
import subprocess
import sys
from pathlib import Path

GONGZHI = str(Path(sys.executable).with_name("gongzhi"))
SHOW = "from django.conf import settings; from gongzhi.core import sms; print(type(sms.backend()).__name__)"


def backend_named_by(value: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "GONGZHI_SMS_BACKEND"}
    if value is not None:
        env["GONGZHI_SMS_BACKEND"] = value
    return subprocess.run([GONGZHI, "shell", "--no-imports", "-c", SHOW], env=env, capture_output=True, text=True, timeout=120)


def test_the_environment_names_the_backend_and_empty_means_the_default(tmp_path):
    assert backend_named_by(None).stdout.strip() == "LogBackend"
    assert backend_named_by("").stdout.strip() == "LogBackend"  # the environment file's empty line
    named = backend_named_by("gongzhi.core.sms.LogBackend")
    assert named.returncode == 0 and named.stdout.strip() == "LogBackend"
    wrong = backend_named_by("gongzhi.core.sms.NoSuchGateway")
    assert wrong.returncode != 0 and "NoSuchGateway" in wrong.stderr
