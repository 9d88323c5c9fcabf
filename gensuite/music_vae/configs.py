"""MusicVAE configurations: one frozen dataclass and its named presets.

The paper presets reproduce Magenta's ``music_vae/configs.py`` (same names,
layer sizes, latent size, free bits, beta schedule, batch size, sampling
schedule). The ``cpu-*`` presets keep each paper preset's structure, losses
and schedules at the sizes two CPU cores can train (a 2-bar model in about an
hour): narrower LSTMs, a smaller latent, batch 64 (2 bars) or 32 (16 bars).
The 16-bar ones also encode bar by bar (a hierarchical encoder), and
``cpu-mel_16bar-sampled`` adds scheduled sampling. ``tiny-*`` presets are for
tests and smoke runs. The measured reasons for each departure are in
``docs/decisions.md`` and the model cards under ``checkpoints/``.

Tensor depths come from the converter preset the config names
(``gensuite.music_vae.converters``), repeated here so a model can be built, saved and
loaded without touching the data code:

============  =====  ===============  =======  ====
converter     input  outputs          n_steps  bars
============  =====  ===============  =======  ====
mel_2bar      90     (90,)            32       2
mel_16bar     90     (90,)            256      16
drums_2bar    10     (512,)           32       2
trio_16bar    692    (90, 90, 512)    256      16
============  =====  ===============  =======  ====
"""

from __future__ import annotations

import dataclasses
import math

from gensuite.common.config import JsonConfig, lookup_preset
from gensuite.common.errors import ParameterError

STEPS_PER_BAR = 16
SAMPLING_SCHEDULES = ("constant", "inverse_sigmoid", "exponential")


@dataclasses.dataclass(frozen=True)
class ConverterSpec:
    """Tensor depths and length of one converter preset."""

    input_depth: int
    output_depths: tuple[int, ...]
    n_steps: int


CONVERTER_SPECS: dict[str, ConverterSpec] = {
    "mel_2bar": ConverterSpec(90, (90,), 32),
    "mel_16bar": ConverterSpec(90, (90,), 256),
    "drums_2bar": ConverterSpec(10, (512,), 32),
    "trio_16bar": ConverterSpec(692, (90, 90, 512), 256),
}


@dataclasses.dataclass(frozen=True)
class MusicVAEConfig(JsonConfig):
    """Everything needed to build and train one MusicVAE.

    Attributes
    ----------
    name : str
        Preset name (kept in saved checkpoints).
    converter : str
        Converter preset (a key of :data:`CONVERTER_SPECS`).
    input_depth, output_depths, n_steps
        Encoder input depth, decoder output depths (one categorical per entry,
        concatenated), and the padded sequence length in steps (16 per bar).
    encoder_sizes : tuple of int
        Units per direction of each stacked bidirectional LSTM layer.
    hierarchical_encoder : bool
        Encode each bar with the BiLSTM, then the sequence of bar embeddings
        with a second BiLSTM of the same sizes (Magenta's ``hier-*``); else
        one BiLSTM over all steps.
    decoder_sizes : tuple of int
        Units of each layer of the (core) LSTM decoder.
    n_bars : int
        1 for a flat decoder; otherwise the number of conductor steps, each
        decoding ``n_steps // n_bars`` steps (Magenta's ``hierdec-*``).
    conductor_sizes : tuple of int
        Conductor LSTM layer sizes (Magenta uses ``decoder_sizes``).
    split_decoders : bool
        One core decoder per output (hierdec-trio); else one decoder emitting
        all outputs.
    z_size : int
        Latent size.
    free_bits : float
        KL bits (over the whole latent) that cost nothing.
    max_beta, beta_rate : float
        KL weight ``beta = (1 - beta_rate**step) * max_beta``.
    batch_size : int
        Training batch size.
    learning_rate, min_learning_rate, decay_rate : float
        ``lr = (learning_rate - min_learning_rate) * decay_rate**step
        + min_learning_rate``.
    grad_clip : float
        Global-norm gradient clip.
    grad_norm_clip_to_zero : float
        Steps whose gradient global norm reaches this are skipped (zero
        gradients), as in Magenta.
    sampling_schedule : str
        ``constant``, ``inverse_sigmoid`` or ``exponential``.
    sampling_rate : float
        The schedule's parameter (probability, k, or decay base).
    """

    name: str
    converter: str
    input_depth: int
    output_depths: tuple[int, ...]
    n_steps: int
    encoder_sizes: tuple[int, ...]
    decoder_sizes: tuple[int, ...]
    z_size: int
    hierarchical_encoder: bool = False
    n_bars: int = 1
    conductor_sizes: tuple[int, ...] = ()
    split_decoders: bool = False
    free_bits: float = 0.0
    max_beta: float = 1.0
    beta_rate: float = 0.0
    batch_size: int = 512
    learning_rate: float = 1e-3
    min_learning_rate: float = 1e-5
    decay_rate: float = 0.9999
    grad_clip: float = 1.0
    grad_norm_clip_to_zero: float = 10000.0
    sampling_schedule: str = "constant"
    sampling_rate: float = 0.0

    def __post_init__(self):
        validate_config(self)

    @property
    def output_depth(self) -> int:
        """Total decoder output depth (sum of :attr:`output_depths`)."""
        return sum(self.output_depths)

    @property
    def hierarchical(self) -> bool:
        """Whether the decoder has a conductor (one embedding per bar)."""
        return self.n_bars > 1

    @property
    def steps_per_segment(self) -> int:
        """Steps decoded from one conductor embedding (all steps if flat)."""
        return self.n_steps // self.n_bars



