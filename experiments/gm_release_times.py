"""How long each General MIDI program rings after its note ends, in three soundfonts.

    python experiments/gm_release_times.py > release.json

Each program plays MIDI 48, 60 and 72 at velocity 100 the NSynth way (held
3 s, recorded 4 s) in FluidR3_GM, MuseScore General (Lite) and TimGM6mb. A
note's release time is how long after the note-off its level (RMS over 10-ms
frames) takes to fall 20 dB below its level just before; a program's figure
is the median over the nine notes. Prints ``{program: seconds or null}`` as JSON:
``gensuite/render.py``'s ``GM_RELEASE_20DB_S`` table.
"""

import json

import numpy as np

from gensuite.audio.soundfont import SoundfontRenderer

RATE = 16000
SOUNDFONTS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2",
              "/usr/share/sounds/sf3/MuseScore_General_Lite.sf3",
              "/usr/share/sounds/sf2/TimGM6mb.sf2")
PITCHES = (48, 60, 72)
NOTE_OFF_S = 3.0


def release_20db_s(wave: np.ndarray) -> float:
    """Seconds after the note-off until the level is 20 dB below its level just before; NaN if never."""
    frame = RATE // 100
    n_frames = len(wave) // frame
    rms = np.sqrt(np.mean(np.square(wave[:n_frames * frame].reshape(n_frames, frame)), axis=1))
    db = 20 * np.log10(rms + 1e-12)
    off = int(NOTE_OFF_S * RATE) // frame
    below = np.nonzero(db[off:] < db[off - 5:off].mean() - 20)[0]
    return below[0] * frame / RATE if len(below) else float("nan")


def main() -> None:
    times = {program: [] for program in range(128)}
    for path in SOUNDFONTS:
        with SoundfontRenderer(path, sample_rate=RATE) as renderer:
            for program in range(128):
                times[program] += [release_20db_s(renderer.render_note(
                    program=program, pitch=pitch, velocity=100)) for pitch in PITCHES]
    # Programs whose notes die away before the note-off have no release: null.
    print(json.dumps({program: None if np.all(np.isnan(t)) else round(float(np.nanmedian(t)), 2)
                      for program, t in times.items()}))


if __name__ == "__main__":
    main()
