"""tf.distribute speed: MusicVAE training steps/s on 1 vs 2 logical CPU devices, one JSON object.

Each setting runs in its own process (logical devices are fixed when
TensorFlow starts): ``default`` trains on one device; ``mirrored`` splits
the same global batch over two logical CPU devices of the one physical CPU.
Both devices share this machine's cores, so on a 2-core machine the second
replica adds no compute: the figure measures what splitting, the all-reduce
and the extra per-replica ops cost, not what a second GPU or host would gain.
Timed steps follow two warm-up steps (tracing); random one-hot batches.

Usage::

    python benchmarks/distributed.py [--config cpu-mel_2bar] [--steps 20] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

SETTINGS = (("default", 1), ("mirrored", 2))


def steps_per_second(config_name: str, strategy_name: str, logical_cpus: int,
                     steps: int) -> float:
    """Train ``steps`` steps after two warm-up steps; runs in a fresh process."""
    import tensorflow as tf

    cpus = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(
        cpus[0], [tf.config.LogicalDeviceConfiguration()] * logical_cpus)
    from gensuite.music_vae.configs import get_config
    from gensuite.music_vae.trainer import VAETrainer
    from gensuite.training.distribute import make_strategy

    config = get_config(config_name)
    x = np.eye(config.input_depth, dtype=np.float32)[np.random.default_rng(0).integers(
        0, config.input_depth, (config.batch_size, config.n_steps))]
    lengths = np.full(config.batch_size, config.n_steps, np.int32)
    with tempfile.TemporaryDirectory() as run_dir:
        trainer = VAETrainer(config, run_dir, progress=False,
                             strategy=make_strategy(strategy_name))
        for _ in range(2):
            trainer.train_step(x, x, lengths)
        started = time.perf_counter()
        for _ in range(steps):
            trainer.train_step(x, x, lengths)
        return steps / (time.perf_counter() - started)


def run_child(config_name: str, strategy_name: str, logical_cpus: int, steps: int) -> float:
    done = subprocess.run(
        [sys.executable, __file__, "--child", strategy_name, str(logical_cpus),
         "--config", config_name, "--steps", str(steps)],
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, capture_output=True, text=True,
        check=False)
    if done.returncode:
        raise RuntimeError(f"{strategy_name} on {logical_cpus} device(s) failed:\n"
                           f"{done.stderr[-2000:]}")
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="cpu-mel_2bar")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("STRATEGY", "LOGICAL_CPUS"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(steps_per_second(args.config, args.child[0], int(args.child[1]), args.steps))
        return

    rates = {}
    for strategy_name, logical_cpus in SETTINGS:
        label = f"{strategy_name}_{logical_cpus}_device{'s' if logical_cpus > 1 else ''}"
        rates[label] = round(max(run_child(args.config, strategy_name, logical_cpus, args.steps)
                                 for _ in range(args.repeats)), 2)
    one, two = rates["default_1_device"], rates["mirrored_2_devices"]
    print(json.dumps({
        "benchmark": "distributed", "cpu_count": os.cpu_count(), "config": args.config,
        "train_steps_per_s": rates, "two_vs_one_device_ratio": round(two / one, 2),
        "bound": f"{os.cpu_count()} CPU cores shared by both logical devices: a second "
                 f"replica adds no compute here, so this is the cost of splitting and "
                 f"all-reducing, not the speed-up of a second GPU or host",
        "timing": "best of --repeats processes, --steps steps after two warm-up steps",
    }))


if __name__ == "__main__":
    main()
