"""``data ingest`` on Apache Beam: the same NoteSequences and report as the local pool."""

from __future__ import annotations

import json
import os

import pytest

from gensuite.cli import main as cli_main
from gensuite.common import beam
from gensuite.common.errors import InputFileError, ParameterError, PipelineError
from gensuite.common.tfrecord import expand_shards
from gensuite.midi import io as midi_io
from tests.midi.test_io import make_folder

needs_beam = pytest.mark.skipif(not beam.beam_installed(),
                                reason='Apache Beam is not installed (pip install -e ".[beam]")')


def records(path) -> list[bytes]:
    """The file's (or its shards') NoteSequences, serialized and sorted: order-free equality."""
    return sorted(s.SerializeToString() for s in midi_io.read_tfrecord(path))


def comparable(report: midi_io.IngestReport) -> dict:
    facts = json.loads(report.to_json())
    del facts["seconds"], facts["output"]
    return facts


@pytest.fixture(scope="module")
def folk(tmp_path_factory):
    """Ten scales and three bad files (empty, text, truncated), and the local pool's result."""
    root = tmp_path_factory.mktemp("ingest")
    folder = make_folder(root / "folk", n_good=10)
    out = root / "local.tfrecord"
    return folder, out, midi_io.ingest_midi_dir(folder, out, num_workers=1)


@needs_beam
@pytest.mark.parametrize("num_workers", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_direct_runner_writes_the_pools_records_and_report(folk, tmp_path, num_workers):
    # 1 worker runs Beam in this process; 2 starts Beam's worker processes.
    folder, local_out, local = folk
    out, report_path = tmp_path / "beam.tfrecord", tmp_path / "report.json"
    report = midi_io.ingest_midi_dir(folder, out, report_path=report_path, runner="DirectRunner",
                                     num_workers=num_workers)
    assert comparable(report) == comparable(local)
    assert (report.n_read, report.n_skipped, report.n_notes) == (10, 3, 80)
    assert records(out) == records(local_out)
    assert json.loads(report_path.read_text())["skipped"] == local.skipped
    assert sorted(os.listdir(tmp_path)) == ["beam.tfrecord", "report.json"]  # no temp left


@needs_beam
def test_shards_hold_the_same_records_and_readers_take_the_prefix(folk, tmp_path):
    folder, local_out, _ = folk
    prefix = tmp_path / "notes.tfrecord"
    midi_io.ingest_midi_dir(folder, prefix, runner="DirectRunner", num_workers=1, num_shards=3)
    shards = expand_shards(prefix)
    assert [os.path.basename(s) for s in shards] == [
        f"notes.tfrecord-0000{i}-of-00003" for i in range(3)]
    assert records(prefix) == records(local_out)

    os.remove(shards[1])
    with pytest.raises(InputFileError, match=r"notes.tfrecord: has 2 of its 3 shards"):
        records(prefix)


@needs_beam
def test_a_folder_nothing_can_be_read_from_keeps_the_old_output(tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "empty.mid").write_bytes(b"")
    out = tmp_path / "notes.tfrecord"
    out.write_bytes(b"old")
    with pytest.raises(InputFileError, match="none of its 1 MIDI files could be read"):
        midi_io.ingest_midi_dir(folder, out, runner="DirectRunner", num_workers=1)
    assert out.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["bad", "notes.tfrecord"]


def test_local_pool_refuses_shards(folk, tmp_path):
    with pytest.raises(ParameterError, match="--num-shards: the local pool writes one file"):
        midi_io.ingest_midi_dir(folk[0], tmp_path / "n.tfrecord", num_shards=2)


# --- command line ---------------------------------------------------------------

@pytest.fixture
def run_cli(monkeypatch):
    monkeypatch.setattr(cli_main, "COMMAND_MODULES", ("data",))
    return cli_main.main


@needs_beam
def test_runner_is_direct_where_beam_is_installed(run_cli, folk, tmp_path, capsys):
    out = tmp_path / "n.tfrecord"
    assert run_cli(["data", "ingest", str(folk[0]), "--out", str(out), "--workers", "1",
                    "--num-shards", "2"]) == 0
    assert capsys.readouterr().out.startswith("read 10 of 13 files (3 skipped)")
    assert len(expand_shards(out)) == 2  # only Beam writes shards


@pytest.mark.parametrize("argv, message", [
    (["--runner", "Spark"], "--runner: must be local or a Beam runner (DirectRunner, "),
    (["--runner", "local", "--num-shards", "3"],
     "--num-shards: the local pool writes one file; shards need a Beam runner, got 3"),
    (["--pipeline-options=--project='x"], "--pipeline-options: No closing quotation"),
    pytest.param(["--pipeline-options=--direct_num_workers=abc"],
                 "--pipeline-options: argument --direct_num_workers: invalid int value: 'abc'",
                 marks=needs_beam),
    pytest.param(["--pipeline-options=--direct_num_wrkers=2"],
                 "--pipeline-options: Beam has no option --direct_num_wrkers", marks=needs_beam),
])
def test_bad_runner_options_are_one_line_errors(run_cli, folk, tmp_path, capsys, argv, message):
    assert run_cli(["data", "ingest", str(folk[0]), "--out", str(tmp_path / "n"), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "n").exists()


def test_without_beam_the_pool_is_the_default_and_beam_runners_say_what_to_install(
        run_cli, folk, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(beam, "beam_installed", lambda: False)
    assert beam.default_runner() == "local"
    assert run_cli(["data", "ingest", str(folk[0]), "--out", str(tmp_path / "n"),
                    "--runner", "FlinkRunner"]) == 2
    assert capsys.readouterr().err.strip().endswith(
        '--runner FlinkRunner: install Apache Beam with pip install -e ".[beam]", '
        "or use --runner local")


def explode(item):
    raise ValueError(f"cannot convert {item}")


@needs_beam
def test_a_failing_pipeline_is_one_error_naming_the_runner(tmp_path):
    with pytest.raises(PipelineError) as caught:
        beam.run_records_pipeline(explode, ["a.mid"], out_path=str(tmp_path / "n.tfrecord"),
                                  runner="DirectRunner", num_workers=1)
    message = str(caught.value)
    assert message.startswith("--runner DirectRunner: the pipeline failed: ")
    assert "cannot convert a.mid" in message and "\n" not in message
