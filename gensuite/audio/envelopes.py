"""Note envelopes (numpy only): where a note's attack is, each General MIDI program's curve.

Two things a GANSynth note gets wrong in time, and how they are put right:

* **The attack.** A generated note reaches half of its early peak level
  50-150 ms after its first sample, where a soundfont's piano note takes
  5 ms, and some models' notes start with a broadband click.
  :func:`start_at_attack` moves the note's attack (where it first reaches a
  fifth of its early peak) to its first sample, as a sampler's start offset
  would, and fades it in over 10 ms (and out over 10 ms before the silence
  that now pads its end). Cutting later into the rise (at half the peak) made
  the cut itself click on notes that swell.
* **The level over time.** On the render benchmark's song the tracks of
  ``gansynth_instruments`` differ by 16 dB in level where a soundfont's
  differ by 3, and its piano holds 0.60 of its level after 1 s where
  FluidR3's holds 0.27 (``experiments/render_track_levels.py``). A render plays each note
  with the timbre the generator gave it and the level curve of the note's
  program (:func:`shape_to_envelope`), the way a sampler plays a sample under
  an amplitude envelope.

The programs' table (``gm_envelopes.npz`` beside this module, written by
``experiments/gm_envelopes.py``) holds, for each of the 128 programs:

* ``levels_db`` (128, 9, 16): at 9 pitches (MIDI 36-84 in steps of 6), the
  level in dB of a note held at velocity 100 at 16 log-spaced times from its
  onset to 2.9 s, on one absolute scale for every program;
* ``release_20db_s`` (128,): the seconds its notes take, after the note-off,
  to fall 20 dB (MIDI 48, 60 and 72); NaN where they die away before it;

each the median over FluidR3_GM, MuseScore General (Lite) and TimGM6mb, from
the RMS over 10-ms frames.
"""

from __future__ import annotations

import functools
import os

import numpy as np

TABLE_PATH = os.path.join(os.path.dirname(__file__), "gm_envelopes.npz")
TABLE_FIELDS = ("levels_db", "pitches", "times_s", "release_20db_s")
FRAME_S = 0.010
# The attack: the first 5-ms frame at a fifth of the loudest in the first 0.5 s.
ONSET_LEVEL = 0.2
ONSET_SEARCH_S = 0.5
ONSET_FRAME_S = 0.005
FADE_S = 0.010
# A note's overall level is matched over its first quarter second, where a
# short note lives; the course after that is matched within these bounds, so
# that a generated note that dies early is not lifted out of its own noise.
LEVEL_WINDOW_S = 0.25
MAX_BOOST_DB = 12.0
MAX_CUT_DB = 60.0
SILENT_DB = -120.0  # frame_levels_db of digital silence


def frame_power(wave: np.ndarray, *, sample_rate: int, frame_s: float = FRAME_S) -> np.ndarray:
    """Mean square of each whole frame of ``frame_s``, shape (n_frames,), float64."""
    frame = max(1, int(round(frame_s * sample_rate)))
    n_frames = len(wave) // frame
    frames = np.asarray(wave[:n_frames * frame], np.float64).reshape(n_frames, frame)
    return np.mean(np.square(frames), axis=1)


def frame_levels_db(wave: np.ndarray, *, sample_rate: int, frame_s: float = FRAME_S
                    ) -> np.ndarray:
    """RMS level in dB of each whole frame (10 ms by default), shape (n_frames,)."""
    return 10 * np.log10(frame_power(wave, sample_rate=sample_rate, frame_s=frame_s) + 1e-12)


def onset_offset_samples(wave: np.ndarray, *, sample_rate: int, level: float = ONSET_LEVEL) -> int:
    """Samples before a note's attack: where its level first reaches ``level`` of its early peak.

    Levels are RMS over 5-ms frames of the first 0.5 s; the offset is the
    start of the frame before the first one at ``level`` times their maximum
    (0 for a silent note, or one that starts at once).

    Parameters
    ----------
    wave : np.ndarray, shape (n_samples,)
    sample_rate : int
    level : float
        In (0, 1].

    Returns
    -------
    int
    """
    head = wave[:int(ONSET_SEARCH_S * sample_rate)]
    power = frame_power(head, sample_rate=sample_rate, frame_s=ONSET_FRAME_S)
    if power.size == 0 or power.max() == 0:
        return 0
    first = int(np.argmax(power >= level ** 2 * power.max()))
    return max(0, first - 1) * max(1, int(round(ONSET_FRAME_S * sample_rate)))


def start_at_attack(wave: np.ndarray, *, sample_rate: int, level: float = ONSET_LEVEL,
                    fade_s: float = FADE_S) -> np.ndarray:
    """``wave`` from its attack (:func:`onset_offset_samples`) on, faded in, same length.

    Parameters
    ----------
    wave : np.ndarray, shape (n_samples,)
    sample_rate : int
    level : float
        Where the attack is, as in :func:`onset_offset_samples`.
    fade_s : float
        Length of the linear fade-in, s; a note moved earlier also fades out
        over it before the zeros that pad its end.

    Returns
    -------
    np.ndarray, shape (n_samples,), float32
    """
    wave = np.asarray(wave, np.float32)
    offset = onset_offset_samples(wave, sample_rate=sample_rate, level=level)
    n_kept = len(wave) - offset
    out = np.zeros_like(wave)
    out[:n_kept] = wave[offset:]
    n_fade = min(n_kept, int(round(fade_s * sample_rate)))
    ramp = np.linspace(0.0, 1.0, n_fade, endpoint=False, dtype=np.float32)
    out[:n_fade] *= ramp
    if offset:
        out[n_kept - n_fade:n_kept] *= ramp[::-1]
    return out


@functools.cache
def read_envelope_table(path: str = TABLE_PATH) -> dict[str, np.ndarray]:
    """The programs' table: the arrays named in :data:`TABLE_FIELDS`."""
    with np.load(path) as data:
        return {name: data[name] for name in TABLE_FIELDS}


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


def program_release_20db_s(program: int, *, table: dict | None = None) -> float | None:
    """Seconds ``program``'s notes take to fall 20 dB after the note-off.

    None for a program whose notes die away before it, or outside 0-127.
    """
    table = read_envelope_table() if table is None else table
    releases = table["release_20db_s"]
    if not 0 <= program < len(releases) or np.isnan(releases[program]):
        return None
    return float(releases[program])


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
    wave = np.asarray(wave, np.float32)
    own_db = frame_levels_db(wave, sample_rate=sample_rate)
    if len(own_db) == 0 or own_db.max() <= SILENT_DB + 1:
        return wave
    centres_s = (np.arange(len(own_db)) + 0.5) * FRAME_S
    wanted_db = np.interp(centres_s, times_s, level_db)
    n_level = max(1, int(round(LEVEL_WINDOW_S / FRAME_S)))
    offset_db = _mean_db(wanted_db[:n_level]) - _mean_db(own_db[:n_level])
    gain_db = offset_db + np.clip(wanted_db - own_db - offset_db, -MAX_CUT_DB, MAX_BOOST_DB)
    gain = 10 ** (np.interp(np.arange(len(wave)) / sample_rate, centres_s, gain_db) / 20)
    return wave * gain.astype(np.float32)
