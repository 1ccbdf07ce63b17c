"""Browser tests: Playwright drives the system Chromium against a real ASGI
server (uvicorn) running the project, with websockets and the Redis layer."""

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from django.conf import settings
from django.db import connections

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
CHROMIUM = next(
    (
        p
        for p in (shutil.which("chromium"), "/usr/bin/chromium", shutil.which("chromium-browser"))
        if p and Path(p).exists()
    ),
    None,
)


def pytest_collection_modifyitems(config, items):
    if CHROMIUM:
        return
    skip = pytest.mark.skip(reason="no system Chromium installed (.ci/run installs it)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def asgi_server(transactional_db):
    from tscc.asgi import application

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(
        application,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_level="warning",
        ws="websockets-sansio",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://localhost:{port}"
    server.should_exit = True
    thread.join(10)
    # The server's request threads keep their database connections between
    # requests (tscc/asgihandler.py): close them before the test database goes.
    from tscc.asgi import django_asgi_app

    django_asgi_app.close_connections()


@pytest.fixture
def browser(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the test's own
    # ORM calls are still synchronous (Django docs, "Async safety").
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()
        # ORM calls made while Playwright's loop runs get a connection of their
        # own (Django keys connections by context); close it here, in that
        # context, or the test database cannot be dropped at the end.
        connections.close_all()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1360, "height": 820}, locale="en-US")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def shot():
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page, name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    return take