def validate_config(config: MusicVAEConfig) -> None:
    """Raise :class:`ParameterError` if ``config`` cannot build a model."""
    def fail(field, rule, value):
        raise ParameterError(f"config {config.name!r}: {field} must be {rule}, got {value!r}")

    for field in ("encoder_sizes", "decoder_sizes", "output_depths"):
        sizes = getattr(config, field)
        if not sizes or any(int(s) != s or s < 1 for s in sizes):
            fail(field, "a non-empty tuple of positive ints", sizes)
    for field in ("input_depth", "n_steps", "z_size", "n_bars", "batch_size"):
        if getattr(config, field) < 1:
            fail(field, ">= 1", getattr(config, field))
    if config.n_steps % config.n_bars:
        fail("n_bars", f"a divisor of n_steps={config.n_steps}", config.n_bars)
    if config.hierarchical and not config.conductor_sizes:
        fail("conductor_sizes", "non-empty for a hierarchical decoder", config.conductor_sizes)
    if config.hierarchical_encoder and config.n_steps % STEPS_PER_BAR:
        fail("n_steps", f"a multiple of {STEPS_PER_BAR} for a hierarchical encoder",
             config.n_steps)
    if config.split_decoders and not config.hierarchical:
        fail("split_decoders", "False for a flat decoder", config.split_decoders)
    if config.free_bits < 0:
        fail("free_bits", ">= 0", config.free_bits)
    if config.max_beta < 0:
        fail("max_beta", ">= 0", config.max_beta)
    if not 0 <= config.beta_rate <= 1:
        fail("beta_rate", "in [0, 1]", config.beta_rate)
    if not 0 < config.min_learning_rate <= config.learning_rate:
        fail("min_learning_rate", "in (0, learning_rate]", config.min_learning_rate)
    if not 0 < config.decay_rate <= 1:
        fail("decay_rate", "in (0, 1]", config.decay_rate)
    if not config.grad_clip > 0:
        fail("grad_clip", "> 0", config.grad_clip)
    validate_sampling_schedule(config.sampling_schedule, config.sampling_rate)


