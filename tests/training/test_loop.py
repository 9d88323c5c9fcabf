"""The shared training loop: when it logs and saves."""

from __future__ import annotations

from gensuite.training.loop import run_training_loop


class Recorder:
    def __init__(self):
        self.step = 0
        self.saves = []
        self.logged = []

    def step_fn(self):
        self.step += 1
        return {"loss": 1.0}

    def save(self):
        self.saves.append(self.step)

    def log(self, split, step, metrics):
        self.logged.append(step)


def run(recorder: Recorder, **kwargs):
    return run_training_loop(recorder.step_fn, get_step=lambda: recorder.step, num_steps=10,
                             save=recorder.save, logger=recorder, log_every=4,
                             progress=False, desc="test", **kwargs)


def test_saves_when_due_and_at_the_end():
    recorder = Recorder()
    run(recorder, checkpoint_every_s=0.0)
    assert recorder.saves == list(range(1, 11)) + [10]
    assert recorder.logged == [4, 8, 10]


def test_workers_agree_on_saves_at_logging_steps_only():
    """Any worker due makes every worker save; the question is asked at logging steps."""
    recorder, asked = Recorder(), []

    def agree(due: bool) -> bool:
        asked.append((recorder.step, due))
        return recorder.step == 8  # another worker's clock says a save is due

    run(recorder, checkpoint_every_s=3600.0, agree=agree)
    assert asked == [(4, False), (8, False)]
    assert recorder.saves == [8, 10]
