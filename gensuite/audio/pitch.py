"""Fundamental-frequency checks of single notes: is this note at the pitch it was asked for?

Uses librosa's pYIN, not an FFT peak: low piano, brass and organ notes often
have weak fundamentals (or 16' sub-octaves), where the strongest partial is
not the pitch. Even pYIN makes octave errors when searching five octaves
(measured on FluidR3_GM: church organ at MIDI 72 and 84 read an octave and
two octaves low), so the checks here search only a window of
``search_semitones`` (default 11) around the pitch a note should have: octave
errors fall outside it, and any mistuning inside it is still measured.
That window also makes pYIN about 10x faster (0.07 s instead of 0.76 s per
1 s of 16 kHz audio on this machine's CPU).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np

from gensuite.common.errors import ParameterError

# Analyse the start of a note: enough frames for a stable median, and the
# part every note has (short notes decay; NSynth holds 3 s).
DEFAULT_ANALYSIS_S = 1.0
DEFAULT_FMIN_HZ = 30.0     # below MIDI 24 (32.7 Hz), GANSynth's lowest pitch
DEFAULT_FMAX_HZ = 2100.0   # above MIDI 96
DEFAULT_SEARCH_SEMITONES = 11.0
DEFAULT_TOLERANCE_CENTS = 50.0
# pYIN needs a frame of a few periods of the lowest frequency searched.
_PERIODS_PER_FRAME = 4
_MIN_FRAME_LENGTH = 1024
_HOP_S = 0.032
_PYIN_MAX_TRANSITION_RATE = 35.92  # librosa's default, octaves per second


def midi_to_hz(midi_pitch: float) -> float:
    """Equal-tempered frequency of a MIDI pitch (A4 = MIDI 69 = 440 Hz)."""
    return 440.0 * 2.0 ** ((midi_pitch - 69) / 12.0)


def cents_between(f0_hz: float | np.ndarray, midi_pitch: float | np.ndarray) -> float | np.ndarray:
    """How far ``f0_hz`` lies from a MIDI pitch, in cents (100 per semitone).

    Positive when sharp. NaN where ``f0_hz`` is NaN (unvoiced) or not > 0.
    """
    f0_hz = np.asarray(f0_hz, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        cents = 1200.0 * np.log2(f0_hz / (440.0 * 2.0 ** ((np.asarray(midi_pitch) - 69) / 12.0)))
    cents = np.where(f0_hz > 0, cents, np.nan)
    return float(cents) if cents.ndim == 0 else cents


def search_range_hz(midi_pitch: float, *,
                    search_semitones: float = DEFAULT_SEARCH_SEMITONES) -> tuple[float, float]:
    """(fmin_hz, fmax_hz) spanning ``search_semitones`` either side of a pitch.

    Keep ``search_semitones`` under 12: at an octave the harmonics and
    sub-harmonics that pYIN confuses with the pitch come back into the window.
    """
    if not 0 < search_semitones < 12:
        raise ParameterError(
            f"search_semitones: must be in (0, 12) so octave errors stay outside the "
            f"window, got {search_semitones!r}")
    return (midi_to_hz(midi_pitch - search_semitones), midi_to_hz(midi_pitch + search_semitones))


def estimate_f0_hz(wave: np.ndarray, *, sample_rate: int,
                   fmin_hz: float = DEFAULT_FMIN_HZ, fmax_hz: float = DEFAULT_FMAX_HZ,
                   analysis_s: float = DEFAULT_ANALYSIS_S) -> float:
    """Fundamental frequency of a single note: the median pYIN f0 over voiced frames.

    Parameters
    ----------
    wave : np.ndarray
        Mono audio, shape [n_samples], any float dtype, the note starting near 0.
    sample_rate : int
        Hz.
    fmin_hz, fmax_hz : float
        Frequencies searched, ``0 < fmin_hz < fmax_hz <= sample_rate / 2``.
        Narrow them around the expected pitch when there is one (see
        :func:`search_range_hz`): faster, and free of octave errors.
    analysis_s : float
        Only the first this-many seconds are analysed (the cost is linear in it).

    Returns
    -------
    float
        Hz, or NaN when no frame is voiced (silence, noise, drums).

    Raises
    ------
    ParameterError
        If the wave is not 1-D or a frequency bound is out of range.
    """
    wave = np.asarray(wave)
    if wave.ndim != 1:
        raise ParameterError(f"wave: must be 1-D [n_samples], got shape {wave.shape}")
    if not 0 < fmin_hz < fmax_hz <= sample_rate / 2:
        raise ParameterError(
            f"fmin_hz, fmax_hz: must satisfy 0 < fmin_hz < fmax_hz <= sample_rate/2 "
            f"({sample_rate / 2:g}), got {fmin_hz:g}, {fmax_hz:g}")
    frame_length = frame_length_for(fmin_hz, sample_rate=sample_rate)
    n_samples = max(round(analysis_s * sample_rate), frame_length)
    segment = wave[:n_samples].astype(np.float32, copy=False)
    if segment.size < frame_length or not np.any(segment):
        return math.nan
    import librosa

    # One frame per ~32 ms (512 samples at 16 kHz) whatever the frame length:
    # pYIN's cost is per frame, and a median needs a few dozen, not hundreds.
    hop_length = 1 << round(math.log2(_HOP_S * sample_rate))
    # pYIN's pitch-transition band (in semitones per frame) must fit inside the
    # searched range, which a narrow window or a long hop would break.
    range_semitones = 12 * math.log2(fmax_hz / fmin_hz)
    max_transition_rate = min(_PYIN_MAX_TRANSITION_RATE,
                              math.floor(range_semitones) * sample_rate / (12 * hop_length))
    with warnings.catch_warnings():
        # pYIN warns when a frame holds no trough at all; that frame is just unvoiced.
        warnings.simplefilter("ignore")
        f0, voiced, _ = librosa.pyin(segment, fmin=fmin_hz, fmax=fmax_hz, sr=sample_rate,
                                     frame_length=frame_length, hop_length=hop_length,
                                     max_transition_rate=max_transition_rate)
    f0 = f0[voiced & np.isfinite(f0)]
    return float(np.median(f0)) if f0.size else math.nan


def frame_length_for(fmin_hz: float, *, sample_rate: int) -> int:
    """pYIN frame length in samples: a power of two holding 4 periods of ``fmin_hz``."""
    needed = _PERIODS_PER_FRAME * sample_rate / fmin_hz
    return max(_MIN_FRAME_LENGTH, 1 << math.ceil(math.log2(needed)))


def estimate_note_f0_hz(wave: np.ndarray, *, sample_rate: int, midi_pitch: float,
                        search_semitones: float = DEFAULT_SEARCH_SEMITONES,
                        analysis_s: float = DEFAULT_ANALYSIS_S) -> float:
    """:func:`estimate_f0_hz` searching only around the pitch the note should have."""
    fmin_hz, fmax_hz = search_range_hz(midi_pitch, search_semitones=search_semitones)
    return estimate_f0_hz(wave, sample_rate=sample_rate, fmin_hz=fmin_hz,
                          fmax_hz=min(fmax_hz, sample_rate / 2), analysis_s=analysis_s)


def pitch_errors_cents(waves: Sequence[np.ndarray] | np.ndarray, pitches: Sequence[int],
                       *, sample_rate: int,
                       search_semitones: float = DEFAULT_SEARCH_SEMITONES,
                       analysis_s: float = DEFAULT_ANALYSIS_S) -> np.ndarray:
    """Cents between each wave's f0 and its MIDI pitch, float64 [n]; NaN when unvoiced."""
    if len(waves) != len(pitches):
        raise ParameterError(
            f"waves, pitches: must have the same length, got {len(waves)} and {len(pitches)}")
    return np.array([
        cents_between(estimate_note_f0_hz(wave, sample_rate=sample_rate, midi_pitch=pitch,
                                          search_semitones=search_semitones,
                                          analysis_s=analysis_s), pitch)
        for wave, pitch in zip(waves, pitches)], dtype=np.float64)


