"""The studio's work, without HTTP: clips, models, results and jobs in one work folder.

Layout of the work folder (every file written atomically; a result or clip
is listed only once its JSON, written last, exists)::

    clips/ID.mid, clips/ID.json         uploaded songs, corpus examples, results reused
    corpus/COLLECTION/*.mid             corpus examples, exported on first use
    results/ID/*.mid, *.wav, result.json  samples, interpolations, continuations, renders
    models/my-ID/                       personalised models (appear when complete)
    uploads/ID/                         unpacked zips being personalised on

Each model is loaded once and used by one thread at a time
(:class:`ModelCache`): TensorFlow models are not safe to call from many
threads at once, so concurrent requests queue for a model.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shutil
import threading
import uuid

from gensuite.common.errors import GensuiteError, ParameterError
from gensuite.common.fileio import write_bytes_atomic, write_text_atomic
from gensuite.studio import uploads
from gensuite.studio.jobs import Job, JobRunner

# Corpus collections offered as examples, and how many pieces of each.
EXAMPLES = (("bach-chorales", 2), ("essen", 2))
VAE_KINDS = ("music_vae", "latent_hierarchy")
RNN_KIND = "melody_rnn"
GANSYNTH_KIND = "gansynth"
PERSONAL_PREFIX = "my-"
ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,80}")
MAX_DRAWN_NOTES = 5000  # notes sent to the page for one piano roll
FILES_URL = "/files"


class NotFoundError(GensuiteError):
    """An id names no clip, result, job or model (HTTP 404)."""


@dataclasses.dataclass(frozen=True)
class Target:
    """A MIDI file of the work folder: a clip or one item of a result."""

    path: str
    stem: str  # where its renders go, without extension
    label: str


class ModelCache:
    """Models loaded once each, used by one caller at a time."""

    def __init__(self):
        self._lock = threading.Lock()
        self._entries: dict[tuple, list] = {}

    @contextlib.contextmanager
    def use(self, key: tuple, load):
        """Hold the model ``key`` (loaded with ``load()`` on first use) for the block."""
        with self._lock:
            entry = self._entries.setdefault(key, [threading.Lock(), None])
        with entry[0]:
            if entry[1] is None:
                entry[1] = load()
            yield entry[1]


def roll(sequence) -> dict:
    """What the page draws of a NoteSequence: notes, tracks, bar lines and length.

    ``notes`` are ``[pitch, start_s, end_s, track]`` (at most ``MAX_DRAWN_NOTES``,
    drums left out); ``tracks`` map each track to its name.
    """
    from gensuite.midi.pianoroll import compute_bar_times

    names = {info.instrument: info.name for info in sequence.instrument_infos}
    notes = [n for n in sequence.notes if not n.is_drum and n.end_time > n.start_time]
    notes = sorted(notes, key=lambda n: n.start_time)[:MAX_DRAWN_NOTES]
    end = max((n.end_time for n in sequence.notes), default=0.0)
    tracks = sorted({n.instrument for n in notes})
    return {"notes": [[n.pitch, round(n.start_time, 4), round(n.end_time, 4), n.instrument]
                      for n in notes],
            "tracks": [{"id": t, "name": names.get(t) or f"track {t}"} for t in tracks],
            "bars": [round(t, 4) for t in compute_bar_times(sequence, end_seconds=end)],
            "duration": round(end, 4)}


def check_id(value: str, *, what: str) -> str:
    """``value`` if it can name a file of the work folder, else NotFoundError."""
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        raise NotFoundError(f"{what}: no such id {value!r}")
    return value


class Studio:
    """Everything the studio serves, kept in ``work_dir``.

    Parameters
    ----------
    work_dir : str or os.PathLike
        Folder of clips, results and models (created if needed).
    workers : int
        Background jobs running at once.
    """

    def __init__(self, *, work_dir: str | os.PathLike, workers: int = 2):
        self.work_dir = os.path.realpath(os.fspath(work_dir))
        for sub in ("clips", "corpus", "results", "models", "uploads"):
            os.makedirs(os.path.join(self.work_dir, sub), exist_ok=True)
        self.models = ModelCache()
        self.jobs = JobRunner(workers=workers)
        self._corpus_lock = threading.Lock()
        self._examples: list[dict] | None = None

    def close(self) -> None:
        """Cancel the jobs and wait for running ones."""
        self.jobs.shutdown()

    # ----- paths and urls ----------------------------------------------

    def _path(self, *parts: str) -> str:
        return os.path.join(self.work_dir, *parts)

    def url(self, path: str) -> str:
        """The URL of a file of the work folder."""
        return f"{FILES_URL}/" + os.path.relpath(path, self.work_dir).replace(os.sep, "/")

    # ----- models -------------------------------------------------------

    def list_models(self) -> dict:
        """Models by use: ``vae`` (sample, interpolate), ``rnn``, ``gansynth``."""
        from gensuite.checkpoints import list_shipped, read_checkpoint_info

        found = {"vae": [], "rnn": [], "gansynth": []}
        groups = {**dict.fromkeys(VAE_KINDS, "vae"), RNN_KIND: "rnn", GANSYNTH_KIND: "gansynth"}
        for info in list_shipped():
            if info.kind in groups:
                found[groups[info.kind]].append({"name": info.name, "label": info.name,
                                                 "kind": info.kind})
        models_dir = self._path("models")
        for name in sorted(os.listdir(models_dir)):
            if name.startswith(PERSONAL_PREFIX) and "." not in name:
                info = read_checkpoint_info(os.path.join(models_dir, name))
                label = info.meta.get("studio_label") or name
                found["vae"].append({"name": name, "label": f"{label} (personalised)",
                                     "kind": info.kind})
        return found

    def _checkpoint(self, name: str, *, kinds: tuple[str, ...]) -> str:
        """The folder or shipped name of a listed model; the client never names a path."""
        from gensuite.checkpoints import list_shipped

        if name.startswith(PERSONAL_PREFIX):
            path = self._path("models", check_id(name, what="checkpoint"))
            if os.path.isdir(path):
                return path
        elif any(info.name == name and info.kind in kinds for info in list_shipped()):
            return name
        raise ParameterError(f"checkpoint: no {' or '.join(kinds)} model named {name!r}")

    def _vae(self, name: str):
        from gensuite.music_vae.melody_models import read_checkpoint

        return read_checkpoint(self._checkpoint(name, kinds=VAE_KINDS))

    def _use_vae(self, info):
        from gensuite.music_vae.melody_models import load_model

        return self.models.use(("vae", info.path), lambda: load_model(info))

    # ----- clips --------------------------------------------------------

    def add_clip(self, data: bytes, *, name: str, source: str = "upload") -> dict:
        """Keep an uploaded MIDI file as a clip; returns :meth:`clip`.

        Raises
        ------
        UploadError
            Over ``MAX_MIDI_BYTES`` or not MIDI.
        InvalidMidiError
            MIDI that cannot be used (corrupt, no notes).
        """
        from gensuite.midi.io import midi_bytes_to_sequence

        name = os.path.basename(name.replace("\\", "/")) or "upload.mid"
        uploads.check_midi_bytes(data, name=name)
        midi_bytes_to_sequence(data, path=name)
        return self._save_clip(uuid.uuid4().hex[:12], data, name=name, source=source)

    def _save_clip(self, clip_id: str, data: bytes, *, name: str, source: str) -> dict:
        write_bytes_atomic(self._path("clips", f"{clip_id}.mid"), data)
        write_text_atomic(self._path("clips", f"{clip_id}.json"),
                          json.dumps({"id": clip_id, "name": name, "source": source}) + "\n")
        return self.clip(clip_id)

    def clip(self, clip_id: str) -> dict:
        """A clip: its name, MIDI URL, piano roll and the melody a model would take."""
        from gensuite.midi.io import read_midi
        from gensuite.music_vae.interpolation import select_track

        meta_path = self._path("clips", f"{check_id(clip_id, what='clip')}.json")
        if not os.path.isfile(meta_path):
            raise NotFoundError(f"clip: no such id {clip_id!r}")
        with open(meta_path) as f:
            meta = json.load(f)
        midi = self._path("clips", f"{clip_id}.mid")
        sequence = read_midi(midi)
        try:
            _, melody = select_track(sequence, name=meta["name"])
        except GensuiteError as exc:
            melody = str(exc)
        return dict(meta, midi=self.url(midi), melody=melody, roll=roll(sequence))

    def _clip_song(self, clip_id: str):
        from gensuite.midi.io import read_midi

        info = self.clip(clip_id)
        return read_midi(self._path("clips", f"{clip_id}.mid")), info["name"]

    def list_examples(self) -> list[dict]:
        """The corpus examples: ``id``, ``collection`` and ``piece``."""
        return [{k: e[k] for k in ("id", "collection", "piece")} for e in self._corpus()]

    def _corpus(self) -> list[dict]:
        from gensuite.midi import corpus

        with self._corpus_lock:
            if self._examples is None:
                self._examples = [
                    {"id": f"{name}-{i}", "collection": name, "piece": piece.name,
                     "source": piece}
                    for name, count in EXAMPLES
                    for i, piece in enumerate(corpus.list_pieces(name)[:count])]
            return self._examples

    def example_clip(self, example_id: str) -> dict:
        """The clip of a corpus example, exported to MIDI on first use."""
        from gensuite.midi import corpus

        chosen = [e for e in self._corpus() if e["id"] == example_id]
        if not chosen:
            raise NotFoundError(f"example: no such id {example_id!r}")
        example = chosen[0]
        clip_id = f"ex-{example_id}"
        midi = self._path("corpus", example["collection"], f"{example['piece']}.mid")
        with self._corpus_lock:  # two tabs asking at once export once
            if not os.path.isfile(midi):
                # export_collection's per-piece timeout needs the main thread; these
                # few pieces are known to convert in about a second.
                converted = corpus.convert_piece(
                    example["source"],
                    default_program=corpus.get_collection(example["collection"]).default_program)
                write_bytes_atomic(midi, converted.data)
            if not os.path.isfile(self._path("clips", f"{clip_id}.json")):
                with open(midi, "rb") as f:
                    self._save_clip(clip_id, f.read(), name=f"{example['piece']}.mid",
                                    source=f"corpus: {example['collection']}")
        return self.clip(clip_id)

    def clip_from_result(self, result_id: str, item: int) -> dict:
        """Keep one item of a result as a clip (to interpolate or continue it)."""
        target = self._target(result=result_id, item=item)
        with open(target.path, "rb") as f:
            data = f.read()
        return self._save_clip(f"r{result_id}-{item}", data,
                               name=f"{target.label}.mid", source=f"result {result_id}")

    # ----- results ------------------------------------------------------

    def result(self, result_id: str) -> dict:
        """A finished result (``result.json``)."""
        path = self._path("results", check_id(result_id, what="result"), "result.json")
        if not os.path.isfile(path):
            raise NotFoundError(f"result: no such id {result_id!r}")
        with open(path) as f:
            return json.load(f)

    def _new_result_dir(self) -> tuple[str, str]:
        result_id = uuid.uuid4().hex[:12]
        folder = self._path("results", result_id)
        os.makedirs(folder)
        return result_id, folder

    def _finish_result(self, result_id: str, folder: str, *, kind: str, title: str,
                       items: list[tuple[str, str, object]], inputs=(), files=(),
                       figures=None) -> dict:
        """Write ``result.json`` last: the result exists from then on.

        ``items`` are (label, MIDI path, NoteSequence); ``inputs`` (label,
        caption, NoteSequence); ``files`` more downloads (label, path).
        """
        result = {
            "id": result_id, "kind": kind, "title": title,
            "items": [{"index": i, "label": label, "midi": self.url(path), "roll": roll(seq)}
                      for i, (label, path, seq) in enumerate(items)],
            "inputs": [{"label": label, "caption": caption, "roll": roll(seq)}
                       for label, caption, seq in inputs],
            "files": [{"label": label, "url": self.url(path)} for label, path in files],
            "figures": figures or {}}
        write_text_atomic(os.path.join(folder, "result.json"), json.dumps(result) + "\n")
        return result

    def _target(self, *, result: str | None = None, item: int | None = None,
                clip: str | None = None) -> Target:
        if clip is not None:
            info = self.clip(clip)
            return Target(self._path("clips", f"{clip}.mid"),
                          self._path("clips", f"{clip}"), info["name"])
        if result is None or item is None:
            raise ParameterError("render: give a clip, or a result and one of its items")
        items = self.result(result)["items"]
        if not 0 <= item < len(items):
            raise NotFoundError(f"item: result {result} has items 0-{len(items) - 1}, got {item}")
        path = self._path(*items[item]["midi"][len(FILES_URL) + 1:].split("/"))
        return Target(path, os.path.splitext(path)[0], items[item]["label"])

    def sample(self, *, checkpoint: str, count: int, temperature: float, seed: int) -> dict:
        """Melodies drawn from a VAE's prior, as ``gensuite vae sample`` writes them."""
        from gensuite.common.batching import batch_seed
        from gensuite.midi.io import write_midi

        info, spec = self._vae(checkpoint)
        with self._use_vae(info) as model:
            # One batch: the files `vae sample --seed S` writes first.
            sequences = model.sample(count, temperature=temperature, seed=batch_seed(seed, 0))
        result_id, folder = self._new_result_dir()
        items = []
        for i, sequence in enumerate(sequences):
            path = os.path.join(folder, f"sample_{i:03d}.mid")
            write_midi(sequence, path)
            items.append((f"sample {i}", path, sequence))
        return self._finish_result(
            result_id, folder, kind="sample", items=items,
            title=f"{checkpoint}: {count} samples of {spec.window_bars} bars, temperature "
                  f"{temperature:g}, seed {seed}")

    def interpolate(self, *, checkpoint: str, a: str, b: str, mode: str = "steps",
                    steps: int = 5, temperature: float = 0.5, seed: int = 0,
                    bars: int | None = None, track: str | None = None) -> dict:
        """``gensuite vae interpolate`` between two clips: ``steps`` windows or whole ``song``s."""
        from gensuite.music_vae import interpolation
        from gensuite.music_vae.melody_models import (
            describe_song_line,
            pick_window,
            song_lines,
            song_morph_spec,
        )

        if mode not in ("song", "steps"):
            raise ParameterError(f"mode: must be song or steps, got {mode!r}")
        info, spec = self._vae(checkpoint)
        (song_a, name_a), (song_b, name_b) = self._clip_song(a), self._clip_song(b)
        if mode == "song":
            spec = song_morph_spec(info, spec)
            lines, n_segments = song_lines(spec, [song_a, song_b], names=(name_a, name_b),
                                           track=track, bars=bars, option="bars")
            with self._use_vae(info) as model:
                result = interpolation.interpolate_songs(
                    getattr(model, "bottom", model), spec.converter, *lines,
                    n_segments=n_segments, temperature=temperature, seed=seed)
            result_id, folder = self._new_result_dir()
            n_bars = n_segments * spec.window_bars
            interpolation.write_song_interpolation(
                result, folder, labels=(name_a, name_b),
                title=f"{spec.name}: {n_bars} bars, temperature {temperature:g}")
            captions = [f"{name}: " + describe_song_line(line, n_segments=n_segments,
                                                         window_bars=spec.window_bars)
                        for name, line in ((name_a, lines[0]), (name_b, lines[1]))]
            return self._finish_result(
                result_id, folder, kind="interpolate", title=f"{checkpoint}: {name_a} turning "
                f"into {name_b} over {n_bars} bars, temperature {temperature:g}",
                items=[("A -> B", os.path.join(folder, "interpolate_song.mid"), result.song)],
                inputs=[("A", captions[0], result.inputs[0]), ("B", captions[1], result.inputs[1])],
                files=[("piano roll (PNG)", os.path.join(folder, "interpolate.png"))],
                figures={"opening_accuracy": round(result.opening_accuracy, 4),
                         "ending_accuracy": round(result.ending_accuracy, 4)})
        if not 2 <= steps <= 64:
            raise ParameterError(f"steps: must be in [2, 64], got {steps}")
        chosen = [pick_window(spec, song, name=name, track=track, option="start bar")
                  for song, name in ((song_a, name_a), (song_b, name_b))]
        with self._use_vae(info) as model:
            result = interpolation.interpolate_windows(
                model, spec.converter, chosen[0][0], chosen[1][0], num_steps=steps,
                temperature=temperature, seed=seed)
        result_id, folder = self._new_result_dir()
        names = interpolation.write_interpolation(
            result, folder,
            labels=(f"{name_a} {chosen[0][0].bars}", f"{name_b} {chosen[1][0].bars}"),
            title=f"{spec.name}: {steps} steps, temperature {temperature:g}")
        items = [(f"step {i}" + (" (A)" if i == 0 else " (B)" if i == steps - 1 else ""),
                  os.path.join(folder, names[i]), sequence)
                 for i, sequence in enumerate(result.steps)]
        return self._finish_result(
            result_id, folder, kind="interpolate", items=items,
            title=f"{checkpoint}: {name_a} to {name_b} in {steps} steps, temperature "
                  f"{temperature:g}",
            inputs=[("A", f"{name_a}: {chosen[0][1]}", result.inputs[0]),
                    ("B", f"{name_b}: {chosen[1][1]}", result.inputs[1])],
            files=[("all steps (MIDI)", os.path.join(folder, "interpolate_all.mid")),
                   ("piano roll (PNG)", os.path.join(folder, "interpolate.png"))],
            figures={"endpoint_accuracy": [round(v, 4) for v in result.endpoint_accuracy]})

    def continue_clip(self, *, clip: str, checkpoint: str = "attention_rnn",
                      primer_steps: int | None = 32, length_steps: int = 128,
                      temperature: float = 1.0, count: int = 2, seed: int = 0) -> dict:
        """``gensuite rnn generate --primer-midi``: continue a clip's first melody."""
        from gensuite.common.batching import batch_seed
        from gensuite.melody_rnn.data import extract_primer
        from gensuite.melody_rnn.model import MelodyRNN
        from gensuite.midi.io import write_midi
        from gensuite.midi.sequences import melody_events_to_sequence

        path = self._checkpoint(checkpoint, kinds=(RNN_KIND,))
        song, name = self._clip_song(clip)
        with self.models.use(("rnn", path), lambda: MelodyRNN.load(path)) as model:
            steps_per_quarter = model.config.steps_per_quarter
            primer, start_step = extract_primer(song, steps_per_quarter=steps_per_quarter,
                                                path=name)
            primer = primer[:primer_steps] if primer_steps else primer
            if length_steps <= len(primer):
                raise ParameterError(
                    f"length_steps: must be greater than the primer's length ({len(primer)} "
                    f"steps) because it counts the primer too, got {length_steps}")
            generated = model.generate(primer, num_steps=length_steps, temperature=temperature,
                                       num_outputs=count, seed=batch_seed(seed, 0))
        qpm = song.tempos[0].qpm if song.tempos else 120.0
        result_id, folder = self._new_result_dir()
        items = []
        for i, events in enumerate(generated.events):
            sequence = melody_events_to_sequence(events, qpm=qpm,
                                                 steps_per_quarter=steps_per_quarter,
                                                 start_step=start_step)
            path = os.path.join(folder, f"generate_{i:03d}.mid")
            write_midi(sequence, path)
            items.append((f"continuation {i}", path, sequence))
        bar = start_step // (4 * steps_per_quarter) + 1
        primer_sequence = melody_events_to_sequence(primer, qpm=qpm,
                                                    steps_per_quarter=steps_per_quarter,
                                                    start_step=start_step)
        return self._finish_result(
            result_id, folder, kind="continue", items=items,
            title=f"{checkpoint}: {name} continued to {length_steps} steps, temperature "
                  f"{temperature:g}, seed {seed}",
            inputs=[("primer", f"{name}: its first melody, {len(primer)} steps from bar {bar}",
                     primer_sequence)],
            figures={"log_likelihood": [round(float(v), 2) for v in generated.log_likelihood]})

    # ----- jobs ---------------------------------------------------------

    def start_render(self, *, result: str | None = None, item: int | None = None,
                     clip: str | None = None, synth: str = "soundfont", seed: int = 0,
                     timbres: dict[int, int] | None = None) -> Job:
        """Render a result's item (or a clip) to WAV in the background, like ``gensuite render``."""
        from gensuite.render import DEFAULT_CHECKPOINT, SYNTHS

        if synth not in SYNTHS:
            raise ParameterError(f"synth: must be one of {', '.join(SYNTHS)}, got {synth!r}")
        target = self._target(result=result, item=item, clip=clip)
        timbres = {int(k): int(v) for k, v in (timbres or {}).items()}
        pinned = "".join(f"_t{k}-{v}" for k, v in sorted(timbres.items()))
        suffix = f"_{synth}" + (f"_seed{seed}{pinned}" if synth == "gansynth" else "")
        wav = f"{target.stem}{suffix}.wav"

        def work(job: Job) -> dict:
            from gensuite.audio.io import write_wav
            from gensuite.render import render_sequence_audio

            done = {"wav": self.url(wav), "midi": self.url(target.path), "label": target.label,
                    "synth": synth}
            if os.path.isfile(wav):  # the same render again: the file is complete
                return done
            job.report(progress=0.0, message=f"rendering {target.label} ({synth})")
            if synth == "soundfont":
                wave, rate, report = render_sequence_audio(target.path, synth=synth)
            else:
                with self.models.use(("gansynth", DEFAULT_CHECKPOINT), _gansynth) as m:
                    job.report(message=f"rendering {target.label} (GANSynth)")
                    wave, rate, report = render_sequence_audio(
                        target.path, synth=synth, model=m, seed=seed, timbres=timbres,
                        on_progress=lambda d, t: job.report(progress=0.95 * d / t,
                                                            message=f"{d}/{t} notes"))
            job.report(progress=0.97, message="writing the WAV")
            write_wav(wav, wave, sample_rate=rate)
            return dict(done, seconds=round(report.duration_s, 2), warnings=report.warnings)

        return self.jobs.submit(work, kind="render")

    def start_personalize(self, data: bytes, *, name: str, checkpoint: str = "mel_2bar",
                          num_steps: int | None = None, latent_size: int | None = None,
                          seed: int = 0) -> Job:
        """Personalise a 2-bar VAE on a zip of MIDI files in the background (MidiMe).

        The zip is checked and unpacked before this returns (its errors are the
        caller's); the model appears in :meth:`list_models` once complete.
        """
        from gensuite.music_vae.melody_models import KIND, personalize

        name = os.path.basename(name.replace("\\", "/")) or "upload.zip"
        uploads.check_size(len(data), limit=uploads.MAX_ZIP_BYTES, what=name)
        info, spec = self._vae(checkpoint)
        if info.kind != KIND:
            raise ParameterError(f"checkpoint: personalise takes a 2-bar MusicVAE; "
                                 f"{checkpoint} is a {info.kind}")
        upload_id = uuid.uuid4().hex[:12]
        folder = self._path("uploads", upload_id)
        zip_path = folder + ".zip"
        try:
            write_bytes_atomic(zip_path, data)
            uploads.extract_midi_zip(zip_path, os.path.join(folder, "midi"), name=name)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.remove(zip_path)
        model_id = f"{PERSONAL_PREFIX}{upload_id}"
        label = os.path.splitext(name)[0]
        phases = {"read": (0.05, "reading the MIDI files"), "encode": (0.3, "encoding windows"),
                  "train": (0.4, "training the personaliser"), "save": (0.95, "saving")}

        def work(job: Job) -> dict:
            partial = self._path("models", f"{model_id}.partial")
            try:
                with self._use_vae(info) as model:
                    figures = personalize(
                        info, spec, midi_dir=os.path.join(folder, "midi"), out=partial,
                        model=model, num_steps=num_steps, latent_size=latent_size, seed=seed,
                        workers=1, progress=False,
                        on_phase=lambda p: job.report(progress=phases[p][0],
                                                      message=phases[p][1]))
                _label_model(partial, label)
                job.report(progress=0.99, message="saving")
                # The folder appears whole: models/ never shows a half-saved model.
                os.replace(partial, self._path("models", model_id))
            finally:
                shutil.rmtree(partial, ignore_errors=True)
                shutil.rmtree(folder, ignore_errors=True)
            return {"checkpoint": model_id, "label": f"{label} (personalised)",
                    "figures": {k: v for k, v in figures.items() if k != "out"}}

        return self.jobs.submit(work, kind="personalize")


def _gansynth():
    from gensuite.gansynth.model import GANSynth
    from gensuite.render import DEFAULT_CHECKPOINT

    return GANSynth.load(DEFAULT_CHECKPOINT)


def _label_model(folder: str, label: str) -> None:
    """Name a personalised model in its meta.json as the page lists it."""
    from gensuite.checkpoints import META_FILE

    path = os.path.join(folder, META_FILE)
    with open(path) as f:
        meta = json.load(f)
    meta["studio_label"] = label
    write_text_atomic(path, json.dumps(meta, indent=2) + "\n")
