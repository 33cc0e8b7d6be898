"""The executor for an external SPARQL engine: the same interface as :class:`medkg.executor.Executor`.

``create_app("http://...")`` uses this instead of the child-process executor. A job is sent to
the engine (:class:`medkg.remote.RemoteStore`) with the current build's graph as its default
graph, within an HTTP time limit, and the streamed answer is serialized by
:mod:`medkg.results` under the same row and byte limits as the embedded store. The pointer
graph is read at most every ``check_interval`` seconds; when it names another graph the next
job uses it (a job already sent finishes on the old graph, which the build keeps). Errors:
engine unreachable or failing 502, past the time limit 504, no build 503.
"""

from __future__ import annotations

import logging
import threading
import time

from .errors import EngineError, EngineTimeout, StoreNotBuilt
from .executor import Answer, Job
from .remote import Current, RemoteStore
from .results import serialize

log = logging.getLogger(__name__)


class RemoteExecutor:
    """Runs jobs on a remote engine; follows its pointer graph."""

    def __init__(self, url: str, *, timeout: float = 30.0, check_interval: float = 0.5):
        self.store_dir = url  # what the caches key by (as Executor.store_dir)
        self.remote = RemoteStore.from_url(url, timeout=timeout)
        self.timeout = timeout
        self.check_interval = check_interval
        self._lock = threading.Lock()
        self._current: Current | None = None
        self._last_check = 0.0
        self._switched = threading.Event()

    def _follow(self) -> Current:
        with self._lock:
            now = time.monotonic()
            if self._current is not None and now - self._last_check < self.check_interval:
                return self._current
            try:
                current = self.remote.current()
            except (EngineError, EngineTimeout, StoreNotBuilt):
                self._current = None  # nothing stale is claimed while the engine is away
                raise
            self._last_check = now
            if self._current is not None and current.graph != self._current.graph:
                log.info("engine %s: now serving %s", self.remote, current.graph)
                self._switched.set()
            self._current = current
            return current

    def start(self) -> dict:
        return self.build()

    def launch(self) -> None:
        """Nothing to start ahead: the engine is already running (Executor interface)."""

    def follow(self) -> None:
        """The pointer is read on use, at most every ``check_interval`` (Executor interface)."""

    def build(self) -> dict:
        return self._follow().info()

    def run(self, job: Job, timeout: float | None = None) -> Answer:
        limit = self.timeout if timeout is None else timeout
        current = self._follow()
        started = time.monotonic()
        dataset = job.default_graphs is not None or job.named_graphs is not None
        # a query past the deadline while reading is EngineTimeout (504)
        out = self.remote.query(
            job.query, default_graphs=job.default_graphs if dataset else (current.graph,),
            named_graphs=job.named_graphs if dataset else None,
            substitutions=dict(job.substitutions) or None, base_iri=job.base_iri, timeout=limit,
            max_bytes=2 * job.max_bytes + (1 << 20),
            consume=lambda result: serialize(result, job.format_key, max_rows=job.max_rows,
                                             max_bytes=job.max_bytes))
        return Answer(body=out.body, format_key=out.format_key, rows=out.rows,
                      truncated=out.truncated, build_id=current.build_id,
                      seconds=time.monotonic() - started)

    def wait_for_switch(self, timeout: float) -> bool:
        return self._switched.wait(timeout)

    def close(self) -> None:
        """Nothing to stop: connections close with the process."""

