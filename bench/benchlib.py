"""Helpers shared by the benchmarks (imported after django.setup())."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import psycopg2
from django.core.management import call_command


def ensure_database(*, collectstatic: bool = False) -> None:
    """Create DATABASE_URL's PostgreSQL database if missing, then migrate
    (and collect static files for production settings' manifest)."""
    url = urlsplit(os.environ["DATABASE_URL"])
    name = url.path.lstrip("/")
    conn = psycopg2.connect(
        host=url.hostname,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        dbname="postgres",
    )
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    call_command("migrate", verbosity=0)
    if collectstatic:
        call_command("collectstatic", interactive=False, verbosity=0)
