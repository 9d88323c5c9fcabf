"""Shipped, trained checkpoints: one folder per model, each with a card.md."""
