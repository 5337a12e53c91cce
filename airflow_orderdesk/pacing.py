"""Request pacing for Order Desk's per-store rate limit, free of any HTTP or Airflow machinery.

Order Desk meters every store with a leaky bucket: a burst of requests, then a steady refill. The same
:class:`LeakyBucket` arithmetic serves both sides of the wire: the hook waits for a token before it
sends, and the sandbox refuses a request with 429 when no token is left. :class:`HostBucket` keeps the
level in a small file instead of in memory, so that every worker process on a machine spends from one
bucket per store, as the server does.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import logging
import math
import os
import random
import struct
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from airflow_orderdesk.defaults import DEFAULT_BURST, DEFAULT_REFILL_PER_SECOND

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = [
    "RATE_LIMIT_DIR_VARIABLE",
    "HostBucket",
    "LeakyBucket",
    "backoff_delay",
    "bucket_for_store",
    "rate_limit_dir",
]

log = logging.getLogger(__name__)


@dataclass
class _Level:
    """What a bucket knows at one moment: the tokens left, when they were counted, the refill in force."""

    tokens: float
    counted_at: float
    refill_per_second: float


class LeakyBucket:
    """
    A token bucket that refills continuously and is safe to share between threads.

    ``burst`` tokens fit in the bucket; ``refill_per_second`` tokens flow back each second. A burst of 0
    or a refill of 0 switches metering off: every request is allowed at once.

    The refill rate adapts the way TCP does: :meth:`slow_down` halves it when the server says we went
    too fast (the connection's figures overstate what is left for us, say, because other machines share
    the store), and :meth:`speed_up` wins it back a little at a time, never above the configured rate.

    :param burst: how many tokens the bucket holds when full.
    :param refill_per_second: how many tokens flow back each second.
    :param clock: a clock in seconds; tests pass a fake one.
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
        self.configured_refill_per_second = refill_per_second
        self._clock = clock
        self._level = self._full()
        self._lock = threading.Lock()

    @property
    def unlimited(self) -> bool:
        """Whether metering is switched off."""
        return self.burst == 0 or self.configured_refill_per_second == 0

    @property
    def refill_per_second(self) -> float:
        """The refill rate in force now: the configured one, or less after 429s."""
        with self._holding() as level:
            return level.refill_per_second

    def _full(self) -> _Level:
        return _Level(float(self.burst), self._clock(), self.configured_refill_per_second)

    def _load(self) -> _Level:
        return self._level

    def _save(self, level: _Level) -> None:
        self._level = level

    def _exclusive(self) -> contextlib.AbstractContextManager[object]:
        """Whatever besides the thread lock keeps others from the level while it changes."""
        return contextlib.nullcontext()

    @contextlib.contextmanager
    def _holding(self) -> Iterator[_Level]:
        """The level, refilled up to now and held exclusively; what the block changes is kept."""
        with self._lock, self._exclusive():
            level = self._load()
            now = self._clock()
            elapsed = max(0.0, now - level.counted_at)
            level.tokens = min(float(self.burst), level.tokens + elapsed * level.refill_per_second)
            level.counted_at = now
            yield level
            self._save(level)

    def try_take(self, tokens: int = 1) -> float:
        """
        Take ``tokens`` (at most a full bucket) if they are all there.

        :return: ``0.0`` when they were taken, otherwise the seconds until they will be there (nothing
            is taken then).
        """
        if self.unlimited:
            return 0.0
        wanted = float(min(max(1, tokens), self.burst))
        with self._holding() as level:
            if level.tokens >= wanted:
                level.tokens -= wanted
                return 0.0
            return (wanted - level.tokens) / level.refill_per_second

    def give_back(self, tokens: int) -> None:
        """Return tokens taken but not spent, so that other requests of the store can have them."""
        if self.unlimited or tokens <= 0:
            return
        with self._holding() as level:
            level.tokens = min(float(self.burst), level.tokens + tokens)

    def seconds_until(self, tokens: float) -> float:
        """How long until the bucket holds ``tokens`` (at most a full bucket), at the current rate."""
        if self.unlimited:
            return 0.0
        with self._holding() as level:
            wanted = min(float(tokens), float(self.burst))
            return max(0.0, (wanted - level.tokens) / level.refill_per_second)

    def remaining(self) -> int:
        """The whole tokens left now."""
        if self.unlimited:
            return 0
        with self._holding() as level:
            return int(level.tokens)

    def observe_remaining(self, remaining: int) -> None:
        """
        Correct the bucket by what the server says is left.

        Other clients of the same store (workers on other machines, other tools) spend from the same
        server-side bucket, so the server's figure never adds tokens: we keep the smaller of the two. A
        server bucket at least half full, though, means nobody is drawing on it faster than it refills,
        so a rate lowered by :meth:`slow_down` returns to the configured one at once rather than a
        thousandth per success; otherwise the last worker still running would leave the store's bucket
        half idle.
        """
        if self.unlimited:
            return
        with self._holding() as level:
            level.tokens = min(level.tokens, float(max(0, remaining)))
            if remaining >= self.burst / 2:
                level.refill_per_second = self.configured_refill_per_second

    def slow_down(self) -> None:
        """Halve the refill rate after a 429, down to a floor that still lets requests through."""
        if self.unlimited:
            return
        with self._holding() as level:
            floor = min(_SLOWEST_REFILL, self.configured_refill_per_second)
            level.refill_per_second = max(floor, level.refill_per_second / 2)

    def speed_up(self) -> None:
        """
        Win back a thousandth of the configured rate after a success.

        Slowly, because workers that share a store but not a machine find the store's rate together by
        creeping up until one of them gets a 429: the slower the creep, the rarer the 429. Recovery
        when the others stop comes from :meth:`observe_remaining`, not from here.
        """
        if self.unlimited:
            return
        with self._holding() as level:
            configured = self.configured_refill_per_second
            if level.refill_per_second < configured:
                level.refill_per_second = min(configured, level.refill_per_second + configured / _CREEP)

    def drain(self, retry_after: float) -> None:
        """Empty the bucket so that the next token arrives no sooner than ``retry_after`` seconds."""
        if self.unlimited:
            return
        with self._holding() as level:
            level.tokens = min(level.tokens, 1.0 - max(0.0, retry_after) * level.refill_per_second)


