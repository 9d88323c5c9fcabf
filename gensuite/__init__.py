"""gensuite: a generative music studio (MusicVAE, MelodyRNN, GANSynth, analysis).

Data flows MIDI -> NoteSequence -> tensors -> model -> NoteSequence -> MIDI ->
audio -> WAV; module names follow that flow (``midi_io``, ``sequences``,
``converters``, ``models``, ``render``, ``audio_io``).
"""

import warnings

__version__ = "0.1.0"

# note_seq imports pydub, which warns at import that ffmpeg is missing; we
# never decode compressed audio through pydub, so the warning is only noise.
warnings.filterwarnings("ignore", message="Couldn't find ffmpeg", category=RuntimeWarning)
