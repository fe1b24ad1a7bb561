"""A pace for calls to a rate-limited service, learnt from its 429s; shared by every thread that calls it.

Slack publishes its limits only roughly (they differ by method and workspace), so the pacer starts unpaced. On a
429 it pauses every caller for the Retry-After the service asked for, and sets its pace to what the service
actually accepted over the cycle since the previous 429 (when that cycle saw enough calls to tell; otherwise it
only pauses, or halves a pace it had). The cycle includes the pause, so a burst allowance spent
at the start does not inflate the estimate. While no 429 comes it raises the pace a little every few seconds, so
a limit that went up (or an estimate that came out low) is found again.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class Pacer:
    def __init__(
        self,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        margin: float = 0.97,
        probe_every: float = 1.0,
        probe_step: float = 1.02,
        min_rate: float = 0.2,
        min_sample: int = 10,
    ) -> None:
        self._monotonic = monotonic
        self._sleep = sleep
        self.margin = margin
        self.probe_every = probe_every
        self.probe_step = probe_step
        self.min_rate = min_rate
        self.min_sample = min_sample
        self.rate: float | None = None  # calls per second; None until the service first says "too many"
        self.limited_count = 0
        self._lock = threading.Lock()
        self._next_slot = 0.0
        self._paused_until = 0.0
        self._learn_after = -math.inf  # 429s before this instant belong to a burst already learnt from
        self._cycle_start: float | None = None
        self._accepted = 0
        self._last_probe = 0.0

    def acquire(self) -> None:
        """Wait for this caller's turn: after any pause, and one slot of the learnt pace after the previous call."""
        while True:
            with self._lock:
                now = self._monotonic()
                if self._cycle_start is None:
                    self._cycle_start = self._last_probe = now
                self._probe(now)
                slot = max(now, self._paused_until, self._next_slot if self.rate else now)
                if self.rate:
                    self._next_slot = slot + 1.0 / self.rate
            if slot > now:
                self._sleep(slot - now)
            with self._lock:
                if self._paused_until <= self._monotonic() + 1e-3:
                    return
            # a 429 paused everyone while this caller slept: queue again behind the pause

    def succeeded(self) -> None:
        with self._lock:
            self._accepted += 1

    def limited(self, retry_after: float) -> None:
        """The service said "too many": everyone waits `retry_after`, and the pace becomes what it accepted."""
        with self._lock:
            now = self._monotonic()
            self.limited_count += 1
            self._paused_until = max(self._paused_until, now + max(retry_after, 0.0))
            self._next_slot = max(self._next_slot, self._paused_until)
            if now < self._learn_after:
                return  # calls already in flight when the first 429 came back: same burst, nothing new
            start = self._cycle_start if self._cycle_start is not None else now
            if self._accepted >= self.min_sample:
                self.rate = max(self.min_rate, self._accepted / max(now - start, 1.0) * self.margin)
            elif self.rate:
                self.rate = max(self.min_rate, self.rate / 2)  # too few calls to measure: back off instead
            self._accepted = 0
            self._cycle_start = now
            self._learn_after = self._last_probe = self._paused_until

    def _probe(self, now: float) -> None:
        if self.rate and now >= self._paused_until and now - self._last_probe >= self.probe_every:
            self.rate *= self.probe_step
            self._last_probe = now