#: After a success, a lowered rate wins back this fraction of the configured one: 1/_CREEP.
_CREEP = 1000

#: The slowest a bucket adapts down to, in requests per second.
_SLOWEST_REFILL = 0.2

#: A level on disk: tokens, when they were counted (seconds since the epoch), the refill in force.
_LEVEL_FORMAT = struct.Struct("<3d")


class HostBucket(LeakyBucket):
    """
    A :class:`LeakyBucket` whose level lives in a file, shared by every process on the machine.

    Airflow runs each task in its own process, and a Celery or local executor runs several at once; with
    a bucket per process, four workers would each believe they had the store's whole rate and together
    send four times too much. Here each take locks the file (``flock``), reads the level, changes it and
    writes it back, which costs microseconds next to a request. The file holds three numbers and no
    name: its own name is a digest of the API URL, the store id and the figures.

    Machines do not share the file; between them, the server's ``X-Tokens-Remaining`` and its 429s keep
    the pace (see :meth:`observe_remaining` and :meth:`slow_down`).

    :param path: the file that holds the level; made on first use.
    :param burst: as for :class:`LeakyBucket`.
    :param refill_per_second: as for :class:`LeakyBucket`.
    :param clock: wall-clock seconds, comparable between processes.
    """

    def __init__(
        self,
        path: Path,
        burst: int = DEFAULT_BURST,
        refill_per_second: float = DEFAULT_REFILL_PER_SECOND,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(burst, refill_per_second, clock=clock)
        self.path = path
        self._descriptor: int | None = None
        self._opened_by: int | None = None

    def _file(self) -> int:
        # flock() locks belong to the open file, which a fork shares: a forked child that kept its
        # parent's descriptor would not be kept out by the parent's lock, so each process opens its own.
        if self._descriptor is None or self._opened_by != os.getpid():
            # No symlink is followed: in a shared temp directory one could point at any file of ours.
            self._descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            self._opened_by = os.getpid()
        return self._descriptor

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[object]:
        descriptor = self._file()
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        try:
            yield descriptor
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)

    def _load(self) -> _Level:
        data = os.pread(self._file(), _LEVEL_FORMAT.size, 0)
        if len(data) < _LEVEL_FORMAT.size:
            return self._full()
        tokens, counted_at, refill = _LEVEL_FORMAT.unpack(data)
        configured = self.configured_refill_per_second
        if not (math.isfinite(tokens) and math.isfinite(counted_at) and 0 < refill <= configured):
            return self._full()
        # A clock set back since the last write would otherwise stop the refill until it caught up.
        return _Level(min(tokens, float(self.burst)), min(counted_at, self._clock()), refill)

    def _save(self, level: _Level) -> None:
        os.pwrite(
            self._file(), _LEVEL_FORMAT.pack(level.tokens, level.counted_at, level.refill_per_second), 0
        )

    def close(self) -> None:
        """Close this process's descriptor of the file (the level stays for the other processes)."""
        if self._descriptor is not None and self._opened_by == os.getpid():
            os.close(self._descriptor)
        self._descriptor = self._opened_by = None


