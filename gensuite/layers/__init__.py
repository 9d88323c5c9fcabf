"""Keras building blocks shared by the models."""
