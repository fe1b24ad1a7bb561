"""The pacer learns a service's rate from its 429s and pauses every caller for Retry-After (virtual time)."""

from __future__ import annotations

import math

from scheduling.pacing import Pacer


class VirtualTime:
    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)


class Bucket:
    """A service allowing `rate` calls per second with a burst of one second's worth; 429 + Retry-After above."""

    def __init__(self, clock: VirtualTime, rate: float) -> None:
        self.clock, self.rate, self.tokens, self.at = clock, rate, rate, 0.0

    def call(self) -> float | None:
        self.tokens = min(self.rate, self.tokens + (self.clock.now - self.at) * self.rate)
        self.at = self.clock.now
        if self.tokens >= 1:
            self.tokens -= 1
            return None
        return float(max(1, math.ceil((1 - self.tokens) / self.rate)))


def drive(pacer: Pacer, service: Bucket, clock: VirtualTime, seconds: float) -> list[float]:
    """Call as fast as the pacer lets one caller (10 ms per call); the instants of accepted calls."""
    accepted = []
    while clock.now < seconds:
        pacer.acquire()
        clock.now += 0.01
        wait = service.call()
        if wait is None:
            pacer.succeeded()
            accepted.append(clock.now)
        else:
            pacer.limited(wait)
    return accepted


def test_the_pace_settles_near_the_limit_with_few_429s() -> None:
    clock = VirtualTime()
    pacer = Pacer(monotonic=clock.monotonic, sleep=clock.sleep)
    accepted = drive(pacer, Bucket(clock, rate=50), clock, seconds=120)
    late = [t for t in accepted if t >= 20]
    assert len(late) / 100 >= 0.9 * 50  # after a few seconds of learning, at least 90 % of the limit
    assert pacer.limited_count < 0.02 * len(accepted)
    assert pacer.rate is not None and 40 < pacer.rate < 60


def test_a_429_pauses_every_caller_for_retry_after() -> None:
    clock = VirtualTime()
    pacer = Pacer(monotonic=clock.monotonic, sleep=clock.sleep)
    pacer.acquire()
    pacer.limited(2.0)
    pacer.acquire()
    assert clock.now >= 2.0


def test_a_429_before_enough_calls_to_measure_only_pauses() -> None:
    clock = VirtualTime()
    pacer = Pacer(monotonic=clock.monotonic, sleep=clock.sleep)
    for _ in range(3):
        pacer.acquire()
        pacer.succeeded()
    pacer.limited(1.0)
    assert pacer.rate is None  # three calls say nothing about the limit: no pace is guessed from them
