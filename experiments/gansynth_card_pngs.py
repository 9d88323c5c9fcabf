"""The spectrogram PNGs of a GANSynth model card.

    python experiments/gansynth_card_pngs.py CHECKPOINT OUT_DIR [NSYNTH_DIR ...]

writes ``spectrogram_instrument_1.png`` and ``spectrogram_instrument_2.png``:
MIDI 36-84 in C-major steps, 1 s of each note (faded out over its last 30 ms),
one instrument latent (seed 1,
then 2) for all of them. Given NSynth folders, also
``spectrogram_real_vs_generated.png``: the same arpeggio played by real notes
(the first velocity-100 note of each pitch of programs 0, 40 and 56 where the
data have them) above the two generated instruments, on one colour scale;
for a model conditioned on instruments, each real row is followed by the
model playing that program's instrument (z from seed 1).
"""

import sys

import numpy as np

from gensuite.audio.plots import plot_spectrogram
from gensuite.gansynth.model import GANSynth

PITCHES = np.array([36, 43, 48, 55, 60, 67, 72, 79, 84])
REAL_PROGRAMS = {0: "piano", 40: "violin", 56: "trumpet"}


def arpeggio(waves: np.ndarray, rate: int) -> np.ndarray:
    """The first second of each note, joined; each ends in a 30 ms fade, since a cut
    through a sounding note would draw a broadband line of its own."""
    fade = np.ones(rate)
    fade[-int(0.03 * rate):] = np.linspace(1.0, 0.0, int(0.03 * rate))
    return np.concatenate([w[:rate] * fade for w in waves])


def real_arpeggios(data_dirs, rate: int) -> dict[str, np.ndarray]:
    from gensuite.audio.nsynth import read_nsynth

    notes = read_nsynth(data_dirs, pitch_range=(int(PITCHES.min()), int(PITCHES.max())))
    rows = {}
    for program, name in REAL_PROGRAMS.items():
        # Instrument ids pack the soundfont above the program: id % 128 is the program.
        picks = [np.flatnonzero((notes.instrument % 128 == program) & (notes.pitch == p)
                                & (notes.velocity == 100)) for p in PITCHES]
        if all(len(p) for p in picks):
            rows[f"real {name}"] = arpeggio(notes.audio[[p[0] for p in picks]], rate)
    return rows


def plot_rows(rows: dict[str, np.ndarray], *, rate: int, path: str) -> None:
    import librosa
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(rows), 1, figsize=(12, 2.4 * len(rows)), sharex=True)
    for ax, (name, wave) in zip(np.atleast_1d(axes), rows.items()):
        db = librosa.amplitude_to_db(np.abs(librosa.stft(wave, n_fft=1024, hop_length=256)),
                                     ref=np.max, top_db=80.0)
        librosa.display.specshow(db, sr=rate, hop_length=256, x_axis="time", y_axis="hz",
                                 ax=ax, vmin=-80, vmax=0, cmap="magma")
        ax.set_title(name, fontsize=9, loc="left")
        ax.set_xlabel("")
    fig.suptitle(f"MIDI {', '.join(map(str, PITCHES))}, 1 s each (dB below each row's peak)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main(checkpoint: str, out_dir: str, *data_dirs: str) -> None:
    import librosa.display  # noqa: F401  (specshow)

    model = GANSynth.load(checkpoint)
    rate = model.config.sample_rate
    generated = {}
    for seed in (1, 2):
        z = np.repeat(model.make_latents(1, seed=seed), len(PITCHES), axis=0)
        joined = arpeggio(model.generate(PITCHES, z), rate)
        generated[f"generated, instrument seed {seed}"] = joined
        path = f"{out_dir}/spectrogram_instrument_{seed}.png"
        plot_spectrogram(joined, sample_rate=rate, path=path,
                         title=f"instrument seed {seed}: MIDI {', '.join(map(str, PITCHES))} "
                               "(1 s each)")
        print(path)
    if data_dirs:
        path = f"{out_dir}/spectrogram_real_vs_generated.png"
        rows = real_arpeggios(list(data_dirs), rate)
        if model.instruments:
            rows = paired_with_generated(model, rows)
        plot_rows({**rows, **generated}, rate=rate, path=path)
        print(path)


def paired_with_generated(model, real_rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each real row, then the conditioned model playing its program's instrument."""
    from gensuite.gansynth.timbres import instrument_for_program

    rate, rows = model.config.sample_rate, {}
    for program, name in REAL_PROGRAMS.items():
        if f"real {name}" not in real_rows:
            continue
        row = instrument_for_program(program, model.instruments)
        z = model.make_latents(len(PITCHES), seed=1, instruments=[row] * len(PITCHES))
        z[:, :model.config.latent_size] = z[0, :model.config.latent_size]
        rows[f"real {name}"] = real_rows[f"real {name}"]
        rows[f"generated {model.instruments[row]['name']}"] = arpeggio(
            model.generate(PITCHES, z), rate)
    return rows


if __name__ == "__main__":
    main(*sys.argv[1:])
