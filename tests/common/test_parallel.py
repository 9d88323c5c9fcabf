"""Worker processes of map_in_processes end with their parent, however it ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from gensuite.common.parallel import map_in_processes

# The parent prints its workers' pids, then is killed with SIGKILL mid-map.
PARENT = """
import os, time
from gensuite.common.parallel import map_in_processes
from tests.common.test_parallel import report_and_sleep
with map_in_processes(report_and_sleep, list(range(16)), num_workers=2) as results:
    for _ in results:
        pass
"""


def report_and_sleep(job: int) -> int:
    # One write per line: two workers share the pipe, and print may split a line in two writes.
    os.write(1, f"worker {os.getpid()}\n".encode())
    time.sleep(30)
    return job


def square(x: int) -> int:
    return x * x


def test_results_come_in_order():
    with map_in_processes(square, list(range(40)), num_workers=2) as results:
        assert list(results) == [x * x for x in range(40)]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_workers_die_when_the_parent_is_killed():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True,
                              cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    workers = {int(parent.stdout.readline().split()[1]) for _ in range(2)}
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A dead worker whose new parent (init) has not reaped it yet is a zombie.
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


@pytest.mark.parametrize("num_workers", [1, 2])
def test_meanwhile_runs_beside_the_workers_and_its_error_is_raised(num_workers):
    import threading

    ran = []
    with map_in_processes(square, list(range(40)), num_workers=num_workers,
                          meanwhile=lambda: ran.append(threading.current_thread().name)) as results:
        assert list(results) == [x * x for x in range(40)]
    # A pool's meanwhile runs in its own thread; without a pool, in this one.
    assert len(ran) == 1 and (ran[0] == "MainThread") == (num_workers == 1)

    def fail():
        raise ValueError("loading failed")

    with pytest.raises(ValueError, match="loading failed"):
        with map_in_processes(square, list(range(40)), num_workers=num_workers,
                              meanwhile=fail) as results:
            list(results)
