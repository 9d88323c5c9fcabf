"""GANSynth configurations: one frozen dataclass and its named presets.

``gansynth_mel_prog_hires`` reproduces Magenta's
``magenta/models/gansynth/configs/mel_prog_hires.py``: 16 kHz notes of 64,000
samples as a 128 x 1024 x 2 mel spectrogram (log-magnitude, instantaneous
frequency), pitches 24-84, progressive growth over 7 resolutions from 2 x 16,
filters ``min(4096 / 2**block, 256)``, WGAN-GP with drift and an auxiliary
pitch classifier, Adam 8e-4 (0, 0.99), batch 8, 800k images per stable and per
transition stage, 11M images in all. It is meant for GPUs.

``cpu-gansynth_mel`` keeps the architecture at sizes that learn pitched notes
on two CPU cores within hours: 256 mel bins (128 x 256 x 2), pitches 36-84,
at most 64 filters (8 at the finest block), batch 16, 16,000 images per stage
(fully grown after 12,000 steps, 4,000 more at full size). It departs from
Magenta where a CPU run with Magenta's rule did not learn pitch or timbre:

* ``pitch_input_scale`` 16 (``sqrt(latent_size)``): the pitch one-hot enters
  the generator with z's weight instead of a sixteenth of it;
* both auxiliary classifier weights 0, and the pitch reaches both networks as
  a harmonic comb channel at every block (``pitch_comb``): with the
  classifier losses the generator learnt to paint what the classifier keys
  on instead of notes;
* ``ema_decay`` 0.99: a stage lasts 1,000 steps, after which a 0.999 average
  would still hold 37% of a new block's random initial weights;
* ``mode_seeking_weight`` 1 (MSGAN): without it every latent played one timbre;
* ``max_output_hz`` 7,400: generated notes are low-passed below the top mel
  bins, where mode seeking taught the generator a whistle and the training
  notes have almost no energy;
* ``harmonic_contrast_weight`` 10: once grown, each note's partials must stand
  out of the gaps between them at least as much as the median real note's of
  its pitch; without it the upper partials came out as noise.

The measurements behind each departure are in ``docs/decisions.md``; the
runs of the shipped model are in ``checkpoints/gansynth_gm/card.md``.

``cpu-gansynth_instruments`` conditions both networks on the training notes'
instruments (soundfont x program for our data) and adds a reconstruction
loss, so that timbre variety comes from the data's instruments
(``docs/decisions.md``); it starts from a saved ``cpu-gansynth_mel`` generator.

``tiny-gansynth`` and ``tiny-gansynth_instruments`` are for tests.
"""

from __future__ import annotations

import dataclasses
import math

from gensuite.audio.spectral import SpectralConfig
from gensuite.common.config import JsonConfig, lookup_preset
from gensuite.common.errors import ParameterError


