"""Each General MIDI program's loudness over a held note, and shaping a note to it.

A generated note's level and its course in time are the generator's weakest
part: rows of one model differ by up to 17 dB where the real programs differ by
a few, and its piano holds 0.64 of its level after a second where a real
piano holds 0.21. A render plays each note with the timbre the generator gave
it and the level curve of the note's program (:func:`shape_to_envelope`), the
way a sampler plays a sample under an amplitude envelope.

The table (``gm_envelopes.npz`` beside this module, written by
``experiments/gm_envelopes.py``) holds, for each of the 128 programs and 9
pitches (MIDI 36-84 in steps of 6), the level in dB of a note held at velocity
100 at 16 log-spaced times from its onset to 2.9 s: the median over
FluidR3_GM, MuseScore General (Lite) and TimGM6mb of the RMS over 10-ms
frames, on one absolute scale for every program.
"""

from __future__ import annotations

import functools
import os

import numpy as np

TABLE_PATH = os.path.join(os.path.dirname(__file__), "gm_envelopes.npz")
FRAME_S = 0.010
# A note's overall level is matched over its first quarter second, where a
# short note lives; the course after that is matched within these bounds, so
# that a generated note that dies early is not lifted out of its own noise.
LEVEL_WINDOW_S = 0.25
MAX_BOOST_DB = 12.0
MAX_CUT_DB = 60.0


@functools.cache
def read_envelope_table(path: str = TABLE_PATH) -> dict[str, np.ndarray]:
    """The table: ``levels_db`` (128, n_pitches, n_times), ``pitches`` and ``times_s``."""
    with np.load(path) as data:
        return {name: data[name] for name in ("levels_db", "pitches", "times_s")}


def program_envelope_db(program: int, pitch: int, *, table: dict | None = None
                        ) -> tuple[np.ndarray, np.ndarray]:
    """``(times_s, level_db)``: the level curve of ``program`` at ``pitch``.

    Pitches between the table's are interpolated linearly in dB; pitches
    outside take the nearest end.
    """
    table = read_envelope_table() if table is None else table
    levels = table["levels_db"][program]  # (n_pitches, n_times)
    weights = np.interp(pitch, table["pitches"], np.arange(len(table["pitches"])))
    low = int(np.floor(weights))
    high = min(low + 1, len(table["pitches"]) - 1)
    fraction = weights - low
    return table["times_s"], (1 - fraction) * levels[low] + fraction * levels[high]


def frame_levels_db(wave: np.ndarray, *, sample_rate: int) -> np.ndarray:
    """RMS level in dB of each whole 10-ms frame, shape (n_frames,)."""
    frame = max(1, int(round(FRAME_S * sample_rate)))
    n_frames = len(wave) // frame
    frames = np.asarray(wave[:n_frames * frame], np.float64).reshape(n_frames, frame)
    return 10 * np.log10(np.mean(np.square(frames), axis=1) + 1e-12)


def _mean_db(levels_db: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(10 ** (levels_db / 10))))


def shape_to_envelope(wave: np.ndarray, *, times_s: np.ndarray, level_db: np.ndarray,
                      sample_rate: int) -> np.ndarray:
    """``wave`` with the level curve ``level_db`` at ``times_s`` instead of its own.

    The gain is set per 10-ms frame and interpolated linearly between frame
    centres: the overall level over the first :data:`LEVEL_WINDOW_S` is
    matched exactly, and the frame-by-frame course within
    [-:data:`MAX_CUT_DB`, +:data:`MAX_BOOST_DB`] of that. After the curve's
    last time the last frame's gain holds.

    Parameters
    ----------
    wave : np.ndarray, shape (n_samples,)
        A note starting at its onset.
    times_s, level_db : np.ndarray, shape (n_times,)
        The target curve (:func:`program_envelope_db`): absolute levels, so
        that notes shaped to different programs keep the programs' balance.
    sample_rate : int

    Returns
    -------
    np.ndarray, shape (n_samples,), float32
    """
    frame = max(1, int(round(FRAME_S * sample_rate)))
    own_db = frame_levels_db(wave, sample_rate=sample_rate)
    if len(own_db) == 0 or own_db.max() <= -119:
        return np.asarray(wave, np.float32)
    centres_s = (np.arange(len(own_db)) + 0.5) * FRAME_S
    wanted_db = np.interp(centres_s, times_s, level_db)
    n_level = max(1, int(round(LEVEL_WINDOW_S / FRAME_S)))
    offset_db = _mean_db(wanted_db[:n_level]) - _mean_db(own_db[:n_level])
    gain_db = offset_db + np.clip(wanted_db - own_db - offset_db, -MAX_CUT_DB, MAX_BOOST_DB)
    gain = 10 ** (np.interp(np.arange(len(wave)), (np.arange(len(own_db)) + 0.5) * frame,
                            gain_db) / 20)
    return (np.asarray(wave, np.float32) * gain.astype(np.float32)).astype(np.float32)
