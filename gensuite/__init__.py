"""gensuite: a generative music studio (MusicVAE, MelodyRNN, GANSynth, analysis).

Data flows MIDI -> NoteSequence -> tensors -> model -> NoteSequence -> MIDI ->
audio -> WAV. ``midi/`` and ``audio/`` hold the data at each end, one folder per
model (``music_vae/``, ``melody_rnn/``, ``gansynth/``, ``analysis/``) holds its
presets, converters, layers, model and trainer, and ``render.py`` joins them;
docs/layout.md explains the tree.
"""

import warnings

__version__ = "0.1.0"

# note_seq imports pydub, which warns at import that ffmpeg is missing; we
# never decode compressed audio through pydub, so the warning is only noise.
warnings.filterwarnings("ignore", message="Couldn't find ffmpeg", category=RuntimeWarning)
