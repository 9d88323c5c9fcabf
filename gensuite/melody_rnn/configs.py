"""MelodyRNN configurations: one frozen dataclass and its named presets.

The Magenta presets reproduce ``magenta/models/melody_rnn/melody_rnn_model.py``
(``default_configs``) and the data pipeline of ``melody_rnn_pipeline.py``:

=================  ============  ======  =====  ==========  ====  =====
preset             encoding      input   class  LSTM        attn  clip
=================  ============  ======  =====  ==========  ====  =====
``basic_rnn``      one-hot       38      38     128 x 2     -     5
``lookback_rnn``   lookback      121     40     128 x 2     -     5
``attention_rnn``  key melody    74      40     128 x 2     40    3
=================  ============  ======  =====  ==========  ====  =====

All three: notes ``[48, 84)``, melodies transposed to C, dropout keep 0.5 on
every layer's output, Adam lr 1e-3, batch 128. The ``cpu-*`` presets keep
the networks and change only the batch (64) and train on random bar-aligned
windows of at most 128 steps instead of whole melodies of up to 512, so that a
step is short on two CPU cores; evaluation still reads whole melodies.
``tiny-*`` presets are for tests and smoke runs.
"""

from __future__ import annotations

import dataclasses

from gensuite.common.config import JsonConfig, lookup_preset
from gensuite.common.errors import ParameterError
from gensuite.melody_rnn import encodings as event_encodings

ENCODINGS = event_encodings.PRESET_NAMES  # ("basic_rnn", "lookback_rnn", "attention_rnn")


@dataclasses.dataclass(frozen=True)
class MelodyRNNConfig(JsonConfig):
    """Everything needed to build, train and run one MelodyRNN.

    Attributes
    ----------
    name : str
        Preset name (kept in saved checkpoints).
    encoding : {"basic_rnn", "lookback_rnn", "attention_rnn"}
        Which of Magenta's event encodings feeds the network
        (:func:`gensuite.melody_rnn.encodings.encoding_for`).
    min_note, max_note : int
        Pitch range ``[min_note, max_note)`` of the encoding; melodies are
        squashed into it.
    transpose_to_key : int or None
        Major key melodies are transposed to before encoding (0 = C); None
        only folds octaves into range.
    rnn_layer_sizes : tuple of int
        Units of each stacked LSTM layer.
    attn_length : int
        0 for no attention; else the first layer is wrapped in Magenta's
        ``AttentionCellWrapper`` attending over its last ``attn_length`` outputs.
    dropout_keep_prob : float
        Probability of keeping each layer output during training.
    clip_norm : float
        Global-norm gradient clip.
    learning_rate : float
        Adam learning rate (constant, as in Magenta).
    batch_size : int
        Training batch size.
    train_window_steps : int or None
        Train on random bar-aligned windows of at most this many steps of each
        example (None: whole examples, as Magenta). Evaluation always uses
        whole examples.
    min_bars, max_steps, min_unique_pitches, gap_bars, ignore_polyphonic_notes
        Melody extraction (Magenta's ``MelodyExtractor`` in the MelodyRNN
        pipeline): melodies shorter than ``min_bars`` or with fewer distinct
        pitches are dropped, longer ones truncated to ``max_steps``; a track
        with simultaneous note onsets is skipped unless
        ``ignore_polyphonic_notes`` (then the highest note is kept).
    steps_per_quarter : int
        Quantization grid (4: sixteenth notes, 16 steps per 4/4 bar).
    """

    name: str
    encoding: str
    min_note: int = event_encodings.DEFAULT_MIN_NOTE
    max_note: int = event_encodings.DEFAULT_MAX_NOTE
    transpose_to_key: int | None = 0
    rnn_layer_sizes: tuple[int, ...] = (128, 128)
    attn_length: int = 0
    dropout_keep_prob: float = 0.5
    clip_norm: float = 5.0
    learning_rate: float = 1e-3
    batch_size: int = 128
    train_window_steps: int | None = None
    min_bars: int = 7
    max_steps: int = 512
    min_unique_pitches: int = 5
    gap_bars: float = 1.0
    ignore_polyphonic_notes: bool = False
    steps_per_quarter: int = 4

    def __post_init__(self):
        validate_config(self)

    def make_encoding(self) -> event_encodings.MelodyEncoding:
        """The numpy event encoding this config names, over its note range."""
        cls = {
            "basic_rnn": event_encodings.OneHotMelodyEncoding,
            "lookback_rnn": event_encodings.LookbackMelodyEncoding,
            "attention_rnn": event_encodings.KeyMelodyEncoding,
        }[self.encoding]
        return cls(min_note=self.min_note, max_note=self.max_note)

    @property
    def input_size(self) -> int:
        """Depth of one input vector."""
        return self.make_encoding().input_size

    @property
    def num_classes(self) -> int:
        """Number of output classes (logits per step)."""
        return self.make_encoding().num_classes



