"""A real HTTP server on loopback that records what TSCC sends it: the
robots' and webhooks' wire formats are checked against it, and the
guarantee tests hold its first request open to kill a worker mid-call."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from django.utils import timezone

# Where each channel's robot or endpoint lives on the sink.
PATHS = {
    "webhook": "/webhook",
    "feishu": "/open-apis/bot/v2/hook/abc",
    "dingtalk": "/robot/send?access_token=tok",
    "wecom": "/cgi-bin/webhook/send?key=k1",
    "slack": "/services/T0/B0/xyz",
}


class Sink:
    """Records every POST (method, path with query, headers, raw body, the
    body as JSON when it is, arrival time) and answers `status`. With
    `hold_first`, the first request gets no answer until `release()`."""

    def __init__(self, status: int = 200, *, hold_first: bool = False):
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.first_arrived = threading.Event()
        self.released = threading.Event()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    parsed = json.loads(body or b"{}")
                except ValueError:
                    parsed = None
                with sink.lock:
                    number = len(sink.requests)
                    sink.requests.append(
                        {
                            "method": self.command,
                            "path": self.path,
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                            "body": body,
                            "json": parsed,
                            "at": timezone.now(),
                        }
                    )
                sink.first_arrived.set()
                if number == 0 and hold_first:
                    sink.released.wait(60)
                    return  # no answer: the caller was killed meanwhile
                reply = json.dumps({"ok": status < 300}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # a held request's client is gone: nothing to report

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def to(self, path: str) -> list[dict[str, Any]]:
        """The requests to `path` (its query string aside), in arrival order."""
        want = urlsplit(path).path
        with self.lock:
            return [r for r in self.requests if urlsplit(r["path"]).path == want]

    def release(self) -> None:
        self.released.set()

    def close(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def __enter__(self) -> Sink:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
