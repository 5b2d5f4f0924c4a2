"""The association server's worker pool: threads kept for the next association."""

from __future__ import annotations

import logging
import threading
import time

import pytest

import peers
from dicomwire.association.workers import WorkerPool


def alive(pool: WorkerPool) -> int:
    """The pool's threads (each test's pool has a name of its own)."""
    return sum(1 for thread in threading.enumerate() if thread.name == pool.name)


def run_and_report(pool: WorkerPool) -> int:
    """Submit one job; return the ident of the thread that ran it."""
    ran = threading.Event()
    idents: list[int] = []

    def job() -> None:
        idents.append(threading.get_ident())
        ran.set()

    pool.submit(job)
    assert ran.wait(5)
    return idents[0]


def test_a_finished_worker_runs_the_next_job() -> None:
    pool = WorkerPool("test-pool")
    first = run_and_report(pool)
    assert peers.wait_until(lambda: pool.idle == 1)
    assert run_and_report(pool) == first
    pool.close()


def test_a_burst_gets_a_thread_per_job_and_keeps_max_idle() -> None:
    pool = WorkerPool("test-pool-burst", max_idle=2)
    gate = threading.Barrier(6)  # five jobs and this thread: all run at once
    for _ in range(5):
        pool.submit(lambda: gate.wait(5) and None)
    gate.wait(5)
    assert peers.wait_until(lambda: pool.idle == 2)
    assert peers.wait_until(lambda: alive(pool) == 2)
    pool.close()
    assert peers.wait_until(lambda: alive(pool) == 0)


def test_idle_workers_end_after_the_idle_timeout() -> None:
    pool = WorkerPool("test-pool-timeout", idle_timeout=0.05)
    run_and_report(pool)
    assert peers.wait_until(lambda: pool.idle == 0 and alive(pool) == 0)


class Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_a_failing_job_is_logged_and_the_worker_goes_on() -> None:
    # A handler and level of its own: other tests quieten "dicomwire" (the
    # CLI's -q) or stop it propagating to the root logger.
    logger = logging.getLogger("dicomwire.server")
    recorder, level = Recorder(), logger.level
    logger.addHandler(recorder)
    logger.setLevel(logging.ERROR)
    pool = WorkerPool("test-pool")
    failed = threading.Event()

    def bad() -> None:
        failed.set()
        raise RuntimeError("boom")

    try:
        pool.submit(bad)
        assert failed.wait(5)
        assert peers.wait_until(lambda: pool.idle == 1)
        run_and_report(pool)
    finally:
        logger.removeHandler(recorder)
        logger.setLevel(level)
        pool.close()
    assert "association worker failed" in recorder.messages


def test_closed_pool_refuses_jobs_and_lets_idle_workers_go() -> None:
    pool = WorkerPool("test-pool-close")
    run_and_report(pool)
    assert peers.wait_until(lambda: pool.idle == 1)
    assert alive(pool) == 1
    pool.close()
    assert peers.wait_until(lambda: alive(pool) == 0)
    with pytest.raises(RuntimeError):
        pool.submit(lambda: None)


def test_no_job_is_lost_when_waits_time_out_as_jobs_arrive() -> None:
    # Idle timeouts as short as the gaps between jobs: submits race with
    # workers giving up, and every job must still run exactly once.
    pool = WorkerPool("test-pool", max_idle=3, idle_timeout=0.0005)
    count = 400
    done = threading.Semaphore(0)
    runs: list[int] = []

    def job(number: int) -> None:
        runs.append(number)
        done.release()

    for number in range(count):
        pool.submit(lambda n=number: job(n))
        if number % 7 == 0:
            time.sleep(0.0005)
    for _ in range(count):
        assert done.acquire(timeout=5)
    assert sorted(runs) == list(range(count))
    pool.close()
