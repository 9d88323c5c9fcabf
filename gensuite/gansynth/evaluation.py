"""How well a GANSynth plays: pitch accuracy against real notes, spectral distance.

* pitch accuracy: share of notes whose librosa.pyin median f0 lies within 50
  cents of the asked pitch (:func:`gensuite.audio.pitch.pitch_accuracy`), for
  generated notes and, as the ceiling, for real notes of the same pitches;
* spectral distance: mean absolute difference, in normalised units, between
  the average log-magnitude spectrogram of real and of generated notes at the
  same pitch, averaged over pitches (0 = same average spectra);
* timbre spread: how much notes of one pitch differ from latent to latent
  (real notes: from instrument to instrument), 0 when the generator plays one
  timbre whatever its latent;
* harmonic clarity: the median over notes of the harmonic-to-inter-harmonic
  energy of each note's body at the asked pitch's harmonics, in dB, below and
  above 2 kHz (:func:`gensuite.audio.pitch.harmonic_to_interharmonic_db`), for
  generated notes and real notes of the same pitches: how clean the partials
  are, where a spectral distance only compares average spectra;
* near-silent share: generated notes whose peak is below the NSynth
  builder's audibility floor;
* onset click: per note, the loudest 2-8 kHz level of the three 8-ms frames
  from its onset over the median of the 64-320 ms after them, in dB, median
  over notes, generated and real (a broadband line at each onset stands
  out as a large figure);
* instrument identification (models conditioned on instruments, with real
  notes of their instruments): the share of generated notes whose
  time-averaged spectrum lies nearest to the real note of the instrument they
  were asked for, among the real notes of every instrument at that pitch
  (chance: one in the number of instruments);
* with an instrument classifier (:class:`gensuite.analysis.model.AudioClassifier`):
  instrument consistency, the share of generated notes classified as the
  instrument their latent plays most often (a generated instrument should
  stay one instrument across pitches), and the Frechet distance between real
  and generated notes in the classifier's embedding space.
"""

from __future__ import annotations

import numpy as np

from gensuite.gansynth.model import GANSynth


def choose_eval_notes(pitches: np.ndarray, *, n_notes: int, seed: int = 0) -> np.ndarray:
    """Indices of up to ``n_notes`` real notes spread evenly over their pitches."""
    rng = np.random.default_rng(seed)
    pitches = np.asarray(pitches)
    by_pitch = [rng.permutation(np.flatnonzero(pitches == p)) for p in np.unique(pitches)]
    chosen = []
    for rank in range(max(len(b) for b in by_pitch)):
        chosen.extend(b[rank] for b in by_pitch if rank < len(b))
        if len(chosen) >= n_notes:
            break
    return np.sort(np.asarray(chosen[:n_notes], dtype=np.int64))


def spectral_distance(real_images: np.ndarray, fake_images: np.ndarray,
                      pitches: np.ndarray) -> float:
    """Mean over pitches of |mean real log-magnitude - mean generated log-magnitude|.

    Parameters
    ----------
    real_images, fake_images : np.ndarray, shape (n, time, frequency, 2)
        Normalised spectrograms of real and generated notes, paired by pitch.
    pitches : np.ndarray, shape (n,)
    """
    distances = []
    for p in np.unique(pitches):
        sel = pitches == p
        real = real_images[sel, ..., 0].mean(axis=0)
        fake = fake_images[sel, ..., 0].mean(axis=0)
        distances.append(float(np.mean(np.abs(real - fake))))
    return float(np.mean(distances))


CLARITY_BANDS_HZ = {"0_2khz": (0.0, 2000.0), "2_8khz": (2000.0, 8000.0)}


