"""Tests of the leaky bucket that paces requests, and of the backoff between retries."""

from __future__ import annotations

import multiprocessing
import threading
import time
from typing import TYPE_CHECKING

import pytest

from airflow_orderdesk import pacing
from airflow_orderdesk.pacing import HostBucket, LeakyBucket, backoff_delay, bucket_for_store

if TYPE_CHECKING:
    from pathlib import Path


class FakeClock:
    """A monotonic clock that moves only when a test moves it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def bucket(clock: FakeClock) -> LeakyBucket:
    return LeakyBucket(20, 3.0, clock=clock)


@pytest.fixture(autouse=True)
def _no_shared_buckets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pacing, "_buckets", {})


def _take_all(bucket: LeakyBucket) -> int:
    """Take tokens until the bucket asks to wait; return how many were taken."""
    taken = 0
    while bucket.try_take() == 0.0:
        taken += 1
        assert taken <= 1000, "the bucket never ran dry"
    return taken


# -- LeakyBucket ---------------------------------------------------------------------------------------


def test_a_full_bucket_allows_a_burst_and_then_asks_to_wait(bucket: LeakyBucket) -> None:
    assert [bucket.try_take() for _ in range(20)] == [0.0] * 20
    assert bucket.try_take() > 0


def test_tokens_flow_back_at_the_refill_rate(bucket: LeakyBucket, clock: FakeClock) -> None:
    _take_all(bucket)

    clock.advance(1.0)

    assert _take_all(bucket) == 3


def test_refill_never_overfills_the_bucket(bucket: LeakyBucket, clock: FakeClock) -> None:
    _take_all(bucket)

    clock.advance(3600)

    assert bucket.remaining() == 20
    assert _take_all(bucket) == 20


def test_an_empty_bucket_names_the_wait_for_one_token(bucket: LeakyBucket) -> None:
    _take_all(bucket)

    assert bucket.try_take() == pytest.approx(1 / 3)


def test_the_wait_shrinks_as_time_passes(bucket: LeakyBucket, clock: FakeClock) -> None:
    _take_all(bucket)

    clock.advance(0.1)

    assert bucket.try_take() == pytest.approx((1 - 0.3) / 3)


def test_asking_while_empty_takes_no_token(bucket: LeakyBucket, clock: FakeClock) -> None:
    _take_all(bucket)
    for _ in range(5):
        bucket.try_take()

    clock.advance(1 / 3)

    assert bucket.try_take() == 0.0


def test_the_server_figure_lowers_what_is_left(bucket: LeakyBucket) -> None:
    bucket.observe_remaining(5)

    assert bucket.remaining() == 5
    assert _take_all(bucket) == 5


def test_the_server_figure_never_raises_what_is_left(bucket: LeakyBucket) -> None:
    for _ in range(15):
        bucket.try_take()

    bucket.observe_remaining(20)

    assert bucket.remaining() == 5


def test_a_negative_server_figure_counts_as_empty(bucket: LeakyBucket) -> None:
    bucket.observe_remaining(-3)

    assert bucket.remaining() == 0
    assert bucket.try_take() > 0


def test_drain_holds_back_the_next_token_for_retry_after(bucket: LeakyBucket, clock: FakeClock) -> None:
    bucket.drain(2.0)

    assert bucket.try_take() == pytest.approx(2.0)
    clock.advance(1.99)
    assert bucket.try_take() > 0
    clock.advance(0.01)
    assert bucket.try_take() == 0.0


def test_drain_never_adds_tokens(bucket: LeakyBucket) -> None:
    _take_all(bucket)

    bucket.drain(0.0)

    assert bucket.try_take() > 0


@pytest.mark.parametrize(("burst", "refill"), [(0, 3.0), (20, 0.0), (0, 0.0)])
def test_a_zero_figure_switches_metering_off(burst: int, refill: float, clock: FakeClock) -> None:
    bucket = LeakyBucket(burst, refill, clock=clock)

    bucket.observe_remaining(0)
    bucket.drain(60)

    assert bucket.unlimited
    assert all(bucket.try_take() == 0.0 for _ in range(1000))


@pytest.mark.parametrize(("burst", "refill"), [(-1, 3.0), (20, -0.5)])
def test_negative_figures_are_refused(burst: int, refill: float) -> None:
    with pytest.raises(ValueError, match="burst and refill_per_second"):
        LeakyBucket(burst, refill)


class YieldingRate(float):
    """
    A refill rate that lets other threads run whenever the bucket computes a refill.

    The switch lands between the bucket's reading and writing of its token count, so that without the
    bucket's lock, threads would overwrite each other's takes and hand out more tokens than the burst.
    """

    def __rmul__(self, other: float) -> float:
        time.sleep(0)
        return float(self) * other


def test_threads_taking_at_one_instant_get_exactly_the_burst(clock: FakeClock) -> None:
    bucket = LeakyBucket(20, YieldingRate(3.0), clock=clock)
    threads_count, takes_per_thread = 40, 5
    start = threading.Barrier(threads_count)
    granted: list[int] = []
    granted_lock = threading.Lock()

    def take() -> None:
        start.wait()
        mine = sum(1 for _ in range(takes_per_thread) if bucket.try_take() == 0.0)
        with granted_lock:
            granted.append(mine)

    threads = [threading.Thread(target=take) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert len(granted) == threads_count
    assert sum(granted) == 20


# -- bucket_for_store ----------------------------------------------------------------------------------


def test_one_bucket_is_shared_per_store_whatever_the_trailing_slash() -> None:
    first = bucket_for_store("https://od.example.test/api/v2/", "12345", 20, 3.0)
    second = bucket_for_store("https://od.example.test/api/v2", "12345", 20, 3.0)

    assert first is second


@pytest.mark.parametrize(
    ("api_url", "store_id"),
    [("https://od.example.test/api/v2", "54321"), ("https://other.example.test/api/v2", "12345")],
)
def test_another_store_or_api_gets_its_own_bucket(api_url: str, store_id: str) -> None:
    first = bucket_for_store("https://od.example.test/api/v2", "12345", 20, 3.0)

    assert bucket_for_store(api_url, store_id, 20, 3.0) is not first


def test_changed_figures_replace_the_store_bucket() -> None:
    old = bucket_for_store("https://od.example.test/api/v2", "12345", 20, 3.0)

    new = bucket_for_store("https://od.example.test/api/v2", "12345", 10, 1.0)

    assert new is not old
    assert (new.burst, new.refill_per_second) == (10, 1.0)
    assert bucket_for_store("https://od.example.test/api/v2/", "12345", 10, 1.0) is new


# -- backoff_delay -------------------------------------------------------------------------------------


def test_backoff_doubles_with_each_retry() -> None:
    delays = [backoff_delay(attempt, rng=lambda: 1.0) for attempt in range(1, 6)]

    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0]


def test_backoff_is_capped() -> None:
    assert backoff_delay(7, rng=lambda: 1.0) == 30.0
    assert backoff_delay(50, rng=lambda: 1.0) == 30.0
    assert backoff_delay(4, base=1.0, cap=5.0, rng=lambda: 1.0) == 5.0


@pytest.mark.parametrize(("share", "expected"), [(0.0, 0.0), (0.25, 1.0), (0.5, 2.0), (0.999, 3.996)])
def test_backoff_waits_a_random_share_of_the_ceiling(share: float, expected: float) -> None:
    calls: list[None] = []

    def rng() -> float:
        calls.append(None)
        return share

    assert backoff_delay(4, rng=rng) == pytest.approx(expected)
    assert len(calls) == 1


def test_backoff_without_an_rng_stays_within_the_ceiling() -> None:
    assert all(0.0 <= backoff_delay(3) <= 2.0 for _ in range(200))


def test_a_half_full_server_bucket_restores_a_rate_lowered_by_429s_at_once() -> None:
    bucket = LeakyBucket(20, 3.0)
    bucket.slow_down()
    bucket.slow_down()
    assert bucket.refill_per_second == 0.75
    bucket.observe_remaining(9)  # less than half the burst: others may still be drawing on it
    assert bucket.refill_per_second == 0.75
    bucket.observe_remaining(10)
    assert bucket.refill_per_second == 3.0


def test_seconds_until_counts_the_wait_for_several_tokens_up_to_a_full_bucket() -> None:
    now = [0.0]
    bucket = LeakyBucket(2, 1.0, clock=lambda: now[0])
    assert bucket.try_take() == 0.0
    assert bucket.try_take() == 0.0
    assert bucket.seconds_until(2) == pytest.approx(2.0)
    assert bucket.seconds_until(5) == pytest.approx(2.0)  # never more than a full bucket
    now[0] = 1.5
    assert bucket.seconds_until(2) == pytest.approx(0.5)
    assert LeakyBucket(0, 0).seconds_until(2) == 0.0


# -- HostBucket ----------------------------------------------------------------------------------------


def _take_in_children(bucket: LeakyBucket, children: int, tries: int) -> int:
    """Fork ``children`` processes that each try ``tries`` takes at one instant; return the tokens granted."""
    context = multiprocessing.get_context("fork")
    start = context.Barrier(children)
    granted = context.Value("i", 0)

    def take() -> None:
        start.wait()
        mine = sum(1 for _ in range(tries) if bucket.try_take() == 0.0)
        with granted.get_lock():
            granted.value += mine

    processes = [context.Process(target=take) for _ in range(children)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=30)
    assert [process.exitcode for process in processes] == [0] * children
    return int(granted.value)


def test_processes_taking_from_one_host_bucket_get_exactly_the_burst(tmp_path: Path) -> None:
    bucket = HostBucket(tmp_path / "store.bucket", 20, 0.001)
    bucket.remaining()  # the parent opens the file before the fork, as a worker's parent might

    assert _take_in_children(bucket, children=4, tries=20) == 20


def test_processes_with_a_bucket_each_overspend_the_burst() -> None:
    """What the host bucket prevents: four workers pacing alone send four bursts."""
    assert _take_in_children(LeakyBucket(20, 0.001), children=4, tries=20) == 80


def test_a_host_bucket_sees_what_another_bucket_on_the_same_file_took(tmp_path: Path) -> None:
    now = [5000.0]
    first = HostBucket(tmp_path / "store.bucket", 20, 3.0, clock=lambda: now[0])
    second = HostBucket(tmp_path / "store.bucket", 20, 3.0, clock=lambda: now[0])

    assert _take_all(first) == 20
    assert second.try_take() == pytest.approx(1 / 3)
    now[0] += 1.0
    assert _take_all(second) == 3
    second.slow_down()
    assert first.refill_per_second == 1.5


def test_a_host_bucket_file_that_makes_no_sense_counts_as_full(tmp_path: Path) -> None:
    path = tmp_path / "store.bucket"
    path.write_bytes(b"not a bucket level, but long enough")

    assert HostBucket(path, 20, 3.0).remaining() == 20


def test_a_host_bucket_refills_even_if_the_clock_was_set_back(tmp_path: Path) -> None:
    now = [5000.0]
    bucket = HostBucket(tmp_path / "store.bucket", 2, 1.0, clock=lambda: now[0])
    _take_all(bucket)
    now[0] = 4000.0  # the wall clock stepped back

    assert bucket.remaining() == 0
    now[0] += 2.0
    assert bucket.remaining() == 2


def test_the_store_bucket_lives_in_the_configured_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(pacing.RATE_LIMIT_DIR_VARIABLE, str(tmp_path / "buckets"))

    bucket = bucket_for_store("https://od.example.test/api/v2", "12345", 20, 3.0)

    assert isinstance(bucket, HostBucket)
    assert bucket.path.parent == tmp_path / "buckets"
    assert "12345" not in bucket.path.name
    assert bucket_for_store("https://od.example.test/api/v2", "12345", 10, 1.0).path != bucket.path


def test_without_a_usable_directory_the_bucket_is_the_process_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(pacing.RATE_LIMIT_DIR_VARIABLE, str(blocker / "buckets"))

    bucket = bucket_for_store("https://od.example.test/api/v2", "12345", 20, 3.0)

    assert type(bucket) is LeakyBucket
    assert "in this process only" in caplog.text


def test_an_unmetered_store_needs_no_bucket_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(pacing.RATE_LIMIT_DIR_VARIABLE, str(tmp_path / "buckets"))

    assert type(bucket_for_store("https://od.example.test/api/v2", "12345", 0, 0.0)) is LeakyBucket
    assert not (tmp_path / "buckets").exists()


def test_a_bucket_directory_others_can_write_to_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    shared = tmp_path / "buckets"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv(pacing.RATE_LIMIT_DIR_VARIABLE, str(shared))

    bucket = bucket_for_store("https://od.example.test/api/v2", "12345", 20, 3.0)

    assert type(bucket) is LeakyBucket
    assert "writable by others" in caplog.text
    assert list(shared.iterdir()) == []


def test_a_host_bucket_does_not_follow_a_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (tmp_path / "store.bucket").symlink_to(victim)

    with pytest.raises(OSError, match="Too many levels of symbolic links"):
        HostBucket(tmp_path / "store.bucket", 20, 3.0).remaining()
    assert victim.read_text() == "keep me"


def test_several_tokens_are_taken_all_at_once_or_not_at_all(bucket: LeakyBucket, clock: FakeClock) -> None:
    assert bucket.try_take(18) == 0.0
    assert bucket.try_take(3) == pytest.approx(1 / 3)  # two are there; nothing is taken
    assert bucket.try_take(2) == 0.0
    assert bucket.try_take(50) == pytest.approx(20 / 3)  # never more than a full bucket
    clock.advance(7)
    assert bucket.try_take(50) == 0.0
    assert bucket.remaining() == 0


def test_tokens_given_back_never_overfill_the_bucket(bucket: LeakyBucket) -> None:
    bucket.try_take(3)
    bucket.give_back(2)
    assert bucket.remaining() == 19
    bucket.give_back(5)
    assert bucket.remaining() == 20


def test_a_lowered_rate_creeps_back_a_thousandth_per_success_and_no_further() -> None:
    bucket = LeakyBucket(20, 3.0)
    bucket.slow_down()
    assert bucket.refill_per_second == 1.5

    for _ in range(100):
        bucket.speed_up()
    assert bucket.refill_per_second == pytest.approx(1.8)
    for _ in range(1000):
        bucket.speed_up()
    assert bucket.refill_per_second == 3.0
