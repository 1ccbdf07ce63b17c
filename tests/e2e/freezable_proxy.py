"""A TCP proxy on loopback whose open connections can be frozen: bytes stop
flowing both ways but nothing is closed, like a Wi-Fi switch or a NAT that
forgot the connection. New connections after a freeze work normally."""

from __future__ import annotations

import contextlib
import socket
import threading


class FreezableProxy:
    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.connections: list[dict] = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            conn = {"sockets": (client, upstream), "frozen": threading.Event()}
            with self.lock:
                self.connections.append(conn)
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(conn, src, dst), daemon=True).start()

    def _pump(self, conn: dict, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if conn["frozen"].is_set():
                    continue  # swallowed: the other side never hears of it
                dst.sendall(data)
        except OSError:
            pass
        if not conn["frozen"].is_set():
            for s in conn["sockets"]:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def freeze_open_connections(self) -> int:
        with self.lock:
            for conn in self.connections:
                conn["frozen"].set()
            return len(self.connections)

    def close(self) -> None:
        self.closed = True
        with contextlib.suppress(OSError):
            self.listener.close()
        with self.lock:
            for conn in self.connections:
                for s in conn["sockets"]:
                    with contextlib.suppress(OSError):
                        s.close()