def harmonic_clarity_db(waves: np.ndarray, pitches: np.ndarray, *, sample_rate: int
                        ) -> dict[str, float]:
    """Median harmonic-to-inter-harmonic energy (dB) of notes, per band of CLARITY_BANDS_HZ.

    Notes without a harmonic in a band, or silent, are left out of its median.
    Notes shorter than an NSynth note's held part (small test configs) are
    measured whole, with a window that fits.
    """
    from gensuite.audio.pitch import harmonic_to_interharmonic_db  # noqa: PLC0415

    n_samples = np.shape(waves)[-1]
    kwargs = {}
    if n_samples < 3.0 * sample_rate:
        kwargs = {"body_s": (0.0, n_samples / sample_rate),
                  "n_fft": int(2 ** np.floor(np.log2(min(n_samples, 4096))))}
    figures = {}
    for name, band_hz in CLARITY_BANDS_HZ.items():
        values = np.array([harmonic_to_interharmonic_db(w, sample_rate=sample_rate,
                                                        midi_pitch=p, band_hz=band_hz, **kwargs)
                           for w, p in zip(waves, pitches)])
        values = values[np.isfinite(values)]
        figures[name] = float(np.median(values)) if values.size else float("nan")
    return figures


def onset_click_db(waves: np.ndarray, *, sample_rate: int) -> float:
    """Median over notes of their onset's 2-8 kHz level over their body's, dB.

    Onset: the first 8-ms frame within 40 dB of the note's loudest (512-point
    frames, hop 128 at 16 kHz; scaled with the rate). Notes too short for the
    body (0.32 s after their onset) are left out; NaN when none is left.
    """
    import librosa  # noqa: PLC0415

    hop = max(1, int(round(0.008 * sample_rate)))
    hertz = librosa.fft_frequencies(sr=sample_rate, n_fft=4 * hop)
    in_band = (hertz >= 2000) & (hertz < 8000)
    excess = []
    for wave in np.asarray(waves, np.float32):
        power = np.abs(librosa.stft(wave, n_fft=4 * hop, hop_length=hop)) ** 2
        total_db = 10 * np.log10(power.sum(axis=0) + 1e-12)
        band_db = 10 * np.log10(power[in_band].sum(axis=0) + 1e-12)
        onset = int(np.argmax(total_db > total_db.max() - 40))
        if onset + 40 <= len(band_db):
            excess.append(band_db[onset:onset + 3].max() - np.median(band_db[onset + 8:onset + 40]))
    return float(np.median(excess)) if excess else float("nan")


def near_silent_share(waves: np.ndarray) -> float:
    """Share of notes whose peak is below the NSynth builder's audibility floor."""
    from gensuite.audio.nsynth import DEFAULT_MIN_PEAK  # noqa: PLC0415

    return float(np.mean(np.max(np.abs(waves), axis=-1) < DEFAULT_MIN_PEAK))


def timbre_spread(images: np.ndarray) -> float:
    """Standard deviation over notes of their time-averaged log-magnitude, mean over frequency.

    Parameters
    ----------
    images : np.ndarray, shape (n, time, frequency, 2)
        Normalised spectrograms of notes at one pitch.
    """
    return float(np.std(images[..., 0].mean(axis=1), axis=0).mean())