def validate_sampling_schedule(schedule: str, rate: float) -> None:
    """Magenta's rules for ``sampling_schedule`` / ``sampling_rate``."""
    if schedule not in SAMPLING_SCHEDULES:
        raise ParameterError(
            f"sampling_schedule: must be one of {', '.join(SAMPLING_SCHEDULES)}, got {schedule!r}")
    if schedule == "constant" and not 0 <= rate <= 1:
        raise ParameterError(f"sampling_rate: must be in [0, 1] for 'constant', got {rate!r}")
    if schedule == "inverse_sigmoid" and not (rate >= 1 and math.isfinite(rate)):
        raise ParameterError(f"sampling_rate: must be >= 1 for 'inverse_sigmoid', got {rate!r}")
    if schedule == "exponential" and not 0 < rate < 1:
        raise ParameterError(f"sampling_rate: must be in (0, 1) for 'exponential', got {rate!r}")


def _with_converter(name: str, converter: str, **kwargs) -> MusicVAEConfig:
    spec = CONVERTER_SPECS[converter]
    return MusicVAEConfig(
        name=name, converter=converter, input_depth=spec.input_depth,
        output_depths=spec.output_depths, n_steps=spec.n_steps, **kwargs)


# Magenta's presets (music_vae/configs.py).
CAT_MEL_2BAR_SMALL = _with_converter(
    "cat-mel_2bar_small", "mel_2bar",
    encoder_sizes=(512,), decoder_sizes=(256, 256), z_size=256,
    free_bits=0.0, max_beta=0.2, beta_rate=0.99999, batch_size=512,
    sampling_schedule="inverse_sigmoid", sampling_rate=1000.0)

CAT_MEL_2BAR_BIG = dataclasses.replace(
    CAT_MEL_2BAR_SMALL, name="cat-mel_2bar_big",
    encoder_sizes=(2048,), decoder_sizes=(2048, 2048, 2048), z_size=512, max_beta=0.5)

CAT_DRUMS_2BAR_SMALL = _with_converter(
    "cat-drums_2bar_small", "drums_2bar",
    encoder_sizes=(512,), decoder_sizes=(256, 256), z_size=256,
    free_bits=48.0, max_beta=0.2, beta_rate=0.0, batch_size=512,
    sampling_schedule="inverse_sigmoid", sampling_rate=1000.0)

# Magenta's hierdec presets set no sampling schedule: teacher forcing only.
HIERDEC_MEL_16BAR = _with_converter(
    "hierdec-mel_16bar", "mel_16bar",
    encoder_sizes=(2048, 2048), decoder_sizes=(1024, 1024), z_size=512,
    n_bars=16, conductor_sizes=(1024, 1024),
    free_bits=256.0, max_beta=0.2, beta_rate=0.0, batch_size=512)

HIERDEC_TRIO_16BAR = _with_converter(
    "hierdec-trio_16bar", "trio_16bar",
    encoder_sizes=(2048, 2048), decoder_sizes=(1024, 1024), z_size=512,
    n_bars=16, conductor_sizes=(1024, 1024), split_decoders=True,
    free_bits=256.0, max_beta=0.2, beta_rate=0.0, batch_size=256)

# CPU presets: the paper presets' structure at sizes two CPU cores can train.
CPU_MEL_2BAR = dataclasses.replace(
    CAT_MEL_2BAR_SMALL, name="cpu-mel_2bar",
    encoder_sizes=(256,), decoder_sizes=(256, 256), z_size=128, batch_size=64)

# cpu-mel_2bar with the KL weight at its target 0.2 from the first step. Magenta's
# schedule (rate 0.99999) needs ~100k steps to get there, so a CPU run of cpu-mel_2bar
# ends near beta 0.03: this is the other end of the reconstruction / sampling trade.
# Meant to continue a cpu-mel_2bar run (`vae train --init-from`).
CPU_MEL_2BAR_FULL_BETA = dataclasses.replace(
    CPU_MEL_2BAR, name="cpu-mel_2bar-full-beta", beta_rate=0.0)

CPU_DRUMS_2BAR = dataclasses.replace(
    CAT_DRUMS_2BAR_SMALL, name="cpu-drums_2bar",
    encoder_sizes=(256,), decoder_sizes=(256, 256), z_size=128, batch_size=64)