def pitch_accuracy(waves: Sequence[np.ndarray] | np.ndarray, pitches: Sequence[int], *,
                   sample_rate: int, tolerance_cents: float = DEFAULT_TOLERANCE_CENTS,
                   search_semitones: float = DEFAULT_SEARCH_SEMITONES,
                   analysis_s: float = DEFAULT_ANALYSIS_S) -> float:
    """Share of notes whose f0 lies within ``tolerance_cents`` of their MIDI pitch.

    Parameters
    ----------
    waves : sequence of np.ndarray or np.ndarray
        Notes, each mono [n_samples] (an array [n, n_samples] works too).
    pitches : sequence of int
        The MIDI pitch each note should have, [n].
    sample_rate : int
        Hz.
    tolerance_cents : float
        50 (a quarter tone) is GANSynth's and our quality bar.

    Returns
    -------
    float
        In [0, 1]; unvoiced notes count as misses. NaN for no notes.
    """
    if not tolerance_cents > 0:
        raise ParameterError(f"tolerance_cents: must be > 0, got {tolerance_cents!r}")
    errors = pitch_errors_cents(waves, pitches, sample_rate=sample_rate,
                                search_semitones=search_semitones, analysis_s=analysis_s)
    if errors.size == 0:
        return math.nan
    with np.errstate(invalid="ignore"):
        return float(np.mean(np.abs(errors) <= tolerance_cents))