#: The environment variable naming the directory that holds the machine's bucket files.
RATE_LIMIT_DIR_VARIABLE = "ORDERDESK_RATE_LIMIT_DIR"


def rate_limit_dir() -> Path:
    """
    The directory of this machine's bucket files: ``$ORDERDESK_RATE_LIMIT_DIR``, or one per user in the
    temporary directory. Processes pace together only when they use the same directory.
    """
    configured = os.environ.get(RATE_LIMIT_DIR_VARIABLE)
    if configured:
        return Path(configured)
    return Path(tempfile.gettempdir()) / f"airflow-orderdesk-rate-limit-{os.getuid()}"


def _bucket_file(api_url: str, store_id: str, burst: int, refill_per_second: float) -> Path:
    key = f"{api_url}\n{store_id}\n{burst}\n{refill_per_second!r}".encode()
    return rate_limit_dir() / f"{hashlib.sha256(key).hexdigest()[:32]}.bucket"


def _check_private(directory: Path) -> None:
    """Refuse a directory someone else could write to: its files steer our pacing."""
    status = os.stat(directory, follow_symlinks=False)
    if status.st_uid != os.getuid() or status.st_mode & 0o022:
        raise PermissionError(errno.EPERM, "owned by another user or writable by others", str(directory))


def _new_bucket(api_url: str, store_id: str, burst: int, refill_per_second: float) -> LeakyBucket:
    if burst == 0 or refill_per_second == 0:
        return LeakyBucket(burst, refill_per_second)
    path = _bucket_file(api_url, store_id, burst, refill_per_second)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _check_private(path.parent)
        bucket = HostBucket(path, burst, refill_per_second)
        bucket.remaining()  # opens and locks the file once, so that a failure shows here
    except OSError as error:
        log.warning(
            "Pacing Order Desk requests in this process only: the rate-limit file %s cannot be used (%s)",
            path,
            error.strerror or type(error).__name__,
        )
        return LeakyBucket(burst, refill_per_second)
    return bucket


_buckets: dict[tuple[str, str], LeakyBucket] = {}
_buckets_lock = threading.Lock()


def bucket_for_store(api_url: str, store_id: str, burst: int, refill_per_second: float) -> LeakyBucket:
    """
    The bucket of a store, made on first use and shared by every process on the machine.

    Every hook for the same API URL and store id gets the same object in a process, and the same file
    across processes, so that tasks running side by side pace together. A later call with other figures
    replaces the bucket, because the figures come from the connection and a changed connection should
    take effect. Where no bucket file can be made, the bucket is the process's own.
    """
    api_url = api_url.rstrip("/")
    key = (api_url, store_id)
    with _buckets_lock:
        bucket = _buckets.get(key)
        if bucket is None or (bucket.burst, bucket.configured_refill_per_second) != (
            burst,
            refill_per_second,
        ):
            bucket = _new_bucket(api_url, store_id, burst, refill_per_second)
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