CPU_MEL_16BAR = dataclasses.replace(
    HIERDEC_MEL_16BAR, name="cpu-mel_16bar",
    encoder_sizes=(256,), hierarchical_encoder=True,
    decoder_sizes=(256, 256), conductor_sizes=(256, 256), z_size=256, batch_size=32)

# The flat baseline for cpu-mel_16bar: same encoder, latent and data.
CPU_FLAT_MEL_16BAR = dataclasses.replace(
    CPU_MEL_16BAR, name="cpu-flat-mel_16bar", n_bars=1, conductor_sizes=())

CPU_TRIO_16BAR = dataclasses.replace(
    HIERDEC_TRIO_16BAR, name="cpu-trio_16bar",
    encoder_sizes=(256,), hierarchical_encoder=True,
    decoder_sizes=(256, 256), conductor_sizes=(256, 256), z_size=256, batch_size=32)

# cpu-mel_16bar with half its decoder steps reading the decoder's own previous
# sample (constant scheduled sampling 0.5; Magenta's hierdec presets teacher-force
# only), against exposure bias: a decoder trained only on true previous steps does
# worse when fed its own. Meant to continue a cpu-mel_16bar run
# (`vae train --init-from`); the shipped mel_16bar was trained so.
CPU_MEL_16BAR_SAMPLED = dataclasses.replace(
    CPU_MEL_16BAR, name="cpu-mel_16bar-sampled", sampling_schedule="constant",
    sampling_rate=0.5)

# Tiny models for tests and smoke runs.
TINY_MEL_2BAR = dataclasses.replace(
    CPU_MEL_2BAR, name="tiny-mel_2bar",
    encoder_sizes=(16,), decoder_sizes=(16,), z_size=8, batch_size=4)
TINY_MEL_16BAR = dataclasses.replace(
    CPU_MEL_16BAR, name="tiny-mel_16bar", encoder_sizes=(16,), decoder_sizes=(16,),
    conductor_sizes=(16,), z_size=8, batch_size=4)

PRESETS: dict[str, MusicVAEConfig] = {
    c.name: c for c in (
        CAT_MEL_2BAR_SMALL, CAT_MEL_2BAR_BIG, CAT_DRUMS_2BAR_SMALL,
        HIERDEC_MEL_16BAR, HIERDEC_TRIO_16BAR,
        CPU_MEL_2BAR, CPU_MEL_2BAR_FULL_BETA, CPU_DRUMS_2BAR, CPU_MEL_16BAR, CPU_FLAT_MEL_16BAR, CPU_TRIO_16BAR,
        CPU_MEL_16BAR_SAMPLED, TINY_MEL_2BAR, TINY_MEL_16BAR)
}

# Fields that shape the losses and schedules but no weight: a run may continue
# another's checkpoints with them changed (`vae train --init-from`).
CONTINUABLE_FIELDS = ("name", "free_bits", "max_beta", "beta_rate", "sampling_schedule",
                      "sampling_rate")


def get_config(name: str) -> MusicVAEConfig:
    """Look up a preset by name.

    Raises
    ------
    ParameterError
        If no preset has that name (the message lists them).
    """
    return lookup_preset(PRESETS, name)


# --------------------------------------------------------------------------
# Latent hierarchies (gensuite.music_vae.latent_hierarchy): a top level over a
# trained 2-bar model.


