"""Training loops, schedules and checkpointing."""