@dataclasses.dataclass(frozen=True)
class GANSynthConfig(JsonConfig):
    """Everything needed to build, train and run one GANSynth.

    Attributes
    ----------
    name : str
        Preset name (kept in saved checkpoints).
    sample_rate, n_samples, n_fft, hop_length, n_mels
        The spectral representation (:class:`gensuite.audio.spectral.SpectralConfig`);
        ``n_mels=None`` means linear frequency bins.
    min_pitch, max_pitch : int
        MIDI pitch range, both ends included; the pitch one-hot has
        ``max_pitch - min_pitch + 1`` entries.
    latent_size : int
        Size of the instrument latent z.
    pitch_input_scale : float
        Factor on the pitch one-hot where it joins z at the generator input.
        Magenta's 1 gives the pitch about ``1 / sqrt(latent_size)`` of z's
        weight in the first layer, and with equalised learning rates the
        generator needs tens of thousands of steps to raise it;
        ``sqrt(latent_size)`` gives both the same weight from the start.
    start_shape : tuple of int
        (time, frequency) size of the first, coarsest block.
    n_resolutions : int
        Number of blocks; each doubles both sizes, so the final image is
        ``start_shape * 2 ** (n_resolutions - 1)`` and must equal the
        spectrogram's (frames, bins).
    fmap_base, fmap_decay, fmap_max : float, float, int
        Filters of block ``b`` are ``min(fmap_base / 2 ** (b * fmap_decay), fmap_max)``.
    kernel_size : int
    batch_size : int
    learning_rate, adam_beta1, adam_beta2 : float
        Adam for both networks.
    gradient_penalty_weight, gradient_penalty_target : float
        WGAN-GP: ``weight * (|grad| / target - 1) ** 2``.
    real_score_penalty_weight : float
        Drift penalty on the squared real scores.
    generator_ac_loss_weight, discriminator_ac_loss_weight : float
        Weights of the auxiliary pitch-classification losses.
    pitch_projection : bool
        Condition the discriminator's score on the pitch as well (Miyato and
        Koyama's projection discriminator: ``score + <embed(pitch), features>``),
        so that a note must look real *for its pitch*. Magenta has only the
        auxiliary classifier (False); with it alone the generator learns to
        paint what the classifier keys on rather than harmonics. When True,
        each batch's fakes take the pitches of its real notes, so the
        gradient penalty compares notes of one pitch.
    pitch_comb : bool
        Also show both networks where the pitch's harmonics lie: one extra
        input channel per block holding the pitch's harmonic comb on the
        frequency axis (:func:`gensuite.gansynth.model.pitch_combs`), constant
        over time, at that block's resolution. Magenta has none (False): its
        generator must learn to place harmonics from the one-hot alone, which
        takes far more steps than a CPU gives. Pairs fakes with the reals'
        pitches like ``pitch_projection``.
    mode_seeking_weight : float
        Weight of Mao et al.'s mode-seeking loss (MSGAN, 2019) on the
        generator: ``1 / (mean|G(z1, p) - G(z2, p)| / mean|z1 - z2| + 1e-5)`` over
        half a batch of second latents at the same pitches. Magenta has none
        (0); without it the pitch-conditioned CPU run drew one timbre for every
        latent (``docs/decisions.md``).
    n_instruments : int
        Size of the instrument table that conditions both networks (0: none,
        as in Magenta, where z alone picks the timbre). The training notes'
        instruments (NSynth instrument ids, per data folder) take its rows in
        order; a conditioned model's timbre latent is z followed by
        ``n_instruments`` instrument weights (one-hot for a trained
        instrument), so that every caller that draws, slerps or caches
        latents handles both kinds alike. The generator adds a learned row per
        instrument to its first dense layer's output; the discriminator's
        score adds ``<embed(instrument), features>`` (projection).
    reconstruction_weight : float
        Weight of an L1 loss between each fake's log-magnitude and that of the
        real note whose pitch and instrument it was given (needs
        ``n_instruments``): the instrument rows then learn what each
        instrument sounds like from every batch, not only through the
        discriminator. Magenta has none (0).
    max_output_hz : float or None
        Generated notes are low-passed here (None: not at all). Magenta has no
        such filter; ``docs/decisions.md`` says why ours has one.
    harmonic_contrast_weight : float
        Weight of a floor on each generated note's harmonic contrast, once the
        networks are fully grown: per band of :data:`HARMONIC_BANDS_HZ`, the
        mean log-magnitude at the pitch's harmonics minus that between them
        (:func:`gensuite.gansynth.model.harmonic_contrast`) may not fall below
        the median of the real notes of its pitch; the loss is the shortfall.
        Magenta has none (0): without it the CPU generator painted the upper
        partials as noise (``docs/decisions.md``).
    stable_stage_images, transition_stage_images : int
        Images shown per stable stage and per fade-in stage.
    total_images : int
        Images shown in all; training stays at the final resolution once grown.
    ema_decay : float
        Decay of the exponential moving average of the generator weights
        used for generation.
    """

    name: str
    sample_rate: int = 16000
    n_samples: int = 64000
    n_fft: int = 2048
    hop_length: int = 512
    n_mels: int | None = 1024
    min_pitch: int = 24
    max_pitch: int = 84
    latent_size: int = 256
    pitch_input_scale: float = 1.0
    start_shape: tuple[int, int] = (2, 16)
    n_resolutions: int = 7
    fmap_base: float = 4096.0
    fmap_decay: float = 1.0
    fmap_max: int = 256
    kernel_size: int = 3
    batch_size: int = 8
    learning_rate: float = 8e-4
    adam_beta1: float = 0.0
    adam_beta2: float = 0.99
    gradient_penalty_weight: float = 10.0
    gradient_penalty_target: float = 1.0
    real_score_penalty_weight: float = 1e-3
    generator_ac_loss_weight: float = 10.0
    discriminator_ac_loss_weight: float = 10.0
    pitch_projection: bool = False
    pitch_comb: bool = False
    mode_seeking_weight: float = 0.0
    n_instruments: int = 0
    reconstruction_weight: float = 0.0
    max_output_hz: float | None = None
    harmonic_contrast_weight: float = 0.0
    stable_stage_images: int = 800_000
    transition_stage_images: int = 800_000
    total_images: int = 11_000_000
    ema_decay: float = 0.999

    def __post_init__(self):
        if self.min_pitch > self.max_pitch or not 0 <= self.min_pitch <= 127 \
                or not 0 <= self.max_pitch <= 127:
            raise ParameterError(
                f"config {self.name}: pitch range must be within 0-127 and non-empty, "
                f"got {self.min_pitch}-{self.max_pitch}")
        if self.n_instruments < 0 or (self.reconstruction_weight > 0 and not self.n_instruments):
            raise ParameterError(
                f"config {self.name}: reconstruction_weight needs n_instruments >= 1 (the "
                f"fakes take the reals' instruments), got n_instruments {self.n_instruments}")
        final = self.image_shape[:2]
        if final != (self.spectral.n_frames, self.spectral.n_bins):
            raise ParameterError(
                f"config {self.name}: start_shape {self.start_shape} doubled "
                f"{self.n_resolutions - 1} times gives {final}, but the spectrogram is "
                f"{self.spectral.n_frames} x {self.spectral.n_bins}")

    @property
    def spectral(self) -> SpectralConfig:
        return SpectralConfig(
            sample_rate=self.sample_rate, n_samples=self.n_samples, n_fft=self.n_fft,
            hop_length=self.hop_length, n_mels=self.n_mels)

    @property
    def discriminator_sees_pitch(self) -> bool:
        return self.pitch_projection or self.pitch_comb

    @property
    def timbre_size(self) -> int:
        """Width of a timbre latent: z, then one weight per instrument row."""
        return self.latent_size + self.n_instruments

    @property
    def n_pitches(self) -> int:
        return self.max_pitch - self.min_pitch + 1

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(time, frequency, 2) of the final resolution."""
        scale = 2 ** (self.n_resolutions - 1)
        return (self.start_shape[0] * scale, self.start_shape[1] * scale, 2)

    def n_filters(self, block: int) -> int:
        """Filters of block ``block`` (1 = coarsest; 0 = the discriminator's last conv)."""
        return int(min(self.fmap_base / math.pow(2.0, block * self.fmap_decay), self.fmap_max))

    @property
    def n_stage_images(self) -> int:
        """Images from the start of one stable stage to the start of the next."""
        return self.stable_stage_images + self.transition_stage_images

    @property
    def total_steps(self) -> int:
        return math.ceil(self.total_images / self.batch_size)


# Bands of the harmonic-contrast floor (Hz, low inclusive): the lower partials
# and the upper ones, where the CPU generator lost them first.
HARMONIC_BANDS_HZ = ((0.0, 2000.0), (2000.0, 8000.0))

# Fields that weigh the losses, post-process the output or end the schedule but
# shape no weight and no optimizer state: a run may continue another's
# checkpoints with them changed (`gansynth train --init-from`), as the shipped
# model's mode-seeking phase continued the comb run.
CONTINUABLE_FIELDS = (
    "name", "gradient_penalty_weight", "gradient_penalty_target", "real_score_penalty_weight",
    "generator_ac_loss_weight", "discriminator_ac_loss_weight", "mode_seeking_weight",
    "max_output_hz", "harmonic_contrast_weight", "reconstruction_weight", "total_images",
    "ema_decay")
# Fields a run may change when it starts from a saved generator (not from
# checkpoints, whose optimizer state has the old shapes): an unconditioned
# generator gains an instrument table, starting at zero, so that it plays as
# before until the table learns.
ADDABLE_FIELDS = ("n_instruments",)

GANSYNTH_MEL_PROG_HIRES = GANSynthConfig(name="gansynth_mel_prog_hires")

CPU_GANSYNTH_MEL = dataclasses.replace(
    GANSYNTH_MEL_PROG_HIRES, name="cpu-gansynth_mel", n_mels=256, min_pitch=36,
    start_shape=(2, 4), fmap_base=1024.0, fmap_max=64, batch_size=16, pitch_input_scale=16.0,
    pitch_comb=True, generator_ac_loss_weight=0.0, discriminator_ac_loss_weight=0.0,
    ema_decay=0.99, mode_seeking_weight=1.0, max_output_hz=7400.0, harmonic_contrast_weight=10.0,
    stable_stage_images=16_000, transition_stage_images=16_000, total_images=256_000)

# The CPU preset conditioned on the data's instruments (soundfont x program for
# notes from `gensuite data nsynth`). Timbre variety comes from the instruments,
# so z needs no mode-seeking push, which would fight the reconstruction loss; the
# harmonic-contrast floor weighs three times more, because with the instruments
# learning, the upper partials fell back into noise at weight 10.
CPU_GANSYNTH_INSTRUMENTS = dataclasses.replace(
    CPU_GANSYNTH_MEL, name="cpu-gansynth_instruments", n_instruments=128,
    reconstruction_weight=10.0, mode_seeking_weight=0.0, harmonic_contrast_weight=30.0)

# Fewer samples and resolutions so that a test trains through every stage in seconds.
TINY_GANSYNTH = dataclasses.replace(
    CPU_GANSYNTH_MEL, name="tiny-gansynth", n_samples=4096, n_fft=256, hop_length=128,
    n_mels=64, min_pitch=58, max_pitch=62, latent_size=8, start_shape=(2, 4),
    n_resolutions=5, fmap_base=64.0, fmap_max=8, batch_size=4,
    stable_stage_images=8, transition_stage_images=8, total_images=96)

TINY_GANSYNTH_INSTRUMENTS = dataclasses.replace(
    TINY_GANSYNTH, name="tiny-gansynth_instruments", n_instruments=4, reconstruction_weight=1.0,
    mode_seeking_weight=0.0)

PRESETS: dict[str, GANSynthConfig] = {
    c.name: c for c in (GANSYNTH_MEL_PROG_HIRES, CPU_GANSYNTH_MEL, CPU_GANSYNTH_INSTRUMENTS,
                        TINY_GANSYNTH, TINY_GANSYNTH_INSTRUMENTS)}


def get_config(name: str) -> GANSynthConfig:
    """The preset called ``name``; ParameterError lists the valid names."""
    return lookup_preset(PRESETS, name)
