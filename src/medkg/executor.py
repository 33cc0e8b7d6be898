"""Timed query execution in a child process, fresh builds without downtime, and a result cache.

pyoxigraph cannot cancel a query, so queries never run in the web worker. Each worker owns
one child process (``python -m medkg.executor``) holding the current build in memory; the
worker sends it a :class:`Job` over a socket and waits at most ``timeout`` seconds. A child
past its time is killed (SIGKILL: no core left burning) and a fresh one started at once; the
client gets :class:`~medkg.errors.QueryTimeout` (503). A child also dies with its worker
(PR_SET_PDEATHSIG on Linux).

New builds: at most every ``check_interval`` seconds the worker reads the ``<store>/current``
symlink. When it points elsewhere, a second child loads the new build in the background
while the old one keeps answering; once the new child reports ready it takes over between
two requests and the old one is stopped. ``current`` only ever names complete builds, so a
half-built or failed build is never served.
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

from .errors import (EndpointUnavailable, MedkgError, QueryError, QuerySyntaxError,
                     QueryTimeout, StoreNotBuilt)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    query: str
    format_key: str | None
    default_graphs: tuple[str, ...] | None = None  # None: as the query (FROM) or the store says
    named_graphs: tuple[str, ...] | None = None
    union_default_graph: bool = False
    base_iri: str | None = None  # relative IRIs in the query resolve against it
    #: (variable name, pyoxigraph term) pairs bound by pyoxigraph ``substitutions``: the typed
    #: parameters of a named query (medkg.queries.bind), never pasted into the query text
    substitutions: tuple[tuple[str, object], ...] = ()
    max_rows: int = 10_000
    max_bytes: int = 32 * 1024 * 1024


@dataclass(frozen=True)
class Answer:
    body: bytes
    format_key: str
    rows: int
    truncated: bool
    build_id: str
    seconds: float


@dataclass
class _Child:
    proc: subprocess.Popen
    conn: Connection
    target: str  # what <store>/current pointed at when the child was started
    ready: bool = False
    build: dict = field(default_factory=dict)

    def stop(self) -> None:
        try:
            self.conn.close()
        except OSError:
            pass
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def _read_current(store_dir: Path) -> str | None:
    try:
        return os.readlink(Path(store_dir) / "current")
    except OSError:
        return None


class Executor:
    """Runs jobs in a child process with a time limit; follows ``<store>/current``."""

    def __init__(self, store_dir: Path, *, timeout: float = 30.0, check_interval: float = 0.5,
                 startup_timeout: float = 600.0):
        self.store_dir = Path(store_dir).resolve()
        self.timeout = timeout
        self.check_interval = check_interval
        self.startup_timeout = startup_timeout
        self._lock = threading.Lock()
        self._active: _Child | None = None
        self._pending: _Child | None = None
        self._last_check = 0.0
        self._switched = threading.Event()

    # -- child lifecycle ------------------------------------------------------------------

    def _spawn(self) -> _Child:
        target = _read_current(self.store_dir)
        if target is None:
            raise StoreNotBuilt(self.store_dir)
        ours, theirs = socket.socketpair()
        cmd = [sys.executable, "-m", "medkg.executor", "--fd", str(theirs.fileno()),
               "--store", str(self.store_dir), "--parent", str(os.getpid())]
        proc = subprocess.Popen(cmd, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL)
        theirs.close()
        return _Child(proc=proc, conn=Connection(ours.detach()), target=target)

    def _take_ready(self, child: _Child, wait: float) -> bool:
        """Read the child's ready/error message if it came within ``wait`` seconds."""
        if child.ready:
            return True
        if not child.conn.poll(wait):
            return False
        try:
            status, payload = child.conn.recv()
        except (EOFError, OSError):
            status, payload = "error", "the executor process exited while loading the store"
        if status != "ready":
            child.stop()
            raise EndpointUnavailable(f"cannot load the store: {payload}")
        child.ready, child.build = True, payload
        return True

    def _follow_current(self) -> None:
        now = time.monotonic()
        if now - self._last_check < self.check_interval:
            return
        self._last_check = now
        target = _read_current(self.store_dir)
        if target is None or self._active is None or target == self._active.target:
            return
        if self._pending is None or self._pending.target != target:
            if self._pending is not None:
                self._pending.stop()
            log.info("store %s: new build %s, loading it beside the old one", self.store_dir,
                     target)
            self._pending = self._spawn()

    def _promote_pending(self) -> None:
        pending = self._pending
        if pending is None:
            return
        try:
            if not self._take_ready(pending, 0):
                return
        except EndpointUnavailable as exc:
            log.warning("new build not loaded, staying on the old one: %s", exc)
            self._pending = None
            return
        old, self._active, self._pending = self._active, pending, None
        if old is not None:
            old.stop()
        log.info("now serving build %s", pending.build.get("build_id"))
        self._switched.set()

    def _ready_child(self) -> _Child:
        if self._active is None:
            self._active = self._spawn()
            self._last_check = time.monotonic()
        self._follow_current()
        self._promote_pending()
        child = self._active
        try:
            ready = self._take_ready(child, self.startup_timeout)
        except EndpointUnavailable:
            self._active = None
            raise
        if not ready:
            child.stop()
            self._active = None
            raise EndpointUnavailable("the store took too long to load")
        return child

    def _restart(self) -> None:
        if self._active is not None:
            self._active.stop()
        self._active = None
        try:
            self._active = self._spawn()  # loads in the background while we answer
        except MedkgError as exc:
            log.warning("cannot restart the executor: %s", exc)

    # -- public ---------------------------------------------------------------------------

    def launch(self) -> None:
        """Start the child without waiting for it to load the store (``start`` waits)."""
        with self._lock:
            if self._active is None:
                self._active = self._spawn()
                self._last_check = time.monotonic()

    def start(self) -> dict:
        """Start the child and wait until it holds the store; returns the build info."""
        return self.build()

    def build(self) -> dict:
        """The build now served (``build_id``, ``triples``, ``built_at`` ...)."""
        with self._lock:
            return dict(self._ready_child().build)

    def run(self, job: Job, timeout: float | None = None) -> Answer:
        limit = self.timeout if timeout is None else timeout
        with self._lock:
            child = self._ready_child()
            started = time.monotonic()
            try:
                child.conn.send(job)
                if not child.conn.poll(limit):
                    self._restart()
                    raise QueryTimeout(
                        f"the query ran past the {limit:g} s time limit and was stopped; "
                        "narrow it (LIMIT, more specific patterns) and retry")
                status, payload = child.conn.recv()
            except (EOFError, OSError) as exc:
                self._restart()
                raise EndpointUnavailable(f"the query executor failed ({exc}); retry") from None
        seconds = time.monotonic() - started
        if status == "ok":
            return Answer(body=payload["body"], format_key=payload["format_key"],
                          rows=payload["rows"], truncated=payload["truncated"],
                          build_id=child.build.get("build_id", ""), seconds=seconds)
        if status == "syntax":
            raise QuerySyntaxError(payload["message"], payload.get("line"),
                                   payload.get("column"))
        if status == "medkg":
            exc = MedkgError(payload["message"])
            exc.status = payload["status"]
            raise exc
        raise QueryError(f"query evaluation failed: {payload['message']}")

    def follow(self) -> None:
        """If idle and running, start loading a new build beside the old one (never blocks)."""
        if not self._lock.acquire(blocking=False):
            return
        try:
            if self._active is not None:
                self._follow_current()
                self._promote_pending()
        finally:
            self._lock.release()

    def wait_for_switch(self, timeout: float) -> bool:
        """For tests: block until a new build has taken over (or ``timeout`` passes)."""
        return self._switched.wait(timeout)

    def close(self) -> None:
        with self._lock:
            for child in (self._active, self._pending):
                if child is not None:
                    child.stop()
            self._active = self._pending = None


