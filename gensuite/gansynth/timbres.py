"""Timbre latents of a GANSynth, with numpy alone.

A timbre latent is z (``latent_size`` values from N(0, 1)) followed, for a
model conditioned on instruments, by one weight per row of its instrument
table (one-hot for a trained instrument). The render draws latents here
without loading the model (and TensorFlow) when its notes are cached.
"""

from __future__ import annotations

import numpy as np

from gensuite.common.errors import ParameterError


def check_instruments(instruments: list[dict], config) -> list[dict]:
    """``instruments`` as a list of {name, family, program}, at most ``config.n_instruments``.

    ``config`` is anything with ``name`` and ``n_instruments`` (a GANSynthConfig,
    or the render's spec read from ``config.json``).
    """
    if len(instruments) > config.n_instruments:
        raise ParameterError(
            f"instruments: config {config.name} has {config.n_instruments} instrument rows, "
            f"got {len(instruments)} instruments")
    if config.n_instruments and not instruments:
        raise ParameterError(f"instruments: config {config.name} is conditioned on "
                             f"instruments; name the trained ones")
    out = []
    for i, item in enumerate(instruments):
        if not (isinstance(item, dict) and isinstance(item.get("name"), str)
                and isinstance(item.get("family"), str)
                and (item.get("program") is None or isinstance(item.get("program"), int))):
            raise ParameterError(f"instruments: entry {i} must be {{name: str, family: str, "
                                 f"program: int or null}}, got {item!r}")
        out.append({"name": item["name"], "family": item["family"],
                    "program": item.get("program")})
    return out


def draw_timbres(n: int, *, latent_size: int, n_instruments: int = 0, n_trained: int = 0,
                 seed: int | None = None, instruments=None) -> np.ndarray:
    """``n`` timbre latents: z from N(0, 1), then one-hot instrument weights.

    numpy alone (the render draws latents without loading the model).

    Parameters
    ----------
    n : int
    latent_size, n_instruments : int
        The config's; with ``n_instruments`` 0 a latent is z alone.
    n_trained : int
        Instruments with data (rows ``0 .. n_trained - 1``); each latent's
        instrument is drawn uniformly among them after z, from the same stream.
    seed : int, optional
    instruments : sequence of int, optional
        Rows to use instead of drawing them (length ``n``).

    Returns
    -------
    np.ndarray, float32, shape (n, latent_size + n_instruments)
    """
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, latent_size)).astype(np.float32)
    if not n_instruments:
        return z
    rows = rng.integers(0, max(n_trained, 1), n) if instruments is None else np.asarray(instruments)
    if rows.shape != (n,) or rows.min(initial=0) < 0 or rows.max(initial=0) >= max(n_trained, 1):
        raise ParameterError(f"instruments: must be {n} rows in 0-{max(n_trained, 1) - 1}, "
                             f"got {instruments!r}")
    weights = np.zeros((n, n_instruments), np.float32)
    weights[np.arange(n), rows] = 1.0
    return np.concatenate([z, weights], axis=1)


def instrument_for_program(program: int, instruments: list[dict]) -> int:
    """The trained instrument row that should play General MIDI ``program``.

    The first row of that program (the first ``--data`` folder's, in
    training order); else, among the rows of the program's NSynth family, the
    nearest program number; else the nearest program overall (rows without a
    program last).

    Parameters
    ----------
    program : int
        0-127.
    instruments : list of dict
        The model's ``instruments`` (``{"name", "family", "program"}``), non-empty.
    """
    from gensuite.audio.nsynth import INSTRUMENT_FAMILIES, program_family  # noqa: PLC0415

    if not instruments:
        raise ParameterError("instruments: the model names no trained instrument")
    family = INSTRUMENT_FAMILIES[program_family(int(program))]
    same_family = [i for i, item in enumerate(instruments) if item["family"] == family]
    pool = same_family or range(len(instruments))

    def distance(i: int) -> tuple[int, int]:
        other = instruments[i]["program"]
        return (abs(other - program) if other is not None else 1000, i)

    return min(pool, key=distance)