def instrument_identification(model: GANSynth, *, real_waves: np.ndarray,
                              real_pitches: np.ndarray, real_rows: np.ndarray,
                              n_pitches: int = 9, seed: int = 0) -> float:
    """Share of generated notes nearest to the real note of their own instrument.

    At ``n_pitches`` pitches spread over the model's range, every instrument
    row with a real note there plays it (z from ``seed``, one per row); each
    generated note's time-averaged normalised log-magnitude is compared (mean
    absolute difference) with that of the real note of every row at the pitch,
    the first real note of each (row, pitch).

    Parameters
    ----------
    model : GANSynth
        Conditioned on instruments.
    real_waves : np.ndarray, shape (n, n_samples)
    real_pitches, real_rows : np.ndarray, shape (n,), int
        Each real note's pitch and its row of the model's instrument table.
    """
    from gensuite.audio.spectral import waves_to_specgrams  # noqa: PLC0415

    c = model.config
    real_pitches, real_rows = np.asarray(real_pitches), np.asarray(real_rows)
    grid = np.unique(np.linspace(c.min_pitch, c.max_pitch, n_pitches).round().astype(int))
    hits, total = 0, 0
    for pitch in grid:
        rows, first = np.unique(real_rows[real_pitches == pitch], return_index=True)
        if len(rows) < 2:
            continue
        index = np.flatnonzero(real_pitches == pitch)[first]
        real = waves_to_specgrams(real_waves[index], config=c.spectral).numpy()[..., 0].mean(1)
        z = model.make_latents(len(rows), seed=seed, instruments=rows)
        z[:, :c.latent_size] = z[0, :c.latent_size]  # one z: only the instrument differs
        fake = waves_to_specgrams(model.generate(np.full(len(rows), pitch), z),
                                  config=c.spectral).numpy()[..., 0].mean(1)
        distances = np.abs(fake[:, None, :] - real[None, :, :]).mean(-1)
        hits += int(np.sum(np.argmin(distances, axis=1) == np.arange(len(rows))))
        total += len(rows)
    return hits / total if total else float("nan")


def instrument_consistency(top_classes: np.ndarray, instruments: np.ndarray) -> float:
    """Share of notes whose class is the most frequent class of their instrument latent.

    Parameters
    ----------
    top_classes : np.ndarray, shape (n,), int
        Predicted class per note; -1 for a note that could not be classified
        (silent), which counts as a miss.
    instruments : np.ndarray, shape (n,), int
        Which latent played each note.
    """
    hits = 0
    for i in np.unique(instruments):
        classes = top_classes[(instruments == i) & (top_classes >= 0)]
        if classes.size:
            hits += int(np.max(np.bincount(classes)))
    return hits / len(top_classes)


def _classify_notes(classifier, waves: np.ndarray, sample_rate: int):
    from gensuite.common.errors import InputFileError  # noqa: PLC0415

    top, embeddings = [], []
    for i, wave in enumerate(waves):
        try:
            analysis = classifier.analyze(wave=wave, sample_rate=sample_rate, name=f"note {i}")
        except InputFileError:  # silent or too short: unclassifiable
            top.append(-1)
            continue
        top.append(int(np.argmax(analysis.shares)))
        embeddings.append(analysis.embedding)
    return np.asarray(top), np.asarray(embeddings)


def classifier_figures(classifier, *, fake_waves: np.ndarray, instruments: np.ndarray,
                       real_waves: np.ndarray | None, sample_rate: int) -> dict[str, float]:
    """Instrument consistency and embedding Frechet distance (see the module docstring)."""
    from gensuite.analysis.classification import frechet_distance  # noqa: PLC0415

    top, fake_embeddings = _classify_notes(classifier, fake_waves, sample_rate)
    figures = {"instrument_consistency": instrument_consistency(top, instruments)}
    if real_waves is not None:
        _, real_embeddings = _classify_notes(classifier, real_waves, sample_rate)
        if min(len(fake_embeddings), len(real_embeddings)) >= 2:
            figures["embedding_frechet_distance"] = frechet_distance(
                real=real_embeddings, generated=fake_embeddings)
    return figures


