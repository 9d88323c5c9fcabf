"""gensuite: a generative music studio (MusicVAE, MelodyRNN, GANSynth, analysis).

Data flows MIDI -> NoteSequence -> tensors -> model -> NoteSequence -> MIDI ->
audio -> WAV; module names follow that flow (``midi_io``, ``sequences``,
``converters``, ``models``, ``render``, ``audio_io``).
"""

__version__ = "0.1.0"
