"""`make run` end to end: the stack serves a page and a websocket, and Ctrl-C
stops every process it started. Runs `manage.py runstack` (what `make run`
calls) on the embedded default in a fresh folder."""

import http.cookiejar
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from websockets.sync.client import connect as ws_connect

from tscc.management.commands.seed_demo import DEMO_PASSWORD

ROOT = Path(settings.BASE_DIR)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children_of(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def stack():
    var = Path(tempfile.mkdtemp(prefix="tscc-run-"))
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "TSCC_TESTING", "SECRET_KEY", "REDIS_PREFIX"}
    }
    env.update(DEBUG="true", TSCC_VAR_DIR=str(var))
    log = open(var / "run.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "runstack", "--port", str(port)],  # noqa: S603
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, (var / "run.log").read_text()[-3000:]
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as r:  # noqa: S310
                if r.status == 200:
                    break
        except OSError:
            pass
        time.sleep(0.5)
    else:
        pytest.fail("the stack never became healthy:\n" + (var / "run.log").read_text()[-3000:])
    yield proc, base, var
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    log.close()


def test_make_run_serves_pages_and_a_websocket_and_stops_cleanly(stack):
    proc, base, var = stack
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{base}/login/").read()
    csrf = next(c.value for c in jar if c.name == "csrftoken")
    form = urllib.parse.urlencode(
        {"username": "manager", "password": DEMO_PASSWORD, "csrfmiddlewaretoken": csrf}
    ).encode()
    request = urllib.request.Request(  # noqa: S310
        f"{base}/login/", data=form, headers={"Referer": f"{base}/login/"}
    )
    home = opener.open(request).read().decode()
    assert "概览" in home  # the demo ops manager reads Chinese
    assert 'data-live-url="/ws/live/"' in home

    session = next(c.value for c in jar if c.name == "sessionid")
    ws_url = base.replace("http", "ws") + "/ws/live/"
    with ws_connect(
        ws_url,
        additional_headers={"Cookie": f"sessionid={session}", "Origin": base},
        open_timeout=10,
    ) as ws:
        ws.send(json.dumps({"type": "ping", "id": "make-run"}))
        assert json.loads(ws.recv(timeout=10)) == {"type": "pong", "id": "make-run"}

    started = children_of(proc.pid)
    assert len(started) >= 4, started  # redis, web, worker, beat
    os.kill(proc.pid, signal.SIGINT)  # what Ctrl-C sends
    proc.wait(timeout=60)
    assert proc.returncode == 0
    time.sleep(0.5)
    assert [pid for pid in started if alive(pid)] == []
    assert "every process it started has exited" in (var / "run.log").read_text()