def validate_config(config: MelodyRNNConfig) -> None:
    """Raise :class:`ParameterError` if ``config`` cannot build or train a model."""
    def fail(field, rule, value):
        raise ParameterError(f"config {config.name!r}: {field} must be {rule}, got {value!r}")

    if config.encoding not in ENCODINGS:
        fail("encoding", f"one of {', '.join(ENCODINGS)}", config.encoding)
    if not 0 <= config.min_note < config.max_note <= 128:
        fail("min_note, max_note", "0 <= min_note < max_note <= 128",
             (config.min_note, config.max_note))
    if config.max_note - config.min_note < event_encodings.NOTES_PER_OCTAVE:
        fail("max_note - min_note", ">= 12 (squashing folds octaves)",
             config.max_note - config.min_note)
    if config.transpose_to_key is not None and not 0 <= config.transpose_to_key <= 11:
        fail("transpose_to_key", "in [0, 11] or None", config.transpose_to_key)
    sizes = config.rnn_layer_sizes
    if not sizes or any(int(s) != s or s < 1 for s in sizes):
        fail("rnn_layer_sizes", "a non-empty tuple of positive ints", sizes)
    if config.attn_length < 0:
        fail("attn_length", ">= 0", config.attn_length)
    if not 0 < config.dropout_keep_prob <= 1:
        fail("dropout_keep_prob", "in (0, 1]", config.dropout_keep_prob)
    for field in ("clip_norm", "learning_rate"):
        if not getattr(config, field) > 0:
            fail(field, "> 0", getattr(config, field))
    for field in ("batch_size", "min_bars", "max_steps", "min_unique_pitches", "steps_per_quarter"):
        if getattr(config, field) < 1:
            fail(field, ">= 1", getattr(config, field))
    if config.train_window_steps is not None and config.train_window_steps < 2:
        fail("train_window_steps", ">= 2 or None", config.train_window_steps)
    if not config.gap_bars > 0:
        fail("gap_bars", "> 0", config.gap_bars)


# Magenta's presets (melody_rnn_model.default_configs).
BASIC_RNN = MelodyRNNConfig(name="basic_rnn", encoding="basic_rnn", clip_norm=5.0)
LOOKBACK_RNN = MelodyRNNConfig(name="lookback_rnn", encoding="lookback_rnn", clip_norm=5.0)
ATTENTION_RNN = MelodyRNNConfig(
    name="attention_rnn", encoding="attention_rnn", attn_length=40, clip_norm=3.0)

# CPU presets: same networks, a smaller batch and shorter training windows.
_CPU = dict(batch_size=64, train_window_steps=128)
CPU_BASIC_RNN = dataclasses.replace(BASIC_RNN, name="cpu-basic_rnn", **_CPU)
CPU_LOOKBACK_RNN = dataclasses.replace(LOOKBACK_RNN, name="cpu-lookback_rnn", **_CPU)
CPU_ATTENTION_RNN = dataclasses.replace(ATTENTION_RNN, name="cpu-attention_rnn", **_CPU)

# Tiny models for tests and smoke runs.
_TINY = dict(rnn_layer_sizes=(16, 16), batch_size=8, train_window_steps=64, min_bars=2,
             min_unique_pitches=2)
TINY_BASIC_RNN = dataclasses.replace(BASIC_RNN, name="tiny-basic_rnn", **_TINY)
TINY_LOOKBACK_RNN = dataclasses.replace(LOOKBACK_RNN, name="tiny-lookback_rnn", **_TINY)
TINY_ATTENTION_RNN = dataclasses.replace(
    ATTENTION_RNN, name="tiny-attention_rnn", attn_length=8, **_TINY)

PRESETS: dict[str, MelodyRNNConfig] = {
    c.name: c for c in (
        BASIC_RNN, LOOKBACK_RNN, ATTENTION_RNN,
        CPU_BASIC_RNN, CPU_LOOKBACK_RNN, CPU_ATTENTION_RNN,
        TINY_BASIC_RNN, TINY_LOOKBACK_RNN, TINY_ATTENTION_RNN)
}


def get_config(name: str) -> MelodyRNNConfig:
    """Look up a preset by name.

    Raises
    ------
    ParameterError
        If no preset has that name (the message lists them).
    """
    return lookup_preset(PRESETS, name)