def fundamental_wander_cents(wave: np.ndarray, *, sample_rate: int, midi_pitch: float,
                             body_s: tuple[float, float] = (0.1, 2.0), n_fft: int = 4096,
                             hop_length: int = 1024) -> float:
    """How much a note's fundamental moves in frequency: the std, over frames, of its peak, cents.

    In each frame of the body (Hann window of ``n_fft`` samples every
    ``hop_length``; 256 and 64 ms at 16 kHz), the strongest spectral line
    within a semitone of the pitch's frequency is found (the spectrum
    zero-padded to 65,536 points: under a cent at middle C). A held real
    note moves by 1-5 cents (vibrato included); a GAN's free phase by tens.

    Parameters
    ----------
    wave : np.ndarray, shape (n_samples,)
    sample_rate : int
    midi_pitch : float
    body_s : (float, float)
        Start and end of the analysed part, s.
    n_fft, hop_length : int

    Returns
    -------
    float
        NaN when the body holds no whole frame.
    """
    f0_hz = midi_to_hz(midi_pitch)
    n_zero_padded = max(1 << 16, n_fft)
    hz = np.fft.rfftfreq(n_zero_padded, 1 / sample_rate)
    near = np.abs(1200 * np.log2(np.maximum(hz, 1e-9) / f0_hz)) < 100
    window = np.hanning(n_fft)
    start, stop = (int(t * sample_rate) for t in body_s)
    stop = min(stop, len(wave)) - n_fft
    cents = [1200 * np.log2(hz[near][np.argmax(np.abs(np.fft.rfft(
                 wave[i:i + n_fft] * window, n_zero_padded))[near])] / f0_hz)
             for i in range(start, stop + 1, hop_length)]
    return float(np.std(cents)) if cents else float("nan")


