"""User-facing model classes (MusicVAE, MelodyRNN, GANSynth, classifiers)."""
