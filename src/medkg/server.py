"""Run the endpoint under gunicorn: ``serve(store_dir, host=..., port=..., workers=...)``.

The listening socket is bound here, before gunicorn starts, so ``port=0`` picks a free port
whose URL is printed (``medkg serving http://127.0.0.1:PORT/sparql``) and usable at once.
Workers are threaded (:class:`FreeThreadWorker`, ``threads`` request threads each, HTTP
keep-alive) and each owns a pool of as many query processes as it has threads
(:mod:`medkg.pool`), started right after it forks and stopped when it exits. A worker accepts
a connection only while one of its threads is free, and when all are busy it closes its idle
kept-alive connections (their clients reconnect to another worker), so a runaway query holds
one thread and one process while every other request is answered without waiting for it.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterable
from pathlib import Path

from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import ThreadWorker

from .paths import is_remote
from .store import current_build
from .web import create_app

log = logging.getLogger(__name__)


class _Gunicorn(BaseApplication):
    def __init__(self, app, options: dict):
        self._app, self._options = app, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self):
        return self._app


class FreeThreadWorker(ThreadWorker):
    """gunicorn's threaded worker, taking a connection only while one of its threads is free.

    gunicorn's own ``gthread`` worker accepts connections up to ``worker_connections`` and
    queues their requests behind busy threads: a quick request could wait for a runaway query.
    Here ``busy`` counts requests handed to the thread pool (all bookkeeping runs on the
    worker's main thread); at ``threads`` busy the listener is dropped from the poller, so new
    connections go to another worker, and idle kept-alive connections are closed (a client
    reconnects, to a worker with a free thread). A kept-alive connection whose next request
    has already arrived is kept and served by the first thread to free up.
    Relies on gunicorn 27's gthread internals (pinned in pyproject.toml).
    """

    busy = 0
    #: after the worker was last full, answers close their connection for this long
    PRESSURE_SECONDS = 1.0
    _pressure_until = 0.0
    _normal_max_keepalived: int | None = None

    def _full(self) -> bool:
        return self.busy >= self.cfg.threads

    def _set_pressure(self, on: bool) -> None:
        """Under pressure every answer closes its connection (gunicorn closes once its
        keep-alive slots are used up: here there are none), so clients queue again in the
        kernel's accept backlog, first come first served. Kept-alive clients would otherwise
        be served ahead of new connections indefinitely, and those starved (60 s and more
        with 50 clients and the caches off)."""
        if self._normal_max_keepalived is None:
            self._normal_max_keepalived = self.max_keepalived
        if on:
            self._pressure_until = time.monotonic() + self.PRESSURE_SECONDS
            self.max_keepalived = 0
        elif time.monotonic() > self._pressure_until:
            self.max_keepalived = self._normal_max_keepalived

    def set_accept_enabled(self, enabled):
        super().set_accept_enabled(enabled and not self._full())

    def enqueue_req(self, conn):
        self.busy += 1
        if self._full():
            self.set_accept_enabled(False)
            self._close_idle_keepalived()
            self._set_pressure(True)
        super().enqueue_req(conn)

    def finish_request(self, conn, fs):
        self.busy -= 1
        super().finish_request(conn, fs)
        if not self._full() and self.alive:
            self.set_accept_enabled(True)
            self._set_pressure(False)

    def on_client_socket_readable(self, conn, client):
        # a connection closed by _close_idle_keepalived earlier in the same poll round can
        # still have its event in that round: it is gone, there is nothing to read
        if client.fileno() < 0 or conn not in self.keepalived_conns:
            return
        super().on_client_socket_readable(conn, client)

    def _close_idle_keepalived(self) -> None:
        for conn in list(self.keepalived_conns):
            try:
                waiting = conn.sock.recv(1, socket.MSG_PEEK)
            except BlockingIOError:
                waiting = None  # idle: nothing sent yet
            except OSError:
                waiting = b""
            if waiting:
                continue  # its request is here: served by the next free thread
            self.keepalived_conns.remove(conn)
            try:
                self.poller.unregister(conn.sock)
            except (OSError, KeyError, ValueError):
                pass
            self.nr_conns -= 1
            conn.close()


def url_for(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def serve(store_dir: Path | str, *, host: str = "127.0.0.1", port: int = 8000, workers: int = 2,
          threads: int = 2, keepalive: int = 5, timeout: float = 30.0, max_rows: int = 10_000,
          max_result_bytes: int = 32 * 1024 * 1024, max_query_length: int = 64 * 1024,
          max_body: int = 1024 * 1024, cache: bool = True, allow_service: Iterable[str] = (),
          union_default_graph: bool = False, check_interval: float = 0.5,
          access_log: bool = False, log_level: str = "info") -> None:
    """Serve ``store_dir`` until interrupted (blocking). Prints the URL once listening.

    ``workers`` processes with ``threads`` request threads and as many query processes each;
    ``keepalive``: seconds an idle connection is kept open (0: close after every answer).

    Raises StoreNotBuilt if the store has no current build.
    """
    store_dir = store_dir if is_remote(store_dir) else Path(store_dir).resolve()
    current_build(store_dir)  # fail before binding if there is nothing to serve
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=2048)
    sock.set_inheritable(True)
    bound_port = sock.getsockname()[1]
    app = create_app(store_dir, timeout=timeout, max_rows=max_rows,
                     max_result_bytes=max_result_bytes, max_query_length=max_query_length,
                     max_body=max_body, cache=cache, allow_service=tuple(allow_service),
                     union_default_graph=union_default_graph, check_interval=check_interval,
                     processes=max(1, int(threads)))
    executor = app.extensions["medkg"].executor

    def post_worker_init(worker) -> None:
        try:
            executor.start()
        except Exception as exc:  # noqa: BLE001 - requests will report it with a status
            worker.log.error("query executor not started: %s", exc)

    def worker_exit(server, worker) -> None:
        executor.close()

    options = {
        "bind": [f"fd://{sock.fileno()}"],
        "workers": max(1, int(workers)),
        "worker_class": FreeThreadWorker,
        "threads": max(1, int(threads)),
        "keepalive": max(0, int(keepalive)),
        # gunicorn kills a worker silent this long; queries are stopped well before
        "timeout": int(max(timeout * 2 + 60, 120)),
        "graceful_timeout": int(timeout + 5),
        "limit_request_line": 8190,
        "accesslog": "-" if access_log else None,
        "errorlog": "-",
        "loglevel": log_level,
        "post_worker_init": post_worker_init,
        "worker_exit": worker_exit,
        "proc_name": "medkg-serve",
        "control_socket_disable": True,
    }
    url = url_for(host, bound_port)
    print(f"medkg serving {url}/sparql", flush=True)  # noqa: T201 - the CLI contract
    _Gunicorn(app, options).run()
