"""Training on tf.distribute: strategies, chief election, and trainers split over replicas.

The slow tests train tiny presets in subprocesses (logical CPU devices must be
configured before TensorFlow starts; a multi-worker run is two processes on
free localhost ports) and compare each run's per-step losses with one device
training the same global batches from the same seed.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from gensuite.common.errors import ParameterError

WORKER = os.path.join(os.path.dirname(__file__), "distributed_worker.py")
TIMEOUT_S = 150
STEPS, RESUMED_STEPS = 3, 5


def tf_config(ports, index: int, task_type: str = "worker", chief: bool = False) -> str:
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    if chief:
        cluster["chief"] = ["127.0.0.1:1"]
    return json.dumps({"cluster": cluster, "task": {"type": task_type, "index": index}})


@pytest.mark.parametrize("task_type, index, chief, expected", [
    ("worker", 0, False, True), ("worker", 1, False, False),
    ("worker", 0, True, False), ("chief", 0, True, True)])
def test_task_is_chief(task_type, index, chief, expected):
    from gensuite.training.distribute import task_is_chief

    assert task_is_chief(tf_config([2000, 2001], index, task_type, chief)) is expected


@pytest.mark.parametrize("text", [
    "", "{", '{"cluster": {}, "task": {"type": "worker", "index": 0}}',
    '{"cluster": {"worker": ["a:1"]}}',
    '{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 1}}'])
def test_bad_tf_config_is_refused(text):
    from gensuite.training.distribute import cluster_spec

    with pytest.raises(ParameterError, match="TF_CONFIG"):
        cluster_spec(text)


def test_default_strategy_is_the_one_device_path(monkeypatch):
    from gensuite.training.distribute import is_chief, is_distributed, make_strategy

    monkeypatch.delenv("TF_CONFIG", raising=False)
    strategy = make_strategy("default")
    assert not is_distributed(strategy) and is_chief(strategy)
    with pytest.raises(ParameterError, match="TF_CONFIG"):
        make_strategy("multi-worker")
    with pytest.raises(ParameterError, match="one of default, mirrored"):
        make_strategy("tpu")


def test_replica_shares_add_up_to_the_batch():
    import tensorflow as tf

    from gensuite.training.distribute import average_loss, global_rows

    per_example = tf.constant([1.0, 2.0, 3.0, 6.0])
    shares = [average_loss(per_example[i:i + 2], global_batch=4) for i in (0, 2)]
    assert float(sum(shares)) == pytest.approx(float(average_loss(per_example)))

    def draw(shape):
        return tf.random.stateless_normal(shape, seed=[1, 2])

    whole = draw([4, 3])
    for first in (0, 2):
        np.testing.assert_array_equal(global_rows(draw, [2, 3], first, 4),
                                      whole[first:first + 2])


# --- trainers in subprocesses -----------------------------------------------------------

def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def start(trainer, *runs, logical_cpus=1, env=None):
    """A worker process doing ``runs``, each (strategy, run_dir, num_steps), in order."""
    return subprocess.Popen(
        [sys.executable, WORKER, trainer, str(logical_cpus),
         *(f"{strategy}:{run_dir}:{num_steps}" for strategy, run_dir, num_steps in runs)],
        env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)


def finish(*processes) -> None:
    for process in processes:
        try:
            output, _ = process.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            for p in processes:
                p.kill()
            raise
        assert process.returncode == 0, output[-3000:]


def logged(run_dir, key="loss") -> list[float]:
    """The per-step training figure ``key`` a run logged (metrics.jsonl)."""
    from gensuite.training.checkpointing import read_metrics

    return [record[key] for record in read_metrics(str(run_dir), "train")]


def checkpoint_files(run_dir) -> list[str]:
    return sorted(os.listdir(os.path.join(run_dir, "checkpoints")))


TRAINERS = ["vae", "rnn", "analyze", "gansynth", "latent"]


@pytest.fixture(scope="module")
def launched(request, tmp_path_factory):
    """Start every selected trainer's runs, two trainers at a time; trainer -> future.

    Each is one process on 2 logical CPUs: one device for STEPS steps (vae:
    then resumed to RESUMED_STEPS, which only the multi-worker test reads),
    then mirrored. Most of a process is single-threaded start-up, so two at a
    time fill the 2 cores.
    """
    selected = {item.callspec.params.get("runs") for item in request.session.items
                if item.module is request.module and hasattr(item, "callspec")}

    def run(trainer):
        reference = tmp_path_factory.mktemp(f"{trainer}-default")
        mirrored = tmp_path_factory.mktemp(f"{trainer}-mirrored")
        resumed = [("default", reference, RESUMED_STEPS)] if trainer == "vae" else []
        finish(start(trainer, ("default", reference, STEPS), *resumed,
                     ("mirrored", mirrored, STEPS), logical_cpus=2))
        return trainer, reference, mirrored

    with ThreadPoolExecutor(max_workers=2) as pool:
        yield {trainer: pool.submit(run, trainer) for trainer in TRAINERS if trainer in selected}


@pytest.fixture(scope="module", params=TRAINERS)
def runs(request, launched):
    """(trainer, one-device run, mirrored run); the rnn worker turns dropout off,
    so distributed runs match it but for float summation order."""
    return launched[request.param].result()


@pytest.mark.slow
def test_mirrored_matches_one_device(runs):
    _, reference_dir, mirrored_dir = runs
    assert checkpoint_files(mirrored_dir) == [
        "checkpoint", f"ckpt-{STEPS}.data-00000-of-00001", f"ckpt-{STEPS}.index"]
    trainer = runs[0]
    # gansynth: two updates a step, the minibatch deviation and the mode-seeking
    # spread are global-batch statistics, and step 3 fades a block in.
    # latent: the free-bits hinge is of the global batch's mean KL.
    keys = {"gansynth": ("d_loss", "g_loss", "latent_spread"),
            "latent": ("loss", "latent_nll", "kl_bits")}.get(trainer, ("loss", "accuracy"))
    for key in keys:
        np.testing.assert_allclose(logged(mirrored_dir, key), logged(reference_dir, key)[:STEPS],
                                   rtol=1e-5)


# The vae trainer only: what multi-worker adds to mirrored (chief-only saves
# and logs, agreed save steps, resuming on another cluster) is the shared loop's.
@pytest.mark.parametrize("runs", ["vae"], indirect=True)
@pytest.mark.slow
def test_multi_worker_matches_one_device_and_resumes_on_one(runs, tmp_path):
    trainer, reference_dir, _ = runs
    ports = free_ports(2)
    workers = [start(trainer, ("multi-worker", tmp_path, STEPS),
                     env={"TF_CONFIG": tf_config(ports, i)}) for i in range(2)]
    finish(*workers)
    # The chief wrote the checkpoint and the logs once; the other worker nothing.
    assert checkpoint_files(tmp_path) == [
        "checkpoint", f"ckpt-{STEPS}.data-00000-of-00001", f"ckpt-{STEPS}.index"]
    assert len(logged(tmp_path)) == STEPS
    finish(start(trainer, ("default", tmp_path, RESUMED_STEPS)))
    np.testing.assert_allclose(logged(tmp_path), logged(reference_dir), rtol=1e-5)


def test_rnn_model_built_outside_the_strategy_is_refused(tmp_path):
    import tensorflow as tf

    from gensuite.melody_rnn.model import MelodyRNN
    from gensuite.melody_rnn.trainer import train_melody_rnn

    model = MelodyRNN("tiny-basic_rnn")
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with pytest.raises(ParameterError, match=r"inside strategy\.scope\(\)"):
        train_melody_rnn(model, [np.array([60, -2, 62])], run_dir=tmp_path, num_steps=1,
                         strategy=strategy)
