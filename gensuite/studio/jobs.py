"""Background jobs of the studio: queued, run on a few threads, polled and cancelled.

A job's work is a function of the :class:`Job`; it reports progress with
:meth:`Job.report`, which raises :class:`JobCancelled` once the job is
cancelled, so work stops at its next report. Threads cannot be killed, so a
job cancelled inside a step that reports nothing (a model's training) stops
when that step ends; its output is then discarded by the work function.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
import traceback
import uuid

from gensuite.common.errors import GensuiteError

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINISHED = (DONE, FAILED, CANCELLED)
MAX_FINISHED_KEPT = 200  # finished jobs remembered for polling; older ones are forgotten


class JobCancelled(Exception):
    """Raised inside a job's work when the job was cancelled."""


class Job:
    """One background job: its state, progress and result, safe to read from any thread.

    Parameters
    ----------
    kind : str
        What it does (``"render"``, ``"personalize"``), for the page.
    """

    def __init__(self, *, kind: str):
        self.id = uuid.uuid4().hex[:12]
        self.kind = kind
        self.state = QUEUED
        self.progress = 0.0
        self.message = "queued"
        self.result: dict | None = None
        self.error: str | None = None
        self.created = time.time()
        self._cancel = threading.Event()
        self._lock = threading.Lock()

    @property
    def cancelled(self) -> bool:
        """Whether cancellation was asked."""
        return self._cancel.is_set()

    def report(self, *, progress: float | None = None, message: str | None = None) -> None:
        """Record progress (0 to 1) and what runs now.

        Raises
        ------
        JobCancelled
            The job was cancelled: the work stops here.
        """
        if self._cancel.is_set():
            raise JobCancelled
        with self._lock:
            if progress is not None:
                self.progress = min(max(float(progress), 0.0), 1.0)
            if message is not None:
                self.message = message

    def cancel(self) -> None:
        """Ask the job to stop; a queued job never starts."""
        self._cancel.set()
        with self._lock:
            if self.state in (QUEUED, RUNNING):
                self.message = "cancelling"

    def _finish(self, state: str, *, result=None, error=None, message: str) -> None:
        with self._lock:
            self.state, self.result, self.error, self.message = state, result, error, message
            if state == DONE:
                self.progress = 1.0

    def to_dict(self) -> dict:
        """The job as the API returns it."""
        with self._lock:
            return {"id": self.id, "kind": self.kind, "state": self.state,
                    "progress": round(self.progress, 3), "message": self.message,
                    "result": self.result, "error": self.error}


class JobRunner:
    """Runs jobs on ``workers`` threads, oldest first.

    Parameters
    ----------
    workers : int
        Jobs running at once; more wait in the queue.
    """

    def __init__(self, *, workers: int = 2):
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="studio-job")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def submit(self, work, *, kind: str) -> Job:
        """Queue ``work(job) -> dict`` and return its job."""
        job = Job(kind=kind)
        with self._lock:
            self._forget_old()
            self._jobs[job.id] = job
        self._executor.submit(self._run, job, work)
        return job

    def get(self, job_id: str) -> Job | None:
        """The job of this id, or None."""
        with self._lock:
            return self._jobs.get(job_id)

    def shutdown(self) -> None:
        """Cancel every job and wait for the running ones to stop."""
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            job.cancel()
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _run(self, job: Job, work) -> None:
        if job.cancelled:
            job._finish(CANCELLED, message="cancelled before it started")
            return
        job.state = RUNNING
        try:
            job.report(message="running")
            result = work(job)
        except JobCancelled:
            job._finish(CANCELLED, message="cancelled")
        except GensuiteError as exc:
            job._finish(FAILED, error=str(exc), message="failed")
        except Exception as exc:  # a bug: the page shows one line, the console the trace
            traceback.print_exc()
            job._finish(FAILED, error=f"internal error: {type(exc).__name__}: {exc}",
                        message="failed")
        else:
            if job.cancelled:  # cancelled during a step that could not stop
                job._finish(CANCELLED, message="cancelled")
            else:
                job._finish(DONE, result=result, message="done")

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if j.state in FINISHED]
        for job in sorted(finished, key=lambda j: j.created)[:-MAX_FINISHED_KEPT]:
            del self._jobs[job.id]
