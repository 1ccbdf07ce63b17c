"""Settings come from the environment; production refuses unsafe ones."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

from tscc.settings import kombu_redis_url

STRONG_KEY = "k" + "x9Q2mZr7Lw4pT8vB1nC6yH3jD5fG0sA2qE7uI4oP9lK3" * 2


def run_django(code: str, **env) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DEBUG", "TSCC_TESTING", "DATABASE_URL", "REDIS_URL"}
    }
    clean.update(env)
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=settings.BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = run_django("print('started')")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_refuses_a_weak_secret_key():
    result = run_django("print('started')", SECRET_KEY="changeme")
    assert result.returncode != 0
    assert "SECRET_KEY is too weak" in result.stderr


def test_development_makes_its_own_key():
    result = run_django(
        "from django.conf import settings; print(len(settings.SECRET_KEY))",
        DEBUG="true",
        TSCC_VAR_DIR="var/test/devkey",
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) >= 50


def test_check_deploy_is_clean_with_production_settings():
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "TSCC_TESTING"}}
    env.update(SECRET_KEY=STRONG_KEY, ALLOWED_HOSTS="tscc.example.com")
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_settings_read_database_and_redis_from_the_environment():
    code = (
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'], "
        "s.REDIS_URL, s.EMBEDDED_REDIS, s.CELERY_BROKER_URL)"
    )
    result = run_django(
        code,
        SECRET_KEY=STRONG_KEY,
        DATABASE_URL="postgres://ops:pw@db.internal:5432/tscc",
        REDIS_URL="redis://cache.internal:6379/3",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "tscc",
        "redis://cache.internal:6379/3",
        "False",
        "redis://cache.internal:6379/3",
    ]


@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode():
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL run")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("unix:///srv/tscc/var/redis/redis.sock", "redis+socket:///srv/tscc/var/redis/redis.sock"),
        ("unix:///tmp/r.sock?db=2", "redis+socket:///tmp/r.sock?virtual_host=2"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("rediss://:pw@host:6380/1", "rediss://:pw@host:6380/1"),
    ],
)
def test_kombu_redis_url(url, expected):
    assert kombu_redis_url(url) == expected


def test_embedded_default_uses_a_private_socket_when_no_redis_url():
    result = run_django(
        "from django.conf import settings as s; print(s.REDIS_URL, s.EMBEDDED_REDIS)",
        DEBUG="true",
        TSCC_VAR_DIR="var/test/devkey",
    )
    url, embedded = result.stdout.split()
    assert url.startswith("unix://") and url.endswith("var/test/devkey/redis/redis.sock")
    assert embedded == "True"


def test_behind_pgbouncer_turns_off_server_side_cursors():
    code = (
        "from django.conf import settings; "
        "print(settings.DATABASES['default']['DISABLE_SERVER_SIDE_CURSORS'])"
    )
    url = "postgres://tscc@127.0.0.1:6432/tscc"
    assert run_django(code, DEBUG="true", DATABASE_URL=url).stdout.strip() == "False"
    behind = run_django(code, DEBUG="true", DATABASE_URL=url, DB_BEHIND_PGBOUNCER="true")
    assert behind.stdout.strip() == "True", behind.stderr
