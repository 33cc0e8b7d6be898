"""A pool of query executors for one threaded web worker: each thread gets a process of its own.

``medkg serve`` runs gunicorn workers with ``threads`` request threads each (keep-alive
connections stay open between requests). One :class:`~medkg.executor.Executor` (one child
process, one private in-memory copy of the build) per thread: a request takes a free executor,
runs its job there and gives it back, so a query running past its time limit holds one thread
and one process while the others keep answering. The server's worker accepts a connection only
while it has a free thread (:mod:`medkg.server`), so a pool never has more requests than
executors; a caller that finds none free waits for one.

Executors are taken last-in first-out (the warmest one first). Each one follows
``<store>/current`` when used; at most every ``check_interval`` seconds the pool also nudges
its idle executors, so one unused for a while starts loading a new build without waiting for
a request.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from .executor import Answer, Executor, Job


class ExecutorPool:
    """``size`` executors with the :class:`~medkg.executor.Executor` interface."""

    def __init__(self, store_dir: Path, *, size: int, timeout: float = 30.0,
                 check_interval: float = 0.5):
        self.members = [Executor(store_dir, timeout=timeout, check_interval=check_interval)
                        for _ in range(max(1, size))]
        self.store_dir = self.members[0].store_dir
        self.timeout = timeout
        self.check_interval = check_interval
        self._free = list(self.members)
        self._cond = threading.Condition()
        self._last_nudge = time.monotonic()

    def _take(self) -> Executor:
        with self._cond:
            while not self._free:
                self._cond.wait()
            member = self._free.pop()
            now = time.monotonic()
            idle = ()
            if now - self._last_nudge >= self.check_interval:
                self._last_nudge, idle = now, tuple(self._free)
        for other in idle:  # outside the pool's lock; follow() never blocks
            other.follow()
        return member

    def _give_back(self, member: Executor) -> None:
        with self._cond:
            self._free.append(member)
            self._cond.notify()

    def start(self) -> dict:
        """Start every executor (their stores load in parallel); returns the build info.

        Children are started from this thread, not from helper threads: a child dies with the
        thread that started it (PR_SET_PDEATHSIG), so that must be one that lives on.
        """
        for member in self.members:
            member.launch()
        return [member.start() for member in self.members][0]

    def build(self) -> dict:
        member = self._take()
        try:
            return member.build()
        finally:
            self._give_back(member)

    def run(self, job: Job, timeout: float | None = None) -> Answer:
        member = self._take()
        try:
            return member.run(job, timeout)
        finally:
            self._give_back(member)

    def wait_for_switch(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        return all(member.wait_for_switch(max(0.0, deadline - time.monotonic()))
                   for member in self.members)

    def close(self) -> None:
        for member in self.members:
            member.close()
