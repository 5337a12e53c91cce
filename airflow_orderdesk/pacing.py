"""Request pacing for Order Desk's per-store rate limit, free of any HTTP or Airflow machinery.

Order Desk meters every store with a leaky bucket: a burst of requests, then a steady refill. The same
:class:`LeakyBucket` arithmetic serves both sides of the wire: the hook waits for a token before it
sends, and the sandbox refuses a request with 429 when no token is left.
"""

from __future__ import annotations

import random
import threading
import time
from typing import TYPE_CHECKING

from airflow_orderdesk.defaults import DEFAULT_BURST, DEFAULT_REFILL_PER_SECOND

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "LeakyBucket",
    "backoff_delay",
    "bucket_for_store",
]


class LeakyBucket:
    """
    A token bucket that refills continuously and is safe to share between threads.

    ``burst`` tokens fit in the bucket; ``refill_per_second`` tokens flow back each second. A burst of 0
    or a refill of 0 switches metering off: every request is allowed at once.

    The refill rate adapts the way TCP does: :meth:`slow_down` halves it when the server says we went
    too fast (the connection's figures overstate what is left for us, say, because other workers share
    the store), and :meth:`speed_up` wins it back a little at a time, never above the configured rate.

    :param burst: how many tokens the bucket holds when full.
    :param refill_per_second: how many tokens flow back each second.
    :param clock: a monotonic clock in seconds; tests pass a fake one.
    """

    def __init__(
        self,
        burst: int = DEFAULT_BURST,
        refill_per_second: float = DEFAULT_REFILL_PER_SECOND,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if burst < 0 or refill_per_second < 0:
            raise ValueError("burst and refill_per_second must be zero (no limit) or positive")
        self.burst = burst
        self.refill_per_second = refill_per_second
        self.configured_refill_per_second = refill_per_second
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock()
        self._lock = threading.Lock()

    @property
    def unlimited(self) -> bool:
        """Whether metering is switched off."""
        return self.burst == 0 or self.refill_per_second == 0

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.refill_per_second)
        self._updated = now

    def try_take(self) -> float:
        """
        Take one token if there is one.

        :return: ``0.0`` when a token was taken, otherwise the seconds until one will be there (no token
            is taken then).
        """
        if self.unlimited:
            return 0.0
        with self._lock:
            self._refill(self._clock())
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return 0.0
            return (1.0 - self._tokens) / self.refill_per_second

    def seconds_until(self, tokens: float) -> float:
        """How long until the bucket holds ``tokens`` (at most a full bucket), at the current rate."""
        if self.unlimited:
            return 0.0
        with self._lock:
            self._refill(self._clock())
            wanted = min(float(tokens), float(self.burst))
            return max(0.0, (wanted - self._tokens) / self.refill_per_second)

    def remaining(self) -> int:
        """The whole tokens left now."""
        if self.unlimited:
            return 0
        with self._lock:
            self._refill(self._clock())
            return int(self._tokens)

    def observe_remaining(self, remaining: int) -> None:
        """
        Correct the bucket by what the server says is left.

        Other clients of the same store (other workers, other tools) spend from the same server-side
        bucket, so the server's figure never adds tokens: we keep the smaller of the two. A server bucket
        at least half full, though, means nobody is drawing on it faster than it refills, so a rate
        lowered by :meth:`slow_down` returns to the configured one at once rather than a hundredth per
        success; otherwise the last worker still running would leave the store's bucket half idle.
        """
        if self.unlimited:
            return
        with self._lock:
            self._refill(self._clock())
            self._tokens = min(self._tokens, float(max(0, remaining)))
            if remaining >= self.burst / 2:
                self.refill_per_second = self.configured_refill_per_second

    def slow_down(self) -> None:
        """Halve the refill rate after a 429, down to a floor that still lets requests through."""
        with self._lock:
            floor = min(_SLOWEST_REFILL, self.configured_refill_per_second)
            self.refill_per_second = max(floor, self.refill_per_second / 2)

    def speed_up(self) -> None:
        """Win back a hundredth of the configured rate after a success."""
        with self._lock:
            configured = self.configured_refill_per_second
            self.refill_per_second = min(configured, self.refill_per_second + configured / 100)

    def drain(self, retry_after: float) -> None:
        """Empty the bucket so that the next token arrives no sooner than ``retry_after`` seconds."""
        if self.unlimited:
            return
        with self._lock:
            self._refill(self._clock())
            self._tokens = min(self._tokens, 1.0 - max(0.0, retry_after) * self.refill_per_second)


#: The slowest a bucket adapts down to, in requests per second.
_SLOWEST_REFILL = 0.2

_buckets: dict[tuple[str, str], LeakyBucket] = {}
_buckets_lock = threading.Lock()


def bucket_for_store(api_url: str, store_id: str, burst: int, refill_per_second: float) -> LeakyBucket:
    """
    The one bucket of a store in this process, made on first use.

    Every hook for the same API URL and store id shares it, so that tasks running side by side in one
    worker pace together. A later call with other figures replaces the bucket, because the figures come
    from the connection and a changed connection should take effect.
    """
    key = (api_url.rstrip("/"), store_id)
    with _buckets_lock:
        bucket = _buckets.get(key)
        if bucket is None or (bucket.burst, bucket.configured_refill_per_second) != (
            burst,
            refill_per_second,
        ):
            bucket = LeakyBucket(burst, refill_per_second)
            _buckets[key] = bucket
        return bucket


def backoff_delay(
    attempt: int,
    *,
    base: float = 0.5,
    cap: float = 30.0,
    rng: Callable[[], float] = random.random,
) -> float:
    """
    Seconds to wait before retry number ``attempt`` (1 for the first retry).

    Exponential growth with "full jitter": a random share of the exponential figure, so that workers that
    failed together do not retry together.
    """
    ceiling = min(cap, base * (2 ** max(0, attempt - 1)))
    return float(ceiling * rng())
