"""Map a function over jobs in worker processes, in order, with a progress bar."""

from __future__ import annotations

import contextlib
import multiprocessing
from concurrent.futures import ThreadPoolExecutor
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence


@contextlib.contextmanager
def map_in_processes(
    fn: Callable,
    jobs: Sequence,
    *,
    num_workers: int | None = None,
    progress: bool = False,
    desc: str | None = None,
    unit: str = "file",
    min_jobs_per_worker: int = 4,
    max_chunksize: int = 16,
    meanwhile: Callable[[], None] | None = None,
) -> Iterator[Iterator]:
    """Yield an iterator over ``fn(job)`` for every job, in the jobs' order.

    The work runs in this process when a pool would not pay (one worker, or
    fewer than ``min_jobs_per_worker`` jobs per worker). Otherwise a pool of
    ``num_workers`` (default: every core) processes is forked when TensorFlow
    is not loaded (cheapest: workers inherit every import), or else started
    from a fork server that preloads only ``fn``'s module, because forking a
    process that holds TensorFlow's threads can deadlock. The pool lives for
    the ``with`` block, so the caller may import TensorFlow inside it.

    Parameters
    ----------
    fn : callable
        A module-level function (it is pickled by name).
    jobs : sequence
        One argument for ``fn`` each.
    progress : bool
        Report progress on stderr named ``desc``, counting ``unit``
        (:func:`gensuite.common.progress.progress_bar`).
    meanwhile : callable, optional
        Run in a thread of this process once the workers exist (importing
        TensorFlow and loading a model while they read files, say); the
        block's end waits for it and raises what it raised. In this process
        itself when there is no pool.
    """
    from gensuite.common.progress import progress_bar

    num_workers = num_workers or os.cpu_count() or 1
    with progress_bar(total=len(jobs), unit=unit, desc=desc, enabled=progress) as bar:
        def advance(results):
            for result in results:
                bar.update(1)
                yield result

        if num_workers == 1 or len(jobs) < min_jobs_per_worker * num_workers:
            if meanwhile is not None:
                meanwhile()
            yield advance(map(fn, jobs))
            return
        if "tensorflow" in sys.modules:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload([fn.__module__])
        else:
            ctx = multiprocessing.get_context("fork")
        chunksize = max(1, min(max_chunksize, len(jobs) // (8 * num_workers)))
        with ctx.Pool(num_workers, initializer=_die_with_parent) as pool, \
                ThreadPoolExecutor(max_workers=1) as thread:
            # Started after the fork: the workers must not inherit what it loads.
            started = thread.submit(meanwhile) if meanwhile is not None else None
            yield advance(pool.imap(fn, jobs, chunksize=chunksize))
            if started is not None:
                started.result()


def _die_with_parent() -> None:
    """Worker set-up: end on SIGTERM, and get one when the parent process dies.

    Workers must die on the pool's SIGTERM, not run the CLI's stop-and-save
    handler. A parent killed outright (``kill -9``) never terminates its pool,
    so on Linux the kernel is asked to send the SIGTERM instead (PR_SET_PDEATHSIG);
    otherwise the workers would finish their jobs and then fail on the closed pipe.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        import ctypes  # noqa: PLC0415

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() == 1:  # the parent died before the request took effect
            os._exit(1)