def harmonic_to_interharmonic_db(wave: np.ndarray, *, sample_rate: int, midi_pitch: float,
                                 band_hz: tuple[float, float],
                                 body_s: tuple[float, float] = (0.25, 3.0),
                                 n_fft: int = 4096) -> float:
    """How clearly a note's partials stand out of the noise between them, in one band (dB).

    The body of the note (``body_s``: past the attack, before an NSynth note's
    release at 3 s) is averaged into a power spectrum (Hann windows of
    ``n_fft`` samples, 4x overlap). For each harmonic ``k * f0`` of the asked
    pitch in ``band_hz``, the power within an eighth of f0 of it is compared
    with the power within an eighth of f0 of ``(k + 0.5) * f0``, the middle of
    the gap above it; the figure is the median of these ratios over the
    band's harmonics, so weak upper partials count as much as strong low
    ones. A real instrument note keeps clean partials (tens of dB below 2 kHz);
    noise scores about 0 dB.

    Parameters
    ----------
    wave : np.ndarray, shape (n_samples,)
    sample_rate : int
    midi_pitch : float
        The pitch the note was asked to play (its f0 sets the harmonic grid).
    band_hz : (float, float)
        Harmonics counted, low inclusive, high exclusive (capped at Nyquist).
    body_s : (float, float)
        Start and end of the part of the note measured, in seconds (cut to
        the wave's length).
    n_fft : int
        Window length; 4096 samples at 16 kHz resolve 3.9 Hz.

    Returns
    -------
    float
        Median over harmonics of ``10 log10(harmonic / inter-harmonic)``;
        NaN when no harmonic falls in the band or the body is silent.
    """
    start, stop = (int(round(t * sample_rate)) for t in body_s)
    body = np.asarray(wave, np.float64)[start:stop]
    if len(body) < n_fft:
        raise ParameterError(f"body_s: needs at least {n_fft} samples, got {len(body)}")
    hop = n_fft // 4
    frames = np.lib.stride_tricks.sliding_window_view(body, n_fft)[::hop] * np.hanning(n_fft)
    power = np.mean(np.abs(np.fft.rfft(frames, axis=-1)) ** 2, axis=0)
    freqs_hz = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    f0_hz = midi_to_hz(midi_pitch)
    low_hz, high_hz = band_hz[0], min(band_hz[1], sample_rate / 2)
    harmonics = np.arange(1, int(high_hz / f0_hz) + 1) * f0_hz
    harmonics = harmonics[(harmonics >= low_hz) & (harmonics < high_hz)]
    if not harmonics.size or not np.any(power > 0):
        return math.nan

    def energy(centres_hz):
        near = np.abs(freqs_hz[None, :] - centres_hz[:, None]) <= f0_hz / 8
        return np.sum(power[None, :] * near, axis=1)

    # A floor far below any audible level keeps a pure synthetic tone finite.
    floor = 1e-20 * float(np.max(power))
    ratios_db = 10 * (np.log10(energy(harmonics) + floor)
                      - np.log10(energy(harmonics + f0_hz / 2) + floor))
    return float(np.median(ratios_db))


def chromagram_correlation(wave: np.ndarray, reference: np.ndarray, *,
                           sample_rate: int) -> float:
    """How closely a render's harmony follows a reference render's, moment by moment.

    The Pearson correlation of the two chromagrams (librosa ``chroma_stft``,
    n_fft 4096, hop 1024: 12 pitch classes every 64 ms at 16 kHz), flattened,
    over the shorter one's frames. Two soundfonts playing one song score about
    0.8; a render a semitone off scores far lower.

    Parameters
    ----------
    wave, reference : np.ndarray, shape (n_samples,)
        Mono audio at ``sample_rate`` Hz.
    sample_rate : int

    Returns
    -------
    float
    """
    import librosa  # noqa: PLC0415

    chromas = [librosa.feature.chroma_stft(y=np.asarray(w, np.float32), sr=sample_rate,
                                           n_fft=4096, hop_length=1024)
               for w in (wave, reference)]
    n_frames = min(c.shape[1] for c in chromas)
    return float(np.corrcoef(chromas[0][:, :n_frames].ravel(),
                             chromas[1][:, :n_frames].ravel())[0, 1])
