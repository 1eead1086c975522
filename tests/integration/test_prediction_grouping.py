"""GroupRunner, the leader/follower grouping behind micro-batching and group commit."""

from __future__ import annotations

import threading
import time

import pytest

from services.prediction_service.group_runner import GroupRunner, Slot
from shared.errors import ServiceUnavailable


class Recorder:
    def __init__(self, pause: float = 0.0, fail: bool = False) -> None:
        self.groups: list[list[Slot]] = []
        self.threads: list[int] = []
        self.pause, self.fail = pause, fail
        self.lock = threading.Lock()

    def __call__(self, group: list[Slot]) -> None:
        with self.lock:
            self.groups.append(group)
            self.threads.append(threading.get_ident())
        time.sleep(self.pause)
        for slot in group:
            slot.finish(RuntimeError("boom") if self.fail else None)


def run_concurrently(runner: GroupRunner, slots: list[Slot]) -> None:
    threads = [threading.Thread(target=runner.run, args=(slot,)) for slot in slots]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)


def test_a_lone_caller_runs_its_own_item_on_its_own_thread() -> None:
    recorder = Recorder()
    runner = GroupRunner(recorder, max_wait_s=0.5)
    slot = Slot()
    started = time.monotonic()
    runner.run(slot)
    assert slot.done and slot.error is None and recorder.threads == [threading.get_ident()]
    assert time.monotonic() - started < 0.4  # nobody announced: no waiting


def test_concurrent_callers_are_grouped_and_each_item_runs_once() -> None:
    recorder = Recorder(pause=0.02)
    runner = GroupRunner(recorder, max_wait_s=0)
    slots = [Slot() for _ in range(30)]
    run_concurrently(runner, slots)
    processed = [slot for group in recorder.groups for slot in group]
    assert all(s.done for s in slots) and sorted(map(id, processed)) == sorted(map(id, slots))
    assert len(recorder.groups) < 30


def test_the_leader_waits_for_announced_items() -> None:
    recorder = Recorder()
    runner = GroupRunner(recorder, max_wait_s=2.0)
    runner.announce()
    late = Slot()

    def arrive_late() -> None:
        time.sleep(0.1)
        runner.run(late, announced=True)

    thread = threading.Thread(target=arrive_late)
    thread.start()
    first = Slot()
    runner.run(first)
    thread.join(10)
    assert [len(g) for g in recorder.groups] == [2]


def test_a_withdrawn_announcement_ends_the_wait() -> None:
    runner = GroupRunner(Recorder(), max_wait_s=5.0)
    runner.announce()
    threading.Timer(0.1, runner.withdraw).start()
    started = time.monotonic()
    runner.run(Slot())
    assert time.monotonic() - started < 3


def test_groups_respect_max_size() -> None:
    recorder = Recorder(pause=0.05)
    runner = GroupRunner(recorder, max_wait_s=0, max_size=10)
    run_concurrently(runner, [Slot(size=4) for _ in range(12)])
    assert all(sum(s.size for s in g) <= 10 for g in recorder.groups)
    assert sum(len(g) for g in recorder.groups) == 12


def test_failures_reach_every_caller_and_the_runner_goes_on() -> None:
    failing = Recorder(pause=0.01, fail=True)
    runner = GroupRunner(failing, max_wait_s=0)
    slots = [Slot() for _ in range(8)]
    run_concurrently(runner, slots)
    assert all(isinstance(s.error, RuntimeError) for s in slots)
    failing.fail = False
    again = Slot()
    runner.run(again)
    assert again.error is None


def test_stopped_runner_refuses_new_items() -> None:
    runner = GroupRunner(Recorder(), max_wait_s=0)
    runner.stop()
    with pytest.raises(ServiceUnavailable):
        runner.run(Slot())


def test_a_follower_that_waits_too_long_gives_up_cleanly() -> None:
    release = threading.Event()

    def slow(group: list[Slot]) -> None:
        release.wait(10)
        for slot in group:
            slot.finish()

    runner = GroupRunner(slow, max_wait_s=0, timeout_s=0.2)
    leader = threading.Thread(target=runner.run, args=(Slot(),))
    leader.start()
    time.sleep(0.05)
    with pytest.raises(ServiceUnavailable):
        runner.run(Slot())  # queued behind a stuck leader
    release.set()
    leader.join(10)
    runner.run(Slot())  # the queue is clean again
