"""Security headers on every answer, no inline script anywhere, and production settings that pass
`gongzhi check --deploy` without a warning (issue #13 item 9)."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
GONGZHI = Path(sys.executable).parent / "gongzhi"
# The production environment README.md documents (Configuration), with this machine's test paths.
PRODUCTION_ENV = {
    "GONGZHI_HTTPS": "1",
    "GONGZHI_ALLOWED_HOSTS": "gongzhi.example.gov.cn",
    "GONGZHI_CSRF_TRUSTED_ORIGINS": "https://gongzhi.example.gov.cn",
    "GONGZHI_PROXY_COUNT": "1",
}


def policy(response) -> dict[str, list[str]]:
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/accounts/login/", "/ledger/", "/deliberation/", "/api/v1/docs",
                                 "/admin/login/"])
def test_pages_forbid_inline_and_evaluated_script_and_framing(client, url):
    response = client.get(url)
    assert response.status_code == 200
    csp = policy(response)
    assert csp["script-src"] == ["'self'"]
    assert csp["default-src"] == ["'self'"] and csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_api_answers_carry_the_same_headers(client):
    response = client.get("/api/v1/org/regions")
    assert response.status_code == 401
    assert response["X-Content-Type-Options"] == "nosniff" and response["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_no_template_holds_inline_script_or_event_handlers():
    """An inline <script>, an on…= handler, hx-on or a javascript: URL would be refused by the policy."""
    offenders = []
    for template in sorted((ROOT / "gongzhi").glob("**/templates/**/*.html")):
        text = template.read_text()
        for match in re.finditer(r"<script\b([^>]*)>", text):
            attributes = match.group(1)
            if "src=" not in attributes and "application/json" not in attributes:
                offenders.append(f"{template.relative_to(ROOT)}: inline <script>")
        for pattern in (r"\son[a-z]+\s*=", r"\shx-on[:-]", r"javascript:"):
            if re.search(pattern, text):
                offenders.append(f"{template.relative_to(ROOT)}: {pattern}")
    assert offenders == []


def run_gongzhi(tmp_path, *args, **env):
    environ = {key: value for key, value in os.environ.items()
               if not key.startswith(("GONGZHI_", "DJANGO_")) and key not in {"DEBUG", "PYTEST_XDIST_WORKER"}}
    environ.update(GONGZHI_VAR_DIR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
                   GONGZHI_SECRET_KEY=secrets.token_urlsafe(50), **env)
    return subprocess.run([str(GONGZHI), *args], env=environ, cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_deploy_check_passes_with_the_documented_production_settings(tmp_path):
    answer = run_gongzhi(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert "no issues" in answer.stdout + answer.stderr
    assert "WARNING" not in answer.stdout + answer.stderr


def test_deploy_check_warns_without_https(tmp_path):
    answer = run_gongzhi(tmp_path, "check", "--deploy", "--fail-level", "WARNING",
                         GONGZHI_ALLOWED_HOSTS="gongzhi.example.gov.cn")
    assert answer.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in answer.stderr + answer.stdout


def test_https_turns_on_redirect_hsts_secure_cookies_and_the_proxy_header(tmp_path):
    names = ["SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SESSION_COOKIE_SECURE",
             "CSRF_COOKIE_SECURE", "SECURE_PROXY_SSL_HEADER"]
    code = ("import json; from django.conf import settings; "
            f"print(json.dumps({{n: getattr(settings, n) for n in {names!r}}}))")
    answer = run_gongzhi(tmp_path, "shell", "-c", code, **PRODUCTION_ENV)
    assert answer.returncode == 0, answer.stderr
    values = json.loads(answer.stdout.strip().splitlines()[-1])
    assert values == {"SECURE_SSL_REDIRECT": True, "SECURE_HSTS_SECONDS": 31536000,
                      "SECURE_HSTS_INCLUDE_SUBDOMAINS": True, "SESSION_COOKIE_SECURE": True,
                      "CSRF_COOKIE_SECURE": True, "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"]}
