"""The step loop every trainer shares: progress bar, averaged logs, periodic saves.

A trainer supplies one optimisation step and its hooks; the loop runs steps
until the step counter reaches a total, averages the step metrics over each
logging window, saves every few minutes of wall time, at the end and on
KeyboardInterrupt (then re-raised), so an interrupted run resumes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection

from gensuite.common.errors import ParameterError
from gensuite.common.progress import progress_bar

Metrics = dict[str, float]


def check_num_steps(num_steps) -> int:
    """``num_steps`` as an int, or ParameterError unless it is an integer >= 1."""
    if int(num_steps) != num_steps or num_steps < 1:
        raise ParameterError(f"num_steps: must be an integer >= 1, got {num_steps!r}")
    return int(num_steps)


def run_training_loop(step_fn: Callable[[], Metrics], *, get_step: Callable[[], int],
                      num_steps: int, save: Callable[[], object], logger, log_every: int,
                      checkpoint_every_s: float, progress: bool, desc: str,
                      keep_last: Collection[str] = (),
                      postfix: Callable[[Metrics], dict] | None = None,
                      after_step: Callable[[int, Metrics], Metrics | None] | None = None,
                      after_save: Callable[[int], object] | None = None,
                      stop_when: Callable[[], bool] | None = None,
                      agree: Callable[[bool], bool] | None = None) -> Metrics:
    """Run ``step_fn`` until ``get_step()`` reaches ``num_steps`` (a total, not steps to add).

    Parameters
    ----------
    step_fn : callable
        One optimisation step; returns its metrics. ``steps_per_second`` is added.
    get_step : callable
        The trainer's step counter (advanced by ``step_fn``).
    save : callable
        Writes a resumable checkpoint.
    logger : MetricsLogger
        Receives the ``train`` record every ``log_every`` steps and at the end.
    keep_last : collection of str
        Metrics logged as of the last step (schedules, stages) instead of averaged.
    postfix : callable, optional
        Progress-bar fields from the logged metrics.
    after_step : callable, optional
        ``(step, last_logged) -> new_last or None`` after every step, e.g. a
        held-out evaluation every N steps; a returned dict becomes the result.
    after_save : callable, optional
        ``(step)`` after each periodic save (e.g. write sample outputs).
    stop_when : callable, optional
        ``() -> bool``, asked before each step: True ends the run early (saved
        as at the end), e.g. a wall-time budget.
    agree : callable, optional
        ``(due) -> bool``: whether any process of a multi-worker run finds a
        save due (:func:`gensuite.training.distribute.any_worker`). Every
        worker must take part in each save, but their clocks differ, so with
        it the save is decided together, at logging steps only.

    Returns
    -------
    dict
        The last logged (or ``after_step``) metrics.

    Raises
    ------
    KeyboardInterrupt
        After saving a checkpoint.
    """
    num_steps = check_num_steps(num_steps)
    start_step = get_step()
    last: Metrics = {}
    window: Metrics = {}
    n_window = 0
    last_save = time.monotonic()
    bar = progress_bar(total=num_steps, initial=min(start_step, num_steps), enabled=progress,
                       desc=desc, unit="step")
    try:
        while get_step() < num_steps and not (stop_when is not None and stop_when()):
            started = time.monotonic()
            metrics = step_fn()
            metrics["steps_per_second"] = 1.0 / max(time.monotonic() - started, 1e-9)
            for k, v in metrics.items():
                window[k] = window.get(k, 0.0) + v
            n_window += 1
            step = get_step()
            bar.update(1)
            if not math.isfinite(metrics.get("loss", 0.0)):
                bar.set_postfix_str("non-finite loss: step skipped")
            if step % log_every == 0 or step >= num_steps:
                last = {k: metrics[k] if k in keep_last else v / n_window
                        for k, v in window.items()}
                logger.log("train", step, last)
                if postfix is not None:
                    bar.set_postfix(postfix(last))
                window, n_window = {}, 0
            if after_step is not None:
                last = after_step(step, last) or last
            due = time.monotonic() - last_save >= checkpoint_every_s
            if agree is not None:
                due = step % log_every == 0 and agree(due)
            if due:
                save()
                if after_save is not None:
                    after_save(step)
                last_save = time.monotonic()
    except KeyboardInterrupt:
        save()
        raise
    finally:
        bar.close()
    if get_step() > start_step:
        save()
    return last
