"""Live classification: a running composition estimate as audio arrives.

A :class:`StreamingClassifier` takes mono chunks of any size at the model's
rate and scores every window as soon as its last sample is in. Its windows
are those of the offline analysis (same start samples, same uncentred
frames), so at the end of a stream its estimate equals ``analyze classify``
on the whole recording.

Chunk sources, each a generator of float32 mono arrays at the model's rate:

* :func:`file_chunks`: a file played back in real time (or faster);
* :func:`pcm_chunks`: raw 16-bit little-endian PCM from a binary stream
  (stdin: ``ffmpeg -i song.mp3 -f s16le -ac 1 -ar 16000 - | gensuite analyze
  classify --stream -``);
* :func:`microphone_chunks`: the default input device, through the optional
  ``sounddevice`` package.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterator

import numpy as np

from gensuite.analysis.classification import composition_shares, shares_to_composition
from gensuite.analysis.features import audible_starts, frame_rms_dbfs, log_mel_spectrogram
from gensuite.audio.io import read_audio, to_mono
from gensuite.common.errors import GensuiteError, ParameterError

PCM_BYTES = 2  # 16-bit samples
DEFAULT_CHUNK_S = 0.25


@dataclasses.dataclass(frozen=True)
class WindowResult:
    """One scored window of a stream."""

    start_s: float
    probabilities: np.ndarray  # float32 (n_classes,)
    audible: bool


class StreamingClassifier:
    """Score windows of a stream as they complete and keep the running composition.

    Parameters
    ----------
    model : AudioClassifier
    """

    def __init__(self, model):
        self.model = model
        self.features = model.features
        self._buffer = np.zeros(0, np.float32)
        self._buffer_start = 0  # stream sample index of _buffer[0]
        self._next_window = 0  # stream sample index where the next window starts
        self._probability_sum = np.zeros(len(model.class_names), np.float64)
        self.n_samples = 0
        self.n_windows = 0
        self.n_audible = 0

    @property
    def elapsed_s(self) -> float:
        """Seconds of audio received so far."""
        return self.n_samples / self.features.sample_rate

    @property
    def composition(self) -> dict[str, float]:
        """Class name -> share over the audible windows so far ({} before the first one)."""
        if self.n_audible == 0:
            return {}
        shares = composition_shares(self._probability_sum[None, :] / self.n_audible)
        return shares_to_composition(shares, class_names=self.model.class_names)

    def push(self, samples: np.ndarray) -> list[WindowResult]:
        """Add mono float samples (model rate); return the windows they completed."""
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        self._buffer = np.concatenate([self._buffer, samples])
        self.n_samples += samples.size
        f = self.features
        windows, starts = [], []
        while self._next_window + f.window_samples <= self._buffer_start + self._buffer.size:
            offset = self._next_window - self._buffer_start
            windows.append(self._buffer[offset:offset + f.window_samples])
            starts.append(self._next_window)
            self._next_window += f.window_hop_samples
        # Keep only what later windows still need.
        drop = min(self._next_window - self._buffer_start, self._buffer.size)
        self._buffer = self._buffer[drop:]
        self._buffer_start += drop
        if not windows:
            return []
        log_mel = np.stack([log_mel_spectrogram(w, features=f) for w in windows])
        audible = np.array([bool(audible_starts(frame_rms_dbfs(w, features=f), np.array([0]),
                                                features=f)[0]) for w in windows])
        probabilities, _ = self.model.predict_windows(log_mel)
        self._probability_sum += probabilities[audible].sum(axis=0)
        self.n_windows += len(windows)
        self.n_audible += int(audible.sum())
        return [WindowResult(start_s=s / f.sample_rate, probabilities=p, audible=bool(a))
                for s, p, a in zip(starts, probabilities, audible)]


def file_chunks(path: str | os.PathLike, *, sample_rate: int, chunk_s: float = DEFAULT_CHUNK_S,
                speed: float = 1.0, sleep=time.sleep, clock=time.monotonic) -> Iterator[np.ndarray]:
    """A file's audio in chunks of ``chunk_s`` seconds, paced like playback.

    Parameters
    ----------
    speed : float
        1.0 plays in real time, 2.0 twice as fast; 0 yields as fast as possible.
    sleep, clock : callables
        For tests.
    """
    if not chunk_s > 0 or speed < 0:
        raise ParameterError(f"chunk_s, speed: must be > 0 and >= 0, got {chunk_s}, {speed}")
    wave = read_audio(path, sample_rate=sample_rate)
    size = max(1, round(chunk_s * sample_rate))
    started = clock()
    for i in range(0, wave.size, size):
        if speed > 0:
            due = started + (i / sample_rate) / speed
            wait = due - clock()
            if wait > 0:
                sleep(wait)
        yield wave[i:i + size]


def pcm_chunks(stream, *, input_rate: int, sample_rate: int, channels: int = 1,
               chunk_s: float = DEFAULT_CHUNK_S) -> Iterator[np.ndarray]:
    """Decode raw signed 16-bit little-endian PCM from a binary stream, as mono at ``sample_rate``.

    Channels are averaged; another ``input_rate`` is resampled on the fly.
    A trailing partial frame is dropped.
    """
    if channels < 1 or input_rate <= 0:
        raise ParameterError(f"--channels, --stream-rate: must be >= 1 and > 0, got "
                             f"{channels}, {input_rate}")
    frame_bytes = PCM_BYTES * channels
    want = max(1, round(chunk_s * input_rate)) * frame_bytes
    resampler = None
    if input_rate != sample_rate:
        import soxr  # noqa: PLC0415

        resampler = soxr.ResampleStream(input_rate, sample_rate, 1, dtype="float32",
                                        quality="HQ")
    pending = b""
    while True:
        data = _read_some(stream, want)
        last = not data
        pending += data
        usable = len(pending) - len(pending) % frame_bytes
        block, pending = pending[:usable], pending[usable:]
        samples = np.frombuffer(block, dtype="<i2").astype(np.float32) / 32768.0
        samples = to_mono(samples.reshape(-1, channels))
        if resampler is not None:
            samples = resampler.resample_chunk(samples, last=last)
        if samples.size:
            yield samples.astype(np.float32)
        if last:
            return


def _read_some(stream, n_bytes: int) -> bytes:
    # Pipes return what is there; read1 avoids waiting for a full buffer.
    read1 = getattr(stream, "read1", None)
    return read1(n_bytes) if read1 is not None else stream.read(n_bytes)


def microphone_chunks(*, sample_rate: int,
                      chunk_s: float = DEFAULT_CHUNK_S) -> Iterator[np.ndarray]:
    """Chunks from the default input device (needs ``pip install sounddevice``).

    Raises
    ------
    GensuiteError
        If sounddevice is missing or there is no input device.
    """
    try:
        import sounddevice  # noqa: PLC0415
    except (ImportError, OSError) as exc:
        raise GensuiteError(f"--microphone: needs the sounddevice package and PortAudio "
                            f"(pip install sounddevice): {exc}") from None
    size = max(1, round(chunk_s * sample_rate))
    try:
        with sounddevice.InputStream(samplerate=sample_rate, channels=1, dtype="float32",
                                     blocksize=size) as stream:
            while True:
                block, _ = stream.read(size)
                yield np.asarray(block[:, 0], dtype=np.float32)
    except sounddevice.PortAudioError as exc:
        raise GensuiteError(f"--microphone: cannot record ({exc})") from None

