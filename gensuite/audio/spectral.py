"""GANSynth's spectral representation: log-magnitude and instantaneous frequency.

Engel et al. (2019), "GANSynth: Adversarial Neural Audio Synthesis", model
audio as an image of STFT frames by frequency bins with two channels:

* channel 0: the log-magnitude, ``log(|X| + 1e-6)``;
* channel 1: the instantaneous frequency (IF), the frame-to-frame difference
  of the unwrapped phase divided by pi, so in [-1, 1].

With the defaults (16 kHz, 64,000 samples, ``n_fft`` 2048, hop 512, 75 %
overlap) a 4-second note is 128 frames x 1024 bins: the DC bin is dropped,
the 125 hops are rounded up to 128 frames and all the padding this takes
(3072 samples) goes in front. The mel variant (their best model,
``mel_prog_hires``) maps the power through an HTK mel matrix, and the phase
into bands whose IF is taken, and comes back through an approximate inverse
of that matrix. Both channels are then scaled by GANSynth's prespecified
constants and clipped to [-1, 1] for the networks.

The conversions are TensorFlow ops (``tf.signal``), so they run on a GPU when
TensorFlow sees one, and can be traced inside ``tf.function``. Arrays or
tensors are accepted; every result is a tensor (float32, or complex64 for
STFTs). Times are in samples, frequencies in hertz, phases in radians.

Where we differ from Magenta's ``specgrams_helper`` / ``spectral_ops``
(waveform SNR of a rendered piano note through ``n_mels=256``: Magenta's way
about -0.3 dB, ours about 28 dB; linear bins: 51 dB either way, the dropped
DC bin being most of the error):

* mel phase: a band's phase is the angle of the complex STFT summed over the
  band, phased relative to the frame centre, i.e. the magnitude-weighted
  circular mean; Magenta sums unwrapped phases, which differ between bins by
  arbitrary multiples of 2 pi. Coming back, a bin's phase is the angle of
  the bands' complex amplitudes through the inverse matrix. See
  :func:`specgrams_to_melspecgrams`;
* mel power: the approximate inverse is refined by a few Richardson-Lucy
  iterations (``SpectralConfig.mel_inverse_iterations``, 0 for none);
* the mel matrix puts each kept bin at its true frequency, ``(k + 1) *
  sample_rate / n_fft``; Magenta spreads the 1024 kept bins over
  ``linspace(0, nyquist, 1024)`` and zeroes the first, as if the DC bin were
  still there;
* the magnitude floor is removed exactly on the way back (``exp(l) - 1e-6``),
  and the linear magnitude from a power ``P`` is ``sqrt(P)``, so
  ``log(|X| + 1e-6)`` means the same in both variants (Magenta: ``exp(l)``
  and ``0.5 * log(P + 1e-6)``).

The network-facing channels are GANSynth's in shape, meaning and range, so
models and normaliser constants carry over.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import tensorflow as tf

from gensuite.common.config import JsonConfig
from gensuite.common.errors import ParameterError

# Added to magnitudes (and mel powers) before the log, as GANSynth does.
LOG_EPSILON = 1e-6

# GANSynth's prespecified normaliser (``mag_normalizer_a/b``,
# ``p_normalizer_a/b`` in gansynth/lib/model.py): ``a * x + b`` per channel,
# then clipped to [-1, 1]. The magnitude pair maps [log(1e-6), 10.37] onto
# [-0.8, 0.8], i.e. a range normaliser with margin 0.8 fitted on NSynth.
MAG_NORMALIZER_A = 0.0661371661726
MAG_NORMALIZER_B = 0.113718730221
IF_NORMALIZER_A = 0.8
IF_NORMALIZER_B = 0.0

# HTK mel scale, mel = 1127 ln(1 + f / 700).
_MEL_BREAK_HERTZ = 700.0
_MEL_HIGH_Q = 1127.0


@dataclasses.dataclass(frozen=True)
class SpectralConfig(JsonConfig):
    """Geometry of the spectrogram images.

    Parameters
    ----------
    sample_rate : int
        Audio sample rate in Hz.
    n_samples : int
        Length of every waveform in samples; a multiple of ``hop_length``.
    n_fft : int
        STFT frame and FFT length in samples; even, and > ``hop_length``.
    hop_length : int
        STFT hop in samples.
    n_mels : int or None
        None: linear frequency bins (``n_fft // 2``, the DC bin dropped);
        otherwise this many HTK mel bins, at most ``n_fft // 2``.
    mel_inverse_iterations : int
        Richardson-Lucy refinements of the linear power when coming back
        from mel bins (0: GANSynth's approximate inverse alone). Each costs
        two ``[n_fft // 2, n_mels]`` matrix products per frame.

    Raises
    ------
    ParameterError
        If a field breaks one of the rules above.
    """

    sample_rate: int = 16000
    n_samples: int = 64000
    n_fft: int = 2048
    hop_length: int = 512
    n_mels: int | None = None
    mel_inverse_iterations: int = 10

    def __post_init__(self):
        def fail(field, rule, value):
            raise ParameterError(f"SpectralConfig: {field} must be {rule}, got {value!r}")

        for field in ("sample_rate", "n_samples", "n_fft", "hop_length"):
            value = getattr(self, field)
            if not _is_int(value) or value < 1:
                fail(field, "an integer >= 1", value)
        if self.n_fft <= self.hop_length:
            fail("n_fft", f"> hop_length ({self.hop_length})", self.n_fft)
        if self.n_fft % 2:
            fail("n_fft", "even (bins 1..n_fft/2 are kept)", self.n_fft)
        if self.n_samples % self.hop_length:
            fail("n_samples", f"a multiple of hop_length ({self.hop_length})", self.n_samples)
        if self.n_mels is not None:
            if not _is_int(self.n_mels) or self.n_mels < 1:
                fail("n_mels", "None or an integer >= 1", self.n_mels)
            if self.n_mels > self.n_fft // 2:
                fail("n_mels", f"<= n_fft // 2 ({self.n_fft // 2}) linear bins", self.n_mels)
        if not _is_int(self.mel_inverse_iterations) or self.mel_inverse_iterations < 0:
            fail("mel_inverse_iterations", "an integer >= 0", self.mel_inverse_iterations)

    @property
    def n_frames(self) -> int:
        """STFT frames per waveform (128 by default).

        ``n_samples / hop_length`` rounded up to a power of two, as GANSynth's
        image height is (125 -> 128 by default): the progressive GAN halves
        both image axes at each resolution. The extra frames cover leading
        zeros (see :attr:`pad_left`).
        """
        return 1 << (self.n_samples // self.hop_length - 1).bit_length()

    @property
    def n_linear_bins(self) -> int:
        """Linear frequency bins kept from each frame: ``n_fft // 2`` (DC dropped)."""
        return self.n_fft // 2

    @property
    def n_bins(self) -> int:
        """Frequency bins of the images: ``n_mels``, or the linear bins."""
        return self.n_linear_bins if self.n_mels is None else self.n_mels

    @property
    def shape(self) -> tuple[int, int, int]:
        """Shape of one image, ``(n_frames, n_bins, 2)``."""
        return (self.n_frames, self.n_bins, 2)

    @property
    def pad_left(self) -> int:
        """Zeros put before each waveform so that it spans exactly ``n_frames``.

        ``hop_length * (n_frames - 1) + n_fft - n_samples`` (3072 by default).
        GANSynth puts all the padding in front: the onset, where a note's
        energy is, lies under as many windows as any other sample, while the
        last ``n_fft - hop_length`` samples lie under fewer and come back
        attenuated (a note's release tail is near silence there).
        """
        return self.hop_length * (self.n_frames - 1) + self.n_fft - self.n_samples


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_shape(name: str, tensor: tf.Tensor, expected: tuple) -> None:
    """Raise ParameterError unless the static shape fits ``expected``.

    ``expected`` holds sizes, or names of axes of any size; unknown static
    sizes pass, so that traced functions with an open batch axis work.
    """
    shape = tensor.shape
    if shape.rank is not None and shape.rank == len(expected) and all(
            isinstance(e, str) or s is None or s == e for s, e in zip(shape.as_list(), expected)):
        return
    want = ", ".join(str(e) for e in expected)
    got = "unknown rank" if shape.rank is None else tuple(shape.as_list())
    raise ParameterError(f"{name}: must have shape [{want}], got {got}")


def _as_float(x) -> tf.Tensor:
    return tf.cast(tf.convert_to_tensor(x), tf.float32)


def _as_complex(x) -> tf.Tensor:
    return tf.cast(tf.convert_to_tensor(x), tf.complex64)


# --- STFT --------------------------------------------------------------------------

def compute_stft(waves, *, config: SpectralConfig) -> tf.Tensor:
    """Complex STFT of waveforms, GANSynth's padding, DC bin dropped.

    Parameters
    ----------
    waves : array-like, shape [batch, n_samples]
        Waveforms, nominally in [-1, 1].
    config : SpectralConfig

    Returns
    -------
    tf.Tensor, complex64, shape [batch, n_frames, n_fft // 2]
        Periodic-Hann-windowed frames; bin ``k`` is ``(k + 1) * sample_rate /
        n_fft`` Hz, the last one Nyquist.
    """
    waves = _as_float(waves)
    _check_shape("waves", waves, ("batch", config.n_samples))
    padded = tf.pad(waves, [[0, 0], [config.pad_left, 0]])
    stfts = tf.signal.stft(padded, frame_length=config.n_fft, frame_step=config.hop_length,
                           fft_length=config.n_fft, pad_end=False)
    return stfts[:, :, 1:]


def invert_stft(stfts, *, config: SpectralConfig) -> tf.Tensor:
    """Waveforms from STFTs laid out as :func:`compute_stft` returns them.

    Parameters
    ----------
    stfts : array-like, complex, shape [batch, n_frames, n_fft // 2]
    config : SpectralConfig

    Returns
    -------
    tf.Tensor, float32, shape [batch, n_samples]
        Overlap-add with the window that makes Hann frames at this hop
        reconstruct exactly, the left padding cut off.
    """
    stfts = _as_complex(stfts)
    _check_shape("stfts", stfts, ("batch", config.n_frames, config.n_linear_bins))
    with_dc = tf.pad(stfts, [[0, 0], [0, 0], [1, 0]])
    waves = tf.signal.inverse_stft(
        with_dc, frame_length=config.n_fft, frame_step=config.hop_length,
        fft_length=config.n_fft,
        window_fn=tf.signal.inverse_stft_window_fn(frame_step=config.hop_length))
    return waves[:, config.pad_left:config.pad_left + config.n_samples]


# --- Phase -------------------------------------------------------------------------

def _wrap(angle: tf.Tensor) -> tf.Tensor:
    """Angles into [-pi, pi]; like numpy.unwrap, +pi stays +pi rather than -pi."""
    wrapped = tf.math.floormod(angle + np.pi, 2.0 * np.pi) - np.pi
    return tf.where((wrapped == -np.pi) & (angle > 0), tf.constant(np.pi, angle.dtype), wrapped)


def _diff_with_first(x: tf.Tensor, axis: int) -> tuple[tf.Tensor, tf.Tensor]:
    """``(x[..first..], x[1:] - x[:-1])`` along ``axis``."""
    n = tf.shape(x)[axis]
    first = tf.gather(x, [0], axis=axis)
    return first, tf.gather(x, tf.range(1, n), axis=axis) - tf.gather(x, tf.range(n - 1), axis=axis)


def instantaneous_frequency(phase, *, axis: int = -2) -> tf.Tensor:
    """GANSynth's IF: finite difference of the unwrapped phase, over pi.

    Parameters
    ----------
    phase : array-like, float, any shape
        Phase angles in radians (e.g. [batch, frames, bins]).
    axis : int
        The time axis (frames).

    Returns
    -------
    tf.Tensor, float32, same shape as ``phase``
        Element 0 along ``axis`` is the initial phase / pi (GANSynth keeps it
        so the phase can be integrated back); element t > 0 is
        ``(unwrap(phase)[t] - unwrap(phase)[t - 1]) / pi``, in [-1, 1].

    Notes
    -----
    The difference of the unwrapped phase is the wrapped difference of the
    phase; computing it that way avoids the float32 rounding of large
    unwrapped values (Magenta's ``use_unwrap=True`` path), same numbers.
    """
    phase = _as_float(phase)
    first, step = _diff_with_first(phase, axis)
    return tf.concat([first, _wrap(step)], axis=axis) / np.pi


def integrate_frequency(ifreq, *, axis: int = -2) -> tf.Tensor:
    """Inverse of :func:`instantaneous_frequency`: the unwrapped phase.

    Parameters
    ----------
    ifreq : array-like, float, any shape
        Instantaneous frequency (units of pi radians per frame).
    axis : int
        The time axis (frames).

    Returns
    -------
    tf.Tensor, float32, same shape
        ``cumsum(ifreq * pi)`` along ``axis``, in radians.
    """
    return tf.cumsum(_as_float(ifreq) * np.pi, axis=axis)


def unwrap_phase(phase, *, axis: int = -2) -> tf.Tensor:
    """``numpy.unwrap`` in TensorFlow: remove 2 pi jumps along ``axis``.

    Parameters
    ----------
    phase : array-like, float, any shape
        Phase angles in radians.
    axis : int
        Axis to unwrap along.

    Returns
    -------
    tf.Tensor, float32, same shape
        Phase whose steps along ``axis`` are all within [-pi, pi].
    """
    return integrate_frequency(instantaneous_frequency(phase, axis=axis), axis=axis)


# --- Log-magnitude / IF images ---------------------------------------------------

def stfts_to_specgrams(stfts) -> tf.Tensor:
    """Linear log-magnitude / IF images, not normalised.

    Parameters
    ----------
    stfts : array-like, complex, shape [batch, n_frames, n_bins]

    Returns
    -------
    tf.Tensor, float32, shape [batch, n_frames, n_bins, 2]
        Channel 0 ``log(|X| + 1e-6)``, channel 1 the IF along frames.
    """
    stfts = _as_complex(stfts)
    _check_shape("stfts", stfts, ("batch", "frames", "bins"))
    log_mag = tf.math.log(tf.abs(stfts) + LOG_EPSILON)
    ifreq = instantaneous_frequency(tf.math.angle(stfts), axis=-2)
    return tf.stack([log_mag, ifreq], axis=-1)


def specgrams_to_stfts(specgrams) -> tf.Tensor:
    """Inverse of :func:`stfts_to_specgrams`.

    Parameters
    ----------
    specgrams : array-like, float, shape [batch, n_frames, n_bins, 2]
        Linear log-magnitude / IF images, not normalised.

    Returns
    -------
    tf.Tensor, complex64, shape [batch, n_frames, n_bins]
    """
    specgrams = _as_float(specgrams)
    _check_shape("specgrams", specgrams, ("batch", "frames", "bins", 2))
    # Subtracting the floor makes the round trip exact, and silence silent.
    mag = tf.nn.relu(tf.exp(specgrams[..., 0]) - LOG_EPSILON)
    phase = integrate_frequency(specgrams[..., 1], axis=-2)
    return tf.complex(mag * tf.cos(phase), mag * tf.sin(phase))


# --- Mel -------------------------------------------------------------------------

def hertz_to_mel(hertz):
    """HTK mel of frequencies in Hz (numpy, float64)."""
    return _MEL_HIGH_Q * np.log1p(np.asarray(hertz, np.float64) / _MEL_BREAK_HERTZ)


def mel_to_hertz(mel):
    """Frequencies in Hz of HTK mel values (numpy, float64)."""
    return _MEL_BREAK_HERTZ * np.expm1(np.asarray(mel, np.float64) / _MEL_HIGH_Q)


def _require_mels(config: SpectralConfig) -> None:
    if config.n_mels is None:
        raise ParameterError("config: n_mels must be set for a mel conversion, got None")


@functools.lru_cache(maxsize=16)
def _mel_matrices(config: SpectralConfig) -> tuple[np.ndarray, np.ndarray]:
    """(mel matrix, its approximate inverse), read-only, cached per config."""
    n_mels, n_bins = config.n_mels, config.n_linear_bins
    bin_width = config.sample_rate / config.n_fft
    bin_hertz = bin_width * np.arange(1, n_bins + 1)[:, None]
    edges = np.linspace(0.0, hertz_to_mel(config.sample_rate / 2.0), n_mels + 2)
    lower, center, upper = edges[:-2].copy(), edges[1:-1], edges[2:].copy()
    # Low mel bands are narrower than an FFT bin and would catch no bin; GANSynth
    # widens every band to at least 1.5 bins, symmetric in mel about its centre.
    min_width = 1.5 * bin_width
    narrow = mel_to_hertz(upper) - mel_to_hertz(lower) < min_width
    half = _MEL_HIGH_Q * np.arcsinh(0.5 * min_width / (mel_to_hertz(center) + _MEL_BREAK_HERTZ))
    lower[narrow] = center[narrow] - half[narrow]
    upper[narrow] = center[narrow] + half[narrow]
    lo, mid, hi = (mel_to_hertz(m)[None, :] for m in (lower, center, upper))
    matrix = np.maximum(0.0, np.minimum((bin_hertz - lo) / (mid - lo), (hi - bin_hertz) / (hi - mid)))

    # GANSynth's inverse, M^T with column k divided by sum_m s_m M[k, m] (s: band
    # sums): a flat spectrum comes back flat and powers stay non-negative, which
    # the Moore-Penrose pseudo-inverse guarantees neither of.
    scale = matrix @ matrix.sum(axis=0)
    covered = scale > 1e-8
    inverse = matrix.T * np.where(covered, 1.0 / np.where(covered, scale, 1.0), 0.0)[None, :]
    matrix.setflags(write=False)
    inverse.setflags(write=False)
    return matrix, inverse


def mel_weight_matrix(config: SpectralConfig) -> np.ndarray:
    """GANSynth's HTK mel filterbank over the kept linear bins.

    Triangles, linear in Hz between edges equally spaced in mel from 0 Hz to
    Nyquist, peak weight 1 (no area normalisation), each at least 1.5 bins
    wide. Bin ``k`` sits at ``(k + 1) * sample_rate / n_fft`` Hz. With
    ``n_mels`` near ``n_fft // 2`` the lowest bands can still catch no bin;
    their power is 0 (log: ``log(1e-6)``).

    Parameters
    ----------
    config : SpectralConfig
        With ``n_mels`` set.

    Returns
    -------
    numpy.ndarray, float64, shape [n_fft // 2, n_mels]
        ``linear_power @ matrix`` is the mel power. Read-only (cached).

    Raises
    ------
    ParameterError
        If ``config.n_mels`` is None.
    """
    _require_mels(config)
    return _mel_matrices(config)[0]


def inverse_mel_weight_matrix(config: SpectralConfig) -> np.ndarray:
    """GANSynth's approximate inverse of :func:`mel_weight_matrix`.

    ``M^T`` with column ``k`` divided by ``sum_m s_m M[k, m]``, ``s`` the
    band sums: a flat spectrum comes back flat and powers stay non-negative,
    neither of which the Moore-Penrose pseudo-inverse guarantees. Bins that
    no band covers (Nyquist) get zeros.

    Parameters
    ----------
    config : SpectralConfig
        With ``n_mels`` set.

    Returns
    -------
    numpy.ndarray, float64, shape [n_mels, n_fft // 2]
        ``mel_power @ matrix`` approximates the linear power. Read-only.

    Raises
    ------
    ParameterError
        If ``config.n_mels`` is None.
    """
    _require_mels(config)
    return _mel_matrices(config)[1]


def _matmul(x: tf.Tensor, matrix: np.ndarray) -> tf.Tensor:
    return tf.tensordot(x, tf.constant(matrix, tf.float32), axes=1)


def _centring_signs(config: SpectralConfig) -> tf.Tensor:
    """``(-1)^k`` per kept bin ``k``: moves the STFT phase reference to the frame centre.

    Relative to the frame start, the bins of one partial's main lobe
    alternate in phase by about pi, and band sums of them cancel; relative
    to the centre (a zero-phase window, a shift of ``pi * k``) they agree.
    """
    return tf.constant((-1.0) ** np.arange(1, config.n_linear_bins + 1), tf.float32)


def specgrams_to_melspecgrams(specgrams, *, config: SpectralConfig) -> tf.Tensor:
    """Linear log-magnitude / IF images to mel ones, not normalised.

    Channel 0 becomes ``log(|X|^2 @ M + 1e-6)``, a log power, as GANSynth.
    Channel 1 is the IF of each band's phase, the angle of ``X @ M`` with
    ``X`` the complex STFT phased relative to the frame centre.

    Parameters
    ----------
    specgrams : array-like, float, shape [batch, n_frames, n_fft // 2, 2]
    config : SpectralConfig
        With ``n_mels`` set.

    Returns
    -------
    tf.Tensor, float32, shape [batch, n_frames, n_mels, 2]

    Notes
    -----
    GANSynth's band phase is ``unwrapped_phase @ M``. Unwrapped phases of
    neighbouring bins differ by arbitrary multiples of 2 pi (each bin's
    history of wraps, or of noise in quiet frames), so their weighted sum is
    not the phase of anything, and the wraps lost when its IF is taken come
    back spread over the linear bins as frequency errors. The band phase of
    the complex sum is the magnitude-weighted circular mean, which follows
    the loudest partial in the band. Measured on a rendered piano note at
    ``n_mels=256``: waveform SNR about -0.3 dB GANSynth's way, about 18 dB
    this way (with its approximate inverse in both cases).
    """
    _require_mels(config)
    specgrams = _as_float(specgrams)
    _check_shape("specgrams", specgrams, ("batch", config.n_frames, config.n_linear_bins, 2))
    matrix = mel_weight_matrix(config)
    mag = tf.nn.relu(tf.exp(specgrams[..., 0]) - LOG_EPSILON)
    phase = integrate_frequency(specgrams[..., 1], axis=-2)
    log_mel_power = tf.math.log(_matmul(tf.square(mag), matrix) + LOG_EPSILON)
    centred = mag * _centring_signs(config)
    mel_phase = tf.math.atan2(_matmul(centred * tf.sin(phase), matrix),
                              _matmul(centred * tf.cos(phase), matrix))
    return tf.stack([log_mel_power, instantaneous_frequency(mel_phase, axis=-2)], axis=-1)


def _refine_power(power: tf.Tensor, mel_power: tf.Tensor, matrix: np.ndarray,
                  iterations: int) -> tf.Tensor:
    """Richardson-Lucy updates of ``power >= 0`` towards ``power @ M = mel_power``.

    Each band's power was spread evenly over its triangle by the approximate
    inverse; the multiplicative updates move it back onto the bins where the
    neighbouring bands say it is, keeping it non-negative (and zero bins
    zero).
    """
    forward = tf.constant(matrix, tf.float32)
    backward = tf.transpose(forward)
    bin_sums = tf.reduce_sum(forward, axis=1)
    for _ in range(iterations):
        ratio = tf.math.divide_no_nan(mel_power, tf.tensordot(power, forward, axes=1))
        power = power * tf.math.divide_no_nan(tf.tensordot(ratio, backward, axes=1), bin_sums)
    return power


def melspecgrams_to_specgrams(melspecgrams, *, config: SpectralConfig) -> tf.Tensor:
    """Mel log-power / IF images back to linear log-magnitude / IF images.

    Parameters
    ----------
    melspecgrams : array-like, float, shape [batch, n_frames, n_mels, 2]
        As :func:`specgrams_to_melspecgrams` returns, not normalised.
    config : SpectralConfig
        With ``n_mels`` set; ``mel_inverse_iterations`` refinements of the
        power.

    Returns
    -------
    tf.Tensor, float32, shape [batch, n_frames, n_fft // 2, 2]
        Power through :func:`inverse_mel_weight_matrix` then refined; each
        bin's phase the angle of the bands' complex amplitudes
        (``sqrt(mel power)`` at the band phase) through the same matrix.
    """
    _require_mels(config)
    melspecgrams = _as_float(melspecgrams)
    _check_shape("melspecgrams", melspecgrams, ("batch", config.n_frames, config.n_mels, 2))
    matrix, inverse = _mel_matrices(config)
    mel_power = tf.nn.relu(tf.exp(melspecgrams[..., 0]) - LOG_EPSILON)
    power = tf.nn.relu(_matmul(mel_power, inverse))
    power = _refine_power(power, mel_power, matrix, config.mel_inverse_iterations)
    mel_phase = integrate_frequency(melspecgrams[..., 1], axis=-2)
    mel_amp = tf.sqrt(mel_power)
    signs = _centring_signs(config)
    phase = tf.math.atan2(_matmul(mel_amp * tf.sin(mel_phase), inverse) * signs,
                          _matmul(mel_amp * tf.cos(mel_phase), inverse) * signs)
    log_mag = tf.math.log(tf.sqrt(power) + LOG_EPSILON)
    return tf.stack([log_mag, instantaneous_frequency(phase, axis=-2)], axis=-1)


# --- Normalisation ----------------------------------------------------------------

def _normalizer() -> tuple[tf.Tensor, tf.Tensor]:
    return (tf.constant([MAG_NORMALIZER_A, IF_NORMALIZER_A], tf.float32),
            tf.constant([MAG_NORMALIZER_B, IF_NORMALIZER_B], tf.float32))


def normalize_specgrams(specgrams) -> tf.Tensor:
    """GANSynth's prespecified normaliser: ``a * x + b`` per channel, clipped.

    Parameters
    ----------
    specgrams : array-like, float, shape [..., 2]
        Log-magnitude (or mel log-power) / IF images.

    Returns
    -------
    tf.Tensor, float32, same shape, in [-1, 1]
        Channel 0 ``x * 0.0661371661726 + 0.113718730221``, channel 1
        ``x * 0.8``.
    """
    specgrams = _as_float(specgrams)
    a, b = _normalizer()
    return tf.clip_by_value(specgrams * a + b, -1.0, 1.0)


def denormalize_specgrams(specgrams) -> tf.Tensor:
    """Inverse of :func:`normalize_specgrams` (up to its clipping): ``(x - b) / a``.

    Parameters
    ----------
    specgrams : array-like, float, shape [..., 2]

    Returns
    -------
    tf.Tensor, float32, same shape
    """
    a, b = _normalizer()
    return (_as_float(specgrams) - b) / a


# --- Waveforms <-> network images ---------------------------------------------------

def waves_to_specgrams(waves, *, config: SpectralConfig) -> tf.Tensor:
    """Waveforms to the normalised images a GANSynth network sees.

    Parameters
    ----------
    waves : array-like, float, shape [batch, n_samples]
        Audio at ``config.sample_rate``, nominally in [-1, 1].
    config : SpectralConfig

    Returns
    -------
    tf.Tensor, float32, shape [batch, n_frames, n_bins, 2], in [-1, 1]
        Channel 0 the normalised log-magnitude (mel log-power when
        ``n_mels`` is set), channel 1 the normalised IF.
    """
    specgrams = stfts_to_specgrams(compute_stft(waves, config=config))
    if config.n_mels is not None:
        specgrams = specgrams_to_melspecgrams(specgrams, config=config)
    return normalize_specgrams(specgrams)


def specgrams_to_waves(specgrams, *, config: SpectralConfig) -> tf.Tensor:
    """Inverse of :func:`waves_to_specgrams`, e.g. for a generator's output.

    Parameters
    ----------
    specgrams : array-like, float, shape [batch, n_frames, n_bins, 2]
        Normalised images, as :func:`waves_to_specgrams` returns.
    config : SpectralConfig

    Returns
    -------
    tf.Tensor, float32, shape [batch, n_samples]
    """
    specgrams = _as_float(specgrams)
    _check_shape("specgrams", specgrams, ("batch", *config.shape))
    specgrams = denormalize_specgrams(specgrams)
    if config.n_mels is not None:
        specgrams = melspecgrams_to_specgrams(specgrams, config=config)
    return invert_stft(specgrams_to_stfts(specgrams), config=config)


# Bands within this many cents of a harmonic of the note's pitch take that
# harmonic's frequency in :func:`lock_to_harmonics`: a semitone either way
# catches a partial the generator placed between two semitones.
HARMONIC_LOCK_CENTS = 100.0


def band_hertz(config: SpectralConfig) -> np.ndarray:
    """Centre frequency of each image band in Hz, shape (n_bins,).

    The mel band centres (HTK), or for linear images the kept FFT bins,
    ``(k + 1) * sample_rate / n_fft``.
    """
    if config.n_mels is None:
        return config.sample_rate / config.n_fft * np.arange(1, config.n_linear_bins + 1)
    edges = np.linspace(0.0, hertz_to_mel(config.sample_rate / 2.0), config.n_mels + 2)
    return mel_to_hertz(edges[1:-1])


def lock_to_harmonics(specgrams, midi_pitches, *, config: SpectralConfig,
                      max_cents: float = HARMONIC_LOCK_CENTS) -> tf.Tensor:
    """Normalised images whose bands near a harmonic of their note play exactly that harmonic.

    A band whose centre lies within ``max_cents`` of a harmonic ``k * f0``
    of its note's pitch (below Nyquist) gets the IF of a steady partial at
    ``k * f0``; every other band, and every magnitude, is left as it is. For
    a generator's images this keeps the timbre it drew (how loud each partial
    is, when, and the noise between partials) and takes the partials'
    frequencies from the asked pitch: a GAN's IF wanders by tens of cents
    within a note and can put a fundamental most of a semitone off its
    upper partials, which smears each note over the neighbouring semitones.

    Parameters
    ----------
    specgrams : array-like, float, shape [batch, n_frames, n_bins, 2]
        Normalised images (:func:`waves_to_specgrams`).
    midi_pitches : array-like, int or float, shape [batch]
        Each image's pitch.
    config : SpectralConfig
    max_cents : float

    Returns
    -------
    tf.Tensor, float32, same shape
    """
    specgrams = _as_float(specgrams)
    _check_shape("specgrams", specgrams, ("batch", *config.shape))
    hz = tf.constant(band_hertz(config), tf.float32)[None, :]
    f0_hz = 440.0 * tf.pow(2.0, (tf.cast(midi_pitches, tf.float32)[:, None] - 69.0) / 12.0)
    harmonic_hz = tf.maximum(1.0, tf.round(hz / f0_hz)) * f0_hz
    cents = tf.abs(1200.0 / np.log(2.0) * tf.math.log(hz / harmonic_hz))
    near = (cents < max_cents) & (harmonic_hz < config.sample_rate / 2.0)
    # A steady partial turns by 2 pi f hop / rate a hop; the IF channel holds
    # that turn wrapped to [-pi, pi), over pi.
    cycles = harmonic_hz * (config.hop_length / config.sample_rate)
    ifreq = IF_NORMALIZER_A * 2.0 * (cycles - tf.round(cycles)) + IF_NORMALIZER_B
    locked = tf.where(near[:, None, :], ifreq[:, None, :], specgrams[..., 1])
    return tf.stack([specgrams[..., 0], locked], axis=-1)


def low_pass(waves, *, max_hz: float, sample_rate: int) -> tf.Tensor:
    """Remove every frequency above ``max_hz`` (a brick wall on the whole signal's FFT).

    Parameters
    ----------
    waves : array-like, shape (..., n_samples), float
    max_hz : float
        Highest frequency kept, in Hz.
    sample_rate : int

    Returns
    -------
    tf.Tensor, float32, same shape as ``waves``
    """
    waves = _as_float(waves)
    n_samples = tf.shape(waves)[-1]
    spectrum = tf.signal.rfft(waves)
    # Bin k is k * sample_rate / n_samples Hz (for odd n_samples too).
    hz = tf.cast(tf.range(tf.shape(spectrum)[-1]), tf.float32) * (
        sample_rate / tf.cast(n_samples, tf.float32))
    keep = tf.cast(hz <= max_hz, spectrum.dtype)
    return tf.signal.irfft(spectrum * keep, fft_length=[n_samples])