class ResultCache:
    """An LRU of serialized answers, bounded in entries and bytes; keys include the build id."""

    def __init__(self, max_entries: int = 4096, max_bytes: int = 64 * 1024 * 1024,
                 max_entry_bytes: int = 4 * 1024 * 1024):
        self.max_entries, self.max_bytes, self.max_entry_bytes = (
            max_entries, max_bytes, max_entry_bytes)
        self._items: OrderedDict[tuple, Answer] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: tuple) -> Answer | None:
        with self._lock:
            answer = self._items.get(key)
            if answer is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return answer

    def put(self, key: tuple, answer: Answer) -> None:
        size = len(answer.body)
        if size > self.max_entry_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._items[key] = answer
            self._bytes += size
            while self._items and (len(self._items) > self.max_entries
                                   or self._bytes > self.max_bytes):
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped.body)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)


# -- the child process -------------------------------------------------------------------------


def _die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        os._exit(0)


def _syntax_payload(exc: SyntaxError) -> dict:
    import re

    message = str(exc)
    where = re.search(r"at (\d+):(\d+)", message)
    line, column = (int(where.group(1)), int(where.group(2))) if where else (None, None)
    return {"message": f"query syntax error: {message}", "line": line, "column": column}


def _execute(store, job: Job) -> dict:
    import pyoxigraph as ox

    from .results import serialize

    options: dict = {"base_iri": job.base_iri}
    if job.default_graphs is not None or job.named_graphs is not None:
        options["default_graph"] = [ox.NamedNode(g) for g in job.default_graphs or ()]
        options["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs or ()]
    elif job.union_default_graph:
        options["use_default_graph_as_union"] = True
    if job.substitutions:
        options["substitutions"] = {ox.Variable(name): term for name, term in job.substitutions}
    result = store.query(job.query, **options)
    out = serialize(result, job.format_key, max_rows=job.max_rows, max_bytes=job.max_bytes)
    return {"body": out.body, "format_key": out.format_key, "rows": out.rows,
            "truncated": out.truncated}


def child_main(fd: int, store_dir: Path, parent: int) -> None:
    _die_with_parent(parent)
    conn = Connection(fd)
    try:
        from .store import open_in_memory

        store, build = open_in_memory(store_dir)
        info = dict(build.info)
        info.update(build_id=build.build_id, triples=int(info.get("triples") or len(store)))
        conn.send(("ready", info))
    except Exception as exc:  # noqa: BLE001 - reported to the worker, which decides
        conn.send(("error", str(exc)))
        return
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply = ("ok", _execute(store, job))
        except SyntaxError as exc:
            reply = ("syntax", _syntax_payload(exc))
        except MedkgError as exc:
            reply = ("medkg", {"message": exc.message, "status": exc.status})
        except Exception as exc:  # noqa: BLE001 - evaluation errors go back as a 400
            reply = ("error", {"message": str(exc) or type(exc).__name__})
        conn.send(reply)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="medkg query executor (started by the server)")
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--parent", type=int, required=True)
    args = parser.parse_args()
    child_main(args.fd, args.store, args.parent)
