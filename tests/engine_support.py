"""Helpers for the remote-store tests: an Oxigraph server on a free port, a faulty TCP relay.

``oxigraph_server(tmp)`` starts ``oxigraph serve --location tmp --bind 127.0.0.1:PORT`` (the
``oxigraph`` command of the PyPI package of that name), waits until it answers and stops it
at the end. :class:`Relay` sits between medkg and the engine and can pass traffic, refuse it
(engine down: connections closed at once) or hang (engine slow: nothing ever answered).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def oxigraph_command() -> str:
    found = shutil.which("oxigraph")
    if found is None:
        if os.environ.get("CI"):
            raise AssertionError("the oxigraph server (pip install oxigraph) is required under CI")
        pytest.skip("the `oxigraph` server command (pip install oxigraph) is not installed")
    return found


def wait_ready(url: str, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    probe = url + "?query=ASK%7B%7D"
    while True:
        try:
            with urllib.request.urlopen(probe, timeout=5) as response:
                response.read()
            return
        except OSError:
            if proc is not None and proc.poll() is not None:
                raise AssertionError(f"the engine exited with {proc.returncode}") from None
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@contextmanager
def oxigraph_server(location: Path, *, port: int | None = None, timeout_s: int = 30):
    """Yield the query URL (http://127.0.0.1:PORT/query) of a fresh Oxigraph server."""
    port = port or free_port()
    proc = subprocess.Popen([oxigraph_command(), "serve", "--location", str(location), "--bind",
                             f"127.0.0.1:{port}", "--timeout-s", str(timeout_s)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}/query"
    try:
        wait_ready(url, proc=proc)
        yield url
    finally:
        stop(proc)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Relay:
    """A TCP relay on a free loopback port to ``target``; ``mode``: pass, refuse or hang."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.mode = "pass"
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._stopped = threading.Event()
        self._held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str = "/query") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if self.mode == "refuse":
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                client.close()  # a reset: the engine is down
            elif self.mode == "hang":
                self._held.append(client)  # read nothing, answer nothing: the engine is stuck
            else:
                threading.Thread(target=self._pipe_pair, args=(client,), daemon=True).start()

    def _pipe_pair(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
        except OSError:
            client.close()
            return
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while not self._stopped.is_set():
                if self.mode != "pass":  # a switch cuts connections already open
                    break
                source.settimeout(0.2)
                try:
                    data = source.recv(65536)
                except socket.timeout:
                    continue
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.close()
                except OSError:
                    pass

    def close(self) -> None:
        self._stopped.set()
        self._server.close()
        for held in self._held:
            held.close()
