"""Drains the inbox: each verified request handed to its platform's listener, on a few threads, promptly.

The HTTP thread only writes the request to the inbox and acks, so Slack's 3-second budget is spent on one
short INSERT. `wake()` (called right after that INSERT) starts the work at once; a slow poll catches what
another process wrote or a crash left behind.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from bot.http_server import Traffic
from scheduling.clock import Clock
from scheduling.tick import worker_id
from storage import inbox
from storage.database import Database

log = logging.getLogger(__name__)

Handler = Callable[[str, dict[str, Any]], None]
LEASE = timedelta(minutes=2)
POLL_SECONDS = 1.0
RETRY = timedelta(seconds=5)
PATIENCE = 0.5  # seconds a turn waits for a quiet moment between requests before it runs anyway


class Drain:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        handlers: dict[str, Handler],
        threads: int = 4,
        traffic: Traffic | None = None,
    ) -> None:
        self.db = db
        self.traffic = traffic  # this process's HTTP requests: a turn waits for a gap between them
        self.clock = clock
        self.handlers = handlers
        self.threads = max(threads, 1)
        self.worker = worker_id()
        self._wake = threading.Event()
        self._slots = threading.Semaphore(self.threads)
        self._pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="inbox")
        self._overtime = threading.Lock()  # held by the one turn let run beside requests that leave no gap
        self._gate = threading.Lock()  # held by the one thread watching for a gap between requests

    def wake(self) -> None:
        self._wake.set()

    def drain(self) -> int:
        """Claim what is ready and hand it to free threads; returns how many items were started."""
        free = 0
        while self._slots.acquire(blocking=False):
            free += 1
        if free == 0:
            return 0
        try:
            items = inbox.claim(self.db, self.worker, self.clock.now(), LEASE, free)
        except Exception:
            log.exception("could not claim inbox items; trying again shortly")
            items = []
        for _ in range(free - len(items)):
            self._slots.release()
        for item in items:
            self._pool.submit(self._handle, item)
        return len(items)

    def drain_all(self, timeout: float = 30.0) -> None:
        """Handle everything pending now and wait for it (for `worker --once` and tests)."""
        deadline = time.monotonic() + timeout
        while inbox.pending(self.db) and time.monotonic() < deadline:
            started = self.drain()
            if not started:
                self._wake.wait(0.05)
                self._wake.clear()
        self._pool.shutdown(wait=True)
        self._pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="inbox")

    def run(self, stop: threading.Event) -> None:
        """Until `stop`: drain whenever woken, and at least every POLL_SECONDS."""
        while not stop.is_set():
            self._wake.clear()
            if self.traffic is not None:
                with self._gate:  # claiming is a write to the inbox, beside the acks' writes
                    self.traffic.wait_quiet(PATIENCE)
            self.drain()
            self._wake.wait(POLL_SECONDS)
        self._pool.shutdown(wait=True)

    def start(self) -> threading.Event:
        """Run in a background thread; set the returned event to stop."""
        stop = threading.Event()
        threading.Thread(target=self.run, args=(stop,), name="inbox-drain", daemon=True).start()
        return stop

    @contextmanager
    def _yield_to_requests(self) -> Iterator[None]:
        """Acks first: a turn can wait a moment in the inbox, Slack's 3-second ack cannot (see `Traffic`).

        A turn starts in a gap between requests, as many at once as there are threads (a turn waiting on the Web
        API costs the requests nothing). When requests leave no gap for PATIENCE, turns go one at a time, each
        after its own wait, so a saturating load slows the drain down instead of the acks; the kept items wait
        in the inbox, durable, and the drain catches up in the first lull. One thread at a time watches for the
        gap (`_gate`), the others sleep on the lock, so waiting turns cost the request threads no GIL.
        """
        if self.traffic is None:
            yield
            return
        with self._gate:
            quiet = self.traffic.wait_quiet(PATIENCE)
        if quiet:
            yield
            return
        with self._overtime:
            yield

    def _handle(self, item: inbox.Claimed) -> None:
        try:
            with self._yield_to_requests():
                self._run_item(item)
        finally:
            self._slots.release()
            self._wake.set()  # a finished item may unblock the next one of its conversation

    def _run_item(self, item: inbox.Claimed) -> None:
        try:
            handler = self.handlers.get(item.platform)
            if handler is None:
                log.warning("inbox item %s is for %s, which this process does not serve", item.id, item.platform)
                inbox.release(self.db, item.id, self.clock.now() + LEASE)
                return
            handler(item.kind, item.body)
            inbox.finish(self.db, item.id, self.clock.now())
        except Exception:
            give_up = item.attempts >= inbox.MAX_ATTEMPTS
            log.exception(
                "inbox item %s (%s %s) failed on attempt %s%s",
                item.id,
                item.platform,
                item.kind,
                item.attempts,
                "; giving up" if give_up else "",
            )
            try:
                if give_up:
                    inbox.finish(self.db, item.id, self.clock.now(), failed=True)
                else:
                    inbox.release(self.db, item.id, self.clock.now() + RETRY * item.attempts)
            except Exception:
                log.exception("could not record the outcome of inbox item %s", item.id)
