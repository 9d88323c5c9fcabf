"""Type-confused model folders: one line on stderr naming the file and the rule, exit 2.

Each case copies a shipped checkpoint, changes one value of its ``meta.json``
or ``config.json`` and runs a command on the copy. Every check runs before a
network is built (but one, which needs the config to judge a growth stage),
so the table is fast. The unit tests below pin the field rules themselves and
that every preset and shipped checkpoint still passes them.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil

import note_seq
import numpy as np
import pytest
import soundfile

from gensuite.checkpoints import BOTTOM_DIR, list_shipped, read_model_config, shipped_dir
from gensuite.common.config import check_fields
from gensuite.common.errors import ParameterError
from gensuite.midi.io import write_midi
from tests.cli_run import assert_one_line_error, run

DELETE = object()  # as a case's value: remove the key

SAMPLE = ["vae", "sample", "--checkpoint", "COPY", "--out", "new"]
GENERATE = ["rnn", "generate", "--checkpoint", "COPY", "--out", "new"]
GANSYNTH = ["gansynth", "generate", "--checkpoint", "COPY", "--out", "new", "--pitches", "60"]
RENDER = ["render", "F.mid", "--out", "new", "--checkpoint", "COPY"]
CLASSIFY = ["analyze", "classify", "X.wav", "--checkpoint", "COPY"]


def case(model, argv, file, key, value, message, id):
    """One row: in a copy of ``model``, set ``key`` (dotted; "" is the whole
    document) of ``file`` to ``value``, run ``argv``, expect ``message``."""
    return pytest.param(model, argv, file, key, value, message, id=id)


CASES = [
    # meta.json that is no object, or whose structured keys are not objects.
    case("mel_2bar", SAMPLE, "meta.json", "", [1, 2],
         "COPY/meta.json: must be a JSON object, got a list", "meta-list"),
    case("mel_2bar", SAMPLE, "meta.json", "", "music_vae",
         "COPY/meta.json: must be a JSON object, got a string", "meta-string"),
    case("attention_rnn", GENERATE, "meta.json", "", 5,
         "COPY/meta.json: must be a JSON object, got a number", "meta-number"),
    case("mel_2bar", SAMPLE, "meta.json", "kind", 5,
         "COPY/meta.json: kind must be a string, got 5", "meta-kind-number"),
    case("mel_2bar", SAMPLE, "meta.json", "config", [],
         "COPY/meta.json: config must be a JSON object, got a list", "meta-config-list"),
    case("mel_2bar", SAMPLE, "meta.json", "figures", "good",
         "COPY/meta.json: figures must be a JSON object, got a string", "meta-figures-string"),
    # config.json fields of the wrong type or out of range (MusicVAE).
    case("mel_2bar", SAMPLE, "config.json", "", ["z_size", 128],
         "COPY/config.json: must be a JSON object, got a list", "config-list"),
    case("mel_2bar", SAMPLE, "config.json", "z_size", 1.5,
         "COPY/config.json: z_size must be an integer, got 1.5", "z_size-float"),
    case("mel_2bar", SAMPLE, "config.json", "z_size", "128",
         'COPY/config.json: z_size must be an integer, got "128"', "z_size-string"),
    case("mel_2bar", SAMPLE, "config.json", "batch_size", True,
         "COPY/config.json: batch_size must be an integer, got true", "batch_size-bool"),
    case("mel_2bar", SAMPLE, "config.json", "n_steps", 1e9,
         "COPY/config.json: n_steps must be an integer, got 1000000000.0", "n_steps-1e9"),
    case("mel_2bar", SAMPLE, "config.json", "n_steps", 10**9,
         "COPY/config.json: n_steps must be in [1, 4096], got 1000000000", "n_steps-huge"),
    case("mel_2bar", SAMPLE, "config.json", "z_size", 0,
         "COPY/config.json: z_size must be in [1, 8192], got 0", "z_size-zero"),
    case("mel_2bar", SAMPLE, "config.json", "encoder_sizes", "256",
         'COPY/config.json: encoder_sizes must be a list of integers, got "256"',
         "encoder_sizes-string"),
    case("mel_2bar", SAMPLE, "config.json", "decoder_sizes", [256, 10**7],
         "COPY/config.json: decoder_sizes must be a list of values in [1, 8192], "
         "got [256, 10000000]", "decoder_sizes-huge"),
    case("mel_2bar", SAMPLE, "config.json", "converter", ["mel_2bar"],
         'COPY/config.json: converter must be a string, got ["mel_2bar"]', "converter-list"),
    case("mel_2bar", SAMPLE, "config.json", "hierarchical_encoder", 0,
         "COPY/config.json: hierarchical_encoder must be true or false, got 0",
         "hierarchical_encoder-int"),
    case("mel_2bar", SAMPLE, "config.json", "learning_rate", float("nan"),
         "COPY/config.json: learning_rate must be a finite number, got NaN",
         "learning_rate-nan"),
    case("mel_2bar", SAMPLE, "config.json", "bogus", 1,
         "COPY/config.json: unknown keys: bogus", "config-unknown-key"),
    case("mel_2bar", SAMPLE, "config.json", "z_size", DELETE,
         "COPY/config.json: missing keys: z_size", "config-missing-key"),
    # meta.json's copy of the config: checked like config.json, and must agree with it.
    case("mel_2bar", SAMPLE, "meta.json", "config.z_size", 1.5,
         "COPY/meta.json: config: z_size must be an integer, got 1.5", "meta-z_size-float"),
    case("mel_2bar", SAMPLE, "meta.json", "config.n_steps", 1e9,
         "COPY/meta.json: config: n_steps must be an integer, got 1000000000.0",
         "meta-n_steps-1e9"),
    case("mel_2bar", SAMPLE, "meta.json", "config.z_size", 256,
         "COPY: meta.json's config disagrees with config.json on z_size (256 vs 128)",
         "meta-config-disagrees"),
    case("mel_2bar", SAMPLE, "meta.json", "config.encoder_sizes", [128],
         "COPY: meta.json's config disagrees with config.json on encoder_sizes ([128] vs [256])",
         "meta-encoder_sizes-disagree"),
    # meta.json's converter options.
    case("mel_2bar", SAMPLE, "meta.json", "converter_options.track_names", 5,
         "COPY/meta.json: converter_options: track_names must be a list of strings, got 5",
         "track_names-number"),
    case("mel_2bar", SAMPLE, "meta.json", "converter_options.track_names", [["soprano"]],
         'COPY/meta.json: converter_options: track_names must be a list of strings, '
         'got [["soprano"]]', "track_names-nested"),
    case("mel_2bar", SAMPLE, "meta.json", "converter_options.any_meter", "yes",
         'COPY/meta.json: converter_options: any_meter must be true or false, got "yes"',
         "any_meter-string"),
    case("mel_2bar", SAMPLE, "meta.json", "converter_options", ["any_meter"],
         "COPY/meta.json: converter_options must be a JSON object, got a list",
         "converter_options-list"),
    case("mel_2bar", SAMPLE, "meta.json", "converter_options.every_track", True,
         "COPY/meta.json: converter_options: unknown keys: every_track",
         "converter_options-unknown"),
    # A latent hierarchy's bottom model is checked like any model folder.
    case("mel_16bar", SAMPLE, "bottom/config.json", "z_size", "128",
         'COPY/bottom/config.json: z_size must be an integer, got "128"', "bottom-z_size"),
    case("mel_16bar", SAMPLE, "config.json", "n_chunks", 8.0,
         "COPY/config.json: n_chunks must be an integer, got 8.0", "top-n_chunks-float"),
    # MelodyRNN.
    case("attention_rnn", GENERATE, "config.json", "rnn_layer_sizes", [128, "128"],
         'COPY/config.json: rnn_layer_sizes must be a list of integers, got [128, "128"]',
         "rnn_layer_sizes-string"),
    case("attention_rnn", GENERATE, "config.json", "attn_length", 100000,
         "COPY/config.json: attn_length must be in [0, 4096], got 100000", "attn_length-huge"),
    case("attention_rnn", GENERATE, "config.json", "transpose_to_key", "C",
         'COPY/config.json: transpose_to_key must be an integer or null, got "C"',
         "transpose_to_key-string"),
    case("attention_rnn", GENERATE, "meta.json", "config.attn_length", 39,
         "COPY: meta.json's config disagrees with config.json on attn_length (39 vs 40)",
         "rnn-meta-config-disagrees"),
    # GANSynth, and its growth stage in meta.json.
    case("gansynth_gm", GANSYNTH, "config.json", "latent_size", "256",
         'COPY/config.json: latent_size must be an integer, got "256"', "latent_size-string"),
    case("gansynth_gm", GANSYNTH, "config.json", "start_shape", [2, 4, 8],
         "COPY/config.json: start_shape must be a list of 2 integers, got [2, 4, 8]",
         "start_shape-three"),
    case("gansynth_gm", GANSYNTH, "config.json", "max_output_hz", "high",
         'COPY/config.json: max_output_hz must be a finite number or null, got "high"',
         "max_output_hz-string"),
    case("gansynth_gm", GANSYNTH, "meta.json", "growth", "abc",
         "COPY/meta.json: growth must be a JSON object, got a string", "growth-string"),
    case("gansynth_gm", GANSYNTH, "meta.json", "growth", {"n_blocks": 2.5, "alpha": 0.5},
         "COPY/meta.json: growth: n_blocks must be an integer or null, got 2.5",
         "growth-n_blocks-float"),
    case("gansynth_gm", GANSYNTH, "meta.json", "growth", {"n_blocks": 3, "alpha": "half"},
         'COPY/meta.json: growth: alpha must be a finite number or null, got "half"',
         "growth-alpha-string"),
    case("gansynth_gm", RENDER, "config.json", "pitch_comb", "yes",
         'COPY/config.json: pitch_comb must be true or false, got "yes"', "render-pitch_comb"),
    # Audio classifier.
    case("instrument_cnn", CLASSIFY, "config.json", "class_names", "piano",
         'COPY/config.json: class_names must be a list of strings, got "piano"',
         "class_names-string"),
    case("instrument_cnn", CLASSIFY, "config.json", "filters", [16, 32, 64, 10**6],
         "COPY/config.json: filters must be a list of values in [1, 8192], "
         "got [16, 32, 64, 1000000]", "filters-huge"),
    case("instrument_cnn", CLASSIFY, "config.json", "sample_rate", True,
         "COPY/config.json: sample_rate must be an integer, got true", "sample_rate-bool"),
    case("instrument_cnn", CLASSIFY, "meta.json", "config.n_mels", 95,
         "COPY: meta.json's config disagrees with config.json on n_mels (95 vs 96)",
         "cnn-meta-config-disagrees"),
]


def copy_checkpoint(name: str, dest) -> str:
    """A writable copy of shipped checkpoint ``name`` (its pictures left out)."""
    shutil.copytree(os.path.join(shipped_dir(), name), dest,
                    ignore=shutil.ignore_patterns("*.png", "card.md"))
    return str(dest)


def corrupt(folder: str, file: str, key: str, value) -> None:
    """Set the dotted ``key`` of the JSON ``folder/file`` to ``value`` ("" is the whole file)."""
    path = os.path.join(folder, file)
    if not key:
        document = value
    else:
        with open(path, encoding="utf-8") as f:
            document = json.load(f)
        *parents, last = key.split(".")
        target = document
        for parent in parents:
            target = target[parent]
        if value is DELETE:
            del target[last]
        else:
            target[last] = value
    with open(path, "w", encoding="utf-8") as f:
        json.dump(document, f)


@pytest.fixture
def inputs(tmp_path):
    """Placeholders of the table -> real paths: a one-note MIDI file, a short WAV."""
    sequence = note_seq.NoteSequence(ticks_per_quarter=220)
    sequence.tempos.add(time=0.0, qpm=120.0)
    sequence.notes.add(pitch=60, velocity=80, start_time=0.0, end_time=0.5)
    sequence.total_time = 0.5
    write_midi(sequence, tmp_path / "F.mid")
    soundfile.write(tmp_path / "X.wav", np.zeros(1600, dtype=np.float32), 16000)
    return {name: str(tmp_path / name) for name in ("F.mid", "X.wav", "new")}


@pytest.mark.parametrize("model, argv, file, key, value, message", CASES)
def test_bad_model_folder(capsys, tmp_path, inputs, model, argv, file, key, value, message):
    folder = copy_checkpoint(model, tmp_path / "model")
    corrupt(folder, file, key, value)
    paths = {**inputs, "COPY": folder}
    code, _, err = run(capsys, *[paths.get(a, a) for a in argv])
    assert_one_line_error(code, err, message.replace("COPY", folder))


def test_growth_past_the_configs_resolutions(capsys, tmp_path):
    """Well typed but impossible for the config: the folder is named, not a traceback."""
    folder = copy_checkpoint("gansynth_gm", tmp_path / "model")
    corrupt(folder, "meta.json", "growth", {"n_blocks": 9, "alpha": None})
    code, _, err = run(capsys, "gansynth", "generate", "--checkpoint", folder,
                       "--out", tmp_path / "new", "--pitches", "60")
    assert_one_line_error(code, err, f"{folder}: n_blocks: must be 1-7")


def test_every_shipped_checkpoint_passes_the_folder_checks():
    from gensuite.analysis.configs import ClassifierConfig
    from gensuite.gansynth.configs import GANSynthConfig
    from gensuite.melody_rnn.configs import MelodyRNNConfig
    from gensuite.music_vae.configs import MusicVAEConfig
    from gensuite.music_vae.latent_hierarchy import LatentHierarchyConfig

    config_types = {"music_vae": MusicVAEConfig, "melody_rnn": MelodyRNNConfig,
                    "audio_cnn": ClassifierConfig, "gansynth": GANSynthConfig,
                    "latent_hierarchy": LatentHierarchyConfig}
    infos = list_shipped()
    assert {info.kind for info in infos} == set(config_types)
    for info in infos:
        _, config = read_model_config(info.path, kind=info.kind,
                                      config_type=config_types[info.kind])
        assert config.to_dict() == type(config).from_dict(info.meta["config"]).to_dict()
        if info.kind == "latent_hierarchy":
            read_model_config(os.path.join(info.path, BOTTOM_DIR), kind="music_vae",
                              config_type=MusicVAEConfig)


def test_every_preset_passes_the_field_rules():
    """The ceilings of INT_RANGES sit above every value a preset uses."""
    from gensuite.analysis import configs as analysis_configs
    from gensuite.audio.spectral import SpectralConfig
    from gensuite.gansynth import configs as gansynth_configs
    from gensuite.melody_rnn import configs as rnn_configs
    from gensuite.music_vae import configs as vae_configs
    from gensuite.music_vae import latent_hierarchy
    from gensuite.music_vae.midime import MidiMeConfig

    presets = [*analysis_configs.PRESETS.values(), *gansynth_configs.PRESETS.values(),
               *rnn_configs.PRESETS.values(), *vae_configs.PRESETS.values(),
               *latent_hierarchy.PRESETS.values(), SpectralConfig(), MidiMeConfig()]
    for preset in presets:
        assert type(preset).from_json(preset.to_json()) == preset, preset.name


@dataclasses.dataclass(frozen=True)
class Example:
    count: int
    rate: float = 1.0
    label: str = "x"
    flag: bool = False
    sizes: tuple[int, ...] = ()
    pair: tuple[float, float] = (0.0, 1.0)
    limit: int | None = None
    z_size: int = 4  # a field name with a ceiling in INT_RANGES


def test_check_fields_converts_what_fits():
    fields = check_fields(Example, {"count": 3, "rate": 2, "sizes": [1, 2], "pair": [0, 5.5],
                                    "limit": None, "flag": True})
    assert fields == {"count": 3, "rate": 2.0, "sizes": (1, 2), "pair": (0.0, 5.5),
                      "limit": None, "flag": True}
    assert isinstance(fields["rate"], float)


@pytest.mark.parametrize("data, message", [
    ({"count": 1.0}, "count must be an integer, got 1.0"),
    ({"count": False}, "count must be an integer, got false"),
    ({"count": 2**40}, "count must be in [-2147483648, 2147483647], got 1099511627776"),
    ({"count": 1, "rate": True}, "rate must be a finite number, got true"),
    ({"count": 1, "rate": float("inf")}, "rate must be a finite number, got Infinity"),
    ({"count": 1, "rate": 10**400}, "rate must be a finite number, got 1000000000"),
    ({"count": 1, "label": 7}, "label must be a string, got 7"),
    ({"count": 1, "flag": 1}, "flag must be true or false, got 1"),
    ({"count": 1, "sizes": [1, None]}, "sizes must be a list of integers, got [1, null]"),
    ({"count": 1, "pair": [1.0]}, "pair must be a list of 2 finite numbers, got [1.0]"),
    ({"count": 1, "limit": "none"}, 'limit must be an integer or null, got "none"'),
    ({"count": 1, "z_size": 9000}, "z_size must be in [1, 8192], got 9000"),
    ({"count": "x" * 100}, 'count must be an integer, got "' + "x" * 59 + "..."),
    ({}, "missing keys: count"),
    ({"count": 1, "other": 2, "another": 3}, "unknown keys: another, other"),
    (None, "must be a JSON object, got null"),
    ([], "must be a JSON object, got a list"),
])
def test_check_fields_refuses(data, message):
    with pytest.raises(ParameterError) as info:
        check_fields(Example, data)
    assert message in str(info.value)


def test_converter_options_from_dict():
    from gensuite.music_vae.converters import ConverterOptions

    assert ConverterOptions.from_dict(None) == ConverterOptions()
    assert ConverterOptions.from_dict({"track_names": ["soprano"]}).track_names == ("soprano",)
    with pytest.raises(ParameterError, match="track_names must be a list of strings, got 5"):
        ConverterOptions.from_dict({"track_names": 5})