def evaluate_gansynth(model: GANSynth, *, real_waves: np.ndarray | None = None,
                      real_pitches: np.ndarray | None = None, real_rows=None, pitches=None,
                      n_notes: int = 98, n_instruments: int = 7, seed: int = 0,
                      classifier=None) -> dict[str, float]:
    """Pitch accuracy of generated notes, and against real notes when given.

    Parameters
    ----------
    model : GANSynth
    real_waves : np.ndarray, shape (n, n_samples), optional
        Real notes (e.g. the training set); adds the real-note ceiling and the
        spectral distance.
    real_pitches : np.ndarray, shape (n,), optional
    real_rows : np.ndarray, shape (n,), optional
        Conditioned models: each real note's row of the instrument table (-1:
        an instrument the model lacks); adds ``instrument_identification``.
    pitches : sequence of int, optional
        Pitches to generate without real notes (default: the model's range).
    n_notes : int
        Notes generated (and real notes compared), spread over the pitches.
    n_instruments : int
        Instrument latents; note ``i`` is played by latent ``i % n_instruments``.
    seed : int
        Seeds the instrument latents and the choice of real notes.
    classifier : AudioClassifier, optional
        Adds ``instrument_consistency`` and ``embedding_frechet_distance``.

    Returns
    -------
    dict
        ``pitch_accuracy``, ``n_notes``, ``timbre_spread``,
        ``near_silent_share``, ``onset_click_db``,
        ``harmonic_clarity_db_0_2khz`` and ``_2_8khz`` and, with real notes,
        ``real_pitch_accuracy``, ``spectral_distance``,
        ``real_harmonic_clarity_db_*``, ``real_onset_click_db`` and
        ``real_timbre_spread`` (when two or more real notes have the middle
        pitch).
    """
    from gensuite.audio.pitch import pitch_accuracy  # noqa: PLC0415
    from gensuite.audio.spectral import waves_to_specgrams  # noqa: PLC0415

    c = model.config
    figures: dict[str, float] = {}
    if real_rows is not None and model.instruments:
        known = np.asarray(real_rows) >= 0
        if known.any():
            figures["instrument_identification"] = instrument_identification(
                model, real_waves=real_waves[known], real_pitches=np.asarray(real_pitches)[known],
                real_rows=np.asarray(real_rows)[known], seed=seed)
    # One pitch in the middle of the range, every latent (and every real note) at it.
    middle = (c.min_pitch + c.max_pitch) // 2

    def to_images(waves):
        return waves_to_specgrams(waves, config=c.spectral).numpy()

    figures["timbre_spread"] = timbre_spread(to_images(model.generate(
        np.full(n_instruments, middle), model.make_latents(n_instruments, seed=seed))))
    if real_waves is not None:
        at_middle = np.asarray(real_pitches) == middle
        if at_middle.sum() > 1:
            figures["real_timbre_spread"] = timbre_spread(to_images(real_waves[at_middle]))
        index = choose_eval_notes(real_pitches, n_notes=n_notes, seed=seed)
        real_waves, note_pitches = real_waves[index], np.asarray(real_pitches)[index]
    else:
        grid = np.arange(c.min_pitch, c.max_pitch + 1) if pitches is None else np.asarray(pitches)
        note_pitches = np.resize(grid, n_notes)
    instruments = np.arange(len(note_pitches)) % n_instruments
    z = model.make_latents(n_instruments, seed=seed)[instruments]
    fake_waves = model.generate(note_pitches, z)
    figures["n_notes"] = int(len(note_pitches))
    figures["pitch_accuracy"] = pitch_accuracy(fake_waves, note_pitches, sample_rate=c.sample_rate)
    figures["near_silent_share"] = near_silent_share(fake_waves)
    figures["onset_click_db"] = onset_click_db(fake_waves, sample_rate=c.sample_rate)
    for band, value in harmonic_clarity_db(fake_waves, note_pitches,
                                           sample_rate=c.sample_rate).items():
        figures[f"harmonic_clarity_db_{band}"] = value
    if real_waves is not None:
        figures["real_pitch_accuracy"] = pitch_accuracy(
            real_waves, note_pitches, sample_rate=c.sample_rate)
        for band, value in harmonic_clarity_db(real_waves, note_pitches,
                                               sample_rate=c.sample_rate).items():
            figures[f"real_harmonic_clarity_db_{band}"] = value
        figures["real_onset_click_db"] = onset_click_db(real_waves, sample_rate=c.sample_rate)
        figures["spectral_distance"] = spectral_distance(
            to_images(real_waves), to_images(fake_waves), note_pitches)
    if classifier is not None:
        figures.update(classifier_figures(classifier, fake_waves=fake_waves,
                                          instruments=instruments, real_waves=real_waves,
                                          sample_rate=c.sample_rate))
    return figures
