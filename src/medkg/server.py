"""Run the endpoint under gunicorn: ``serve(store_dir, host=..., port=..., workers=...)``.

The listening socket is bound here, before gunicorn starts, so ``port=0`` picks a free port
whose URL is printed (``medkg serving http://127.0.0.1:PORT/sparql``) and usable at once.
Workers are gunicorn's ``sync`` workers: a worker busy with a long query accepts no new
connection, so the others serve meanwhile. Each worker starts its query executor (a child
process holding the build in memory) right after it forks, and stops it when it exits.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterable
from pathlib import Path

from gunicorn.app.base import BaseApplication

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


def url_for(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def serve(store_dir: Path | str, *, host: str = "127.0.0.1", port: int = 8000, workers: int = 2,
          timeout: float = 30.0, max_rows: int = 10_000,
          max_result_bytes: int = 32 * 1024 * 1024, max_query_length: int = 64 * 1024,
          max_body: int = 1024 * 1024, cache: bool = True, allow_service: Iterable[str] = (),
          union_default_graph: bool = False, check_interval: float = 0.5,
          access_log: bool = False, log_level: str = "info") -> None:
    """Serve ``store_dir`` until interrupted (blocking). Prints the URL once listening.

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
                     union_default_graph=union_default_graph, check_interval=check_interval)
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
        "worker_class": "sync",
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
