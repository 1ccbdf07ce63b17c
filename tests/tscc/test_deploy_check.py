"""`manage.py check --deploy` is clean with production settings (issue 9).

Run in a subprocess as production starts: no DEBUG, no TSCC_TESTING (which
turns the HTTPS-only settings off for the suite), a strong SECRET_KEY and a
real host name. Any warning fails (--fail-level WARNING), so a setting that
regresses (HSTS, secure cookies, SSL redirect, ...) fails here. Also with
SECURE_PROXY_SSL_HEADER, as behind the TLS-terminating proxy of a deploy.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

HOST = "tscc.example.com"


def deploy_check(**extra: str) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "TSCC_TESTING", "SECRET_KEY", "ALLOWED_HOSTS"}
        and not k.startswith("SECURE_")
        and not k.endswith("_COOKIE_SECURE")
    }
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS=HOST,
        TSCC_VAR_DIR=str(settings.VAR_DIR / "deploy-check"),
        **extra,
    )
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("extra", [{}, {"SECURE_PROXY_SSL_HEADER": "true"}], ids=["plain", "proxy"])
def test_check_deploy_reports_nothing(extra):
    result = deploy_check(**extra)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in result.stdout, output
    assert "WARNINGS" not in output and "ERRORS" not in output, output


def test_check_deploy_fails_when_a_production_setting_regresses():
    """The test above would notice: switching HSTS off is a warning (W004)."""
    result = deploy_check(SECURE_HSTS_SECONDS="0")
    assert result.returncode != 0
    assert "security.W004" in result.stdout + result.stderr