@dataclasses.dataclass(frozen=True)
class LatentHierarchyConfig(JsonConfig):
    """Top level of a latent hierarchy; the bottom is a saved 2-bar MusicVAE.

    Attributes
    ----------
    name : str
    bottom : str
        The 2-bar model (a shipped name or a folder) a new run starts from;
        an export carries its own copy.
    n_chunks : int
        2-bar chunks per window (8: 16 bars).
    encoder_size, conductor_size : int
        LSTM units of the top encoder (each direction) and the conductor.
    z_size : int
        Song latent size.
    max_beta : float
        Weight of the KL term.
    free_bits : float
        KL (bits) that costs nothing.
    learning_rate : float
        Adam's.
    batch_size : int
    latent_loss_weight : float
        Weight of the latent NLL (conducted chunk latents against the chunk
        posteriors): cheap, no 2-bar decoding in the loop.
    note_loss_weight : float
        Weight of the notes' cross entropy, the conducted chunk latents
        decoded (teacher forced) through the frozen 2-bar decoder: what the
        song latent's reconstruction is judged on, at eight 2-bar decodes a
        window.
    transposed_copies : int
        Training windows are joined by this many copies of themselves, each
        moved by a random whole number of semitones in ``transpose_range``
        (narrowed per window to keep its notes in range): the top level
        overfits a folder's few thousand tunes without them.
    transpose_range : (int, int)
        Inclusive semitone bounds of those copies.
    """

    name: str
    bottom: str = "mel_2bar"
    n_chunks: int = 8
    encoder_size: int = 512
    conductor_size: int = 512
    z_size: int = 256
    max_beta: float = 0.2
    free_bits: float = 0.0
    learning_rate: float = 1e-3
    batch_size: int = 128
    latent_loss_weight: float = 1.0
    note_loss_weight: float = 0.0
    transposed_copies: int = 0
    transpose_range: tuple[int, int] = (-5, 5)

    def __post_init__(self):
        for field in ("n_chunks", "encoder_size", "conductor_size", "z_size", "batch_size"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ParameterError(f"{field}: must be an integer >= 1, got {value!r}")
        copies = self.transposed_copies
        if isinstance(copies, bool) or not isinstance(copies, int) or copies < 0:
            raise ParameterError(f"transposed_copies: must be an integer >= 0, got {copies!r}")
        low, high = (int(v) for v in self.transpose_range)
        if low > high:
            raise ParameterError(
                f"transpose_range: low must be <= high, got {self.transpose_range}")
        object.__setattr__(self, "transpose_range", (low, high))
        for field in ("max_beta", "free_bits", "learning_rate", "latent_loss_weight",
                      "note_loss_weight"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                    math.isfinite(value) and value >= 0):
                raise ParameterError(f"{field}: must be a finite number >= 0, got {value!r}")


LATENT_MEL_16BAR = LatentHierarchyConfig(name="latent-mel_16bar")
LATENT_PRESETS = {
    "latent-mel_16bar": LATENT_MEL_16BAR,
    # A quarter of the KL weight: how much more of a song z keeps when it costs less.
    "latent-mel_16bar-low-beta": dataclasses.replace(
        LATENT_MEL_16BAR, name="latent-mel_16bar-low-beta", max_beta=0.05),
    # Two transposed copies of every training window, against overfitting
    # (on the folk tunes, top-path accuracy was 0.91 on training windows and
    # 0.79 on held-out ones).
    "latent-mel_16bar-transposed": dataclasses.replace(
        LATENT_MEL_16BAR, name="latent-mel_16bar-transposed", transposed_copies=2),
    # Stage two, from a stage-one export (--init-from): the conductor learns
    # from the notes its latents decode to, not only from the latents. A
    # window's notes cost about 80 nats against stage one's latent NLL of about
    # 1,000, so free bits near stage one's KL keep beta from squeezing z.
    "latent-mel_16bar-notes": dataclasses.replace(
        LATENT_MEL_16BAR, name="latent-mel_16bar-notes", latent_loss_weight=0.0,
        note_loss_weight=1.0, learning_rate=3e-4, batch_size=32, free_bits=1024.0),
    "tiny-latent-mel_16bar": LatentHierarchyConfig(
        name="tiny-latent-mel_16bar", encoder_size=16, conductor_size=16, z_size=8,
        batch_size=8),
}


def get_latent_config(name: str) -> LatentHierarchyConfig:
    return lookup_preset(LATENT_PRESETS, name)
