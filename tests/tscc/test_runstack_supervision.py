"""`make run`'s supervisor starts a process again when it exits (the Celery
worker can exit when Redis restarts), and gives up on one that keeps exiting."""

from __future__ import annotations

import sys
import threading
import time

from tscc.management.commands import runstack


def command():
    cmd = runstack.Command()
    cmd.children, cmd.argvs, cmd.stopping = [], {}, False
    return cmd


def test_a_process_that_exits_is_started_again(tmp_path):
    marker = tmp_path / "starts"
    # Each start appends a line, then the first two exit at once; later ones stay up.
    script = (
        "import sys, time, pathlib; p = pathlib.Path(sys.argv[1]); "
        "n = len(p.read_text().splitlines()) if p.exists() else 0; "
        "p.write_text(p.read_text() + 'x\\n' if p.exists() else 'x\\n'); "
        "sys.exit(1) if n < 2 else time.sleep(30)"
    )
    cmd = command()
    cmd._spawn("worker", [sys.executable, "-c", script, str(marker)])
    waiter = threading.Thread(target=cmd._wait, daemon=True)
    waiter.start()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if marker.exists() and len(marker.read_text().splitlines()) >= 3:
            break
        time.sleep(0.1)
    try:
        assert len(marker.read_text().splitlines()) == 3  # started, restarted twice, stays up
        assert waiter.is_alive()  # still supervising
        assert cmd.children[0][1].poll() is None
    finally:
        cmd.stopping = True
        waiter.join(5)
        for _name, proc in cmd.children:
            proc.kill()
            proc.wait()


def test_a_process_that_keeps_exiting_stops_everything(monkeypatch):
    monkeypatch.setattr(runstack, "RESTART_LIMIT", 3)
    cmd = command()
    cmd._spawn("beat", [sys.executable, "-c", "raise SystemExit(2)"])
    started = time.monotonic()
    cmd._wait()  # returns: given up
    assert time.monotonic() - started < 15
    assert cmd.children[0][1].wait(5) == 2
