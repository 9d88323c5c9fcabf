"""Per-item conversions as Apache Beam pipelines: records to TFRecord shards, reports aside.

The data builders (``data ingest``, ``data nsynth``, the examples of
``vae train``) convert items (MIDI files, notes) independently, so each is
one Beam pipeline::

    Create(items) -> Reshuffle -> FlatMap(convert) --records--> WriteToTFRecord
                                                    --reports--> a JSON-lines file

``convert(item)`` returns a :class:`Converted`: serialized records, reports
(why a file gave nothing, a note's check) and counts to add up. Counts travel
as Beam metrics, reports as a side output written beside the output, so the
driver learns both after the run however many machines did the work.

:func:`map_with_beam` is the same pipeline for builders whose results go
back to the calling process (a training run's examples): the records are the
encoded results, staged in a TFRecord and read back in the items' order.

Runner names are Beam's (``DirectRunner``, ``FlinkRunner``, ``SparkRunner``,
``DataflowRunner``, ``PortableRunner``, ...); ``local`` is gensuite's own
process pool (:func:`gensuite.common.parallel.map_in_processes`), the default
where Beam is not installed. Beam is optional (``pip install -e ".[beam]"``)
and imported only here, only when a Beam runner is asked for.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib.util
import io
import json
import logging
import os
import shlex
import shutil
import struct
import tempfile
import uuid
from collections.abc import Callable, Sequence

from gensuite.common.errors import ParameterError, PipelineError
from gensuite.common.quiet import stderr_silenced

LOCAL = "local"
BEAM_RUNNERS = ("DirectRunner", "FlinkRunner", "SparkRunner", "DataflowRunner",
                "PortableRunner", "PrismRunner")
INSTALL_HINT = 'install Apache Beam with pip install -e ".[beam]"'
_METRICS_NAMESPACE = "gensuite"


@dataclasses.dataclass(frozen=True)
class Converted:
    """What a conversion made of one item.

    Attributes
    ----------
    records : tuple of bytes
        Serialized records for the output (none if the item gave none).
    reports : tuple of dict
        JSON-able facts the driver collects, e.g. why a file was skipped
        (``{"file": ..., "reason": ...}``) or every rendered note's check.
    counts : dict of str to int
        Added up over all items (e.g. notes read).
    """

    records: tuple[bytes, ...] = ()
    reports: tuple[dict, ...] = ()
    counts: dict[str, int] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class PipelineOutcome:
    """The totals of a pipeline run: records written, summed counts, every report."""

    n_records: int
    counts: dict[str, int]
    reports: list[dict]


def beam_installed() -> bool:
    return importlib.util.find_spec("apache_beam") is not None


def default_runner() -> str:
    """``DirectRunner`` where Beam is installed, else ``local``."""
    return "DirectRunner" if beam_installed() else LOCAL


def check_runner(runner: str) -> str:
    """``runner``, or ParameterError naming what to install or the known names."""
    if runner == LOCAL:
        return runner
    if runner not in BEAM_RUNNERS:
        raise ParameterError(f"--runner: must be {LOCAL} or a Beam runner "
                             f"({', '.join(BEAM_RUNNERS)}), got {runner!r}")
    if not beam_installed():
        raise ParameterError(f"--runner {runner}: {INSTALL_HINT}, or use --runner {LOCAL}")
    return runner


def split_pipeline_options(text: str | None) -> list[str]:
    """``"--project=p --region r"`` -> argv list, checked against Beam's options.

    Raises
    ------
    ParameterError
        The text does not split like a shell line, names an option Beam does
        not have (Beam would drop it silently), or gives one a bad value.
    """
    try:
        args = shlex.split(text or "")
    except ValueError as exc:
        raise ParameterError(f"--pipeline-options: {exc}, got {text!r}") from None
    if not args or not beam_installed():
        return args
    with stderr_silenced(), contextlib.redirect_stderr(io.StringIO()) as errors:
        previous = logging.root.manager.disable
        logging.disable(logging.WARNING)  # Beam logs the options it drops
        try:
            from apache_beam.options.pipeline_options import PipelineOptions  # noqa: PLC0415

            options = PipelineOptions(args)
            known = options.get_all_options()
            unknown = sorted(set(options.get_all_options(retain_unknown_options=True)) - set(known))
        except SystemExit:  # Beam's argparse refused a value
            reason = (errors.getvalue().strip().splitlines() or ["invalid"])[-1]
            raise ParameterError(
                f"--pipeline-options: {reason.split('error: ', 1)[-1]}") from None
        finally:
            logging.disable(previous)
    if unknown:
        raise ParameterError(f"--pipeline-options: Beam has no option --{unknown[0]}, "
                             f"got {text!r}")
    return args


def run_records_pipeline(convert: Callable[[object], Converted], items: Sequence, *,
                         out_path: str, runner: str, num_shards: int = 1,
                         shard_suffix: str = "", one_file_unnumbered: bool = True,
                         num_workers: int | None = None,
                         pipeline_args: Sequence[str] = ()) -> PipelineOutcome:
    """Run ``convert`` over ``items`` on a Beam runner; write the records to TFRecord.

    Parameters
    ----------
    convert : callable
        A picklable function (module level, or a ``functools.partial`` of
        one): item -> :class:`Converted`.
    items : sequence
        The work; each item must pickle.
    out_path : str
        The prefix of ``OUT-00000-of-0000N`` shards, or with one shard and
        ``one_file_unnumbered``, the file itself. Any path Beam's file
        systems take (local, ``gs://``, ``s3://``, ``hdfs://``).
    runner : str
        A Beam runner name (see :data:`BEAM_RUNNERS`).
    num_shards : int
        Output files; 0 lets the runner choose.
    shard_suffix : str
        Ending after the shard numbers (``.tfrecord`` for NSynth's names).
    one_file_unnumbered : bool
        Write a single shard as ``out_path`` itself (NSynth numbers even one).
    num_workers : int, optional
        DirectRunner only: worker processes (default every core); 1 runs in
        this process.
    pipeline_args : sequence of str
        Beam pipeline options passed through (``--project=...``,
        ``--flink_master=...``); they win over the DirectRunner defaults.

    Returns
    -------
    PipelineOutcome
        Reports sorted by their JSON text, so a run's report does not depend
        on which worker finished first.
    """
    # Beam's workers log their start-up to the inherited stderr; errors still
    # reach the caller as exceptions.
    with stderr_silenced():
        import apache_beam as beam  # noqa: PLC0415
        from apache_beam.io.filesystems import FileSystems  # noqa: PLC0415
        from apache_beam.options.pipeline_options import PipelineOptions  # noqa: PLC0415

        options = []
        if runner == "DirectRunner":
            workers = num_workers or os.cpu_count() or 1
            options = (["--direct_running_mode", "in_memory"] if workers == 1 else
                       ["--direct_running_mode", "multi_processing",
                        "--direct_num_workers", str(workers)])
        options += ["--default_sdk_harness_log_level=ERROR", *pipeline_args]
        reports_path = f"{out_path}.reports-{uuid.uuid4().hex[:8]}"

        pipeline = beam.Pipeline(runner=runner, options=PipelineOptions(options))
        converted = (pipeline
                     | "items" >> beam.Create(list(items), reshuffle=False)
                     | "spread" >> beam.Reshuffle()
                     | "convert" >> beam.FlatMap(_convert_item, convert).with_outputs(
                         "reports", main="records"))
        shard_template = ("" if num_shards == 1 and one_file_unnumbered
                          else "-SSSSS-of-NNNNN")
        (converted.records
         | "write" >> beam.io.WriteToTFRecord(out_path, coder=beam.coders.BytesCoder(),
                                              num_shards=num_shards,
                                              shard_name_template=shard_template,
                                              file_name_suffix=shard_suffix))
        (converted.reports
         | "reports as json" >> beam.Map(json.dumps, sort_keys=True)
         | "write reports" >> beam.io.WriteToText(reports_path, num_shards=1,
                                                  shard_name_template=""))
        try:
            result = pipeline.run()
            result.wait_until_finish()
        except Exception as exc:  # the runner's own failures, reported in one line
            reason = (str(exc).strip().splitlines() or [""])[0][:300]
            raise PipelineError(f"--runner {runner}: the pipeline failed: "
                                f"{type(exc).__name__}: {reason}") from None

        counts = {}
        for metric in result.metrics().query(
                beam.metrics.MetricsFilter().with_namespace(_METRICS_NAMESPACE))["counters"]:
            value = metric.committed if metric.committed is not None else metric.attempted
            counts[metric.key.metric.name] = counts.get(metric.key.metric.name, 0) + value
        with FileSystems.open(reports_path) as f:
            lines = sorted(line for line in f.read().decode("utf-8").splitlines() if line)
        FileSystems.delete([reports_path])
    n_records = counts.pop("records", 0)
    return PipelineOutcome(n_records=n_records, counts=counts,
                           reports=[json.loads(line) for line in lines])


def _convert_item(item, convert):
    """FlatMap body: records out, reports tagged, counts as Beam metrics."""
    import apache_beam as beam  # noqa: PLC0415

    converted = convert(item)
    for name, value in converted.counts.items():
        beam.metrics.Metrics.counter(_METRICS_NAMESPACE, name).inc(value)
    beam.metrics.Metrics.counter(_METRICS_NAMESPACE, "records").inc(len(converted.records))
    yield from converted.records
    for report in converted.reports:
        yield beam.pvalue.TaggedOutput("reports", report)


def map_with_beam(fn: Callable, items: Sequence, *, encode: Callable[[object], bytes],
                  decode: Callable[[bytes], object], runner: str,
                  num_workers: int | None = None, pipeline_args: Sequence[str] = ()) -> list:
    """``[fn(item) for item in items]``, computed on a Beam runner, in the items' order.

    Parameters
    ----------
    fn : callable
        A picklable function of one item.
    encode, decode : callable
        Result -> bytes and back (picklable; no pickle on the results).
    runner, num_workers, pipeline_args
        As for :func:`run_records_pipeline`. The results are staged under the
        pipeline's ``--temp_location`` when given (on a cluster, a path both
        the workers and this process reach, such as ``gs://...``), else in a
        local temporary folder.
    """
    from gensuite.common.tfrecord import iter_records  # noqa: PLC0415

    with stderr_silenced():
        from apache_beam.io.filesystems import FileSystems  # noqa: PLC0415
        from apache_beam.options.pipeline_options import PipelineOptions  # noqa: PLC0415

        temp_location = PipelineOptions(list(pipeline_args)).get_all_options().get(
            "temp_location")
    local = temp_location is None
    staging = (tempfile.mkdtemp(prefix="gensuite-beam-") if local else
               FileSystems.join(temp_location, f"gensuite-{uuid.uuid4().hex[:8]}"))
    try:
        out_path = FileSystems.join(staging, "results")
        run_records_pipeline(functools.partial(_encoded_result, fn=fn, encode=encode),
                             list(enumerate(items)), out_path=out_path, runner=runner,
                             num_shards=0, num_workers=num_workers,
                             pipeline_args=pipeline_args)
        results = [None] * len(items)
        for match in FileSystems.match([out_path + "*"])[0].metadata_list:
            with stderr_silenced(), FileSystems.open(match.path) as f:
                for record in iter_records(f, name=match.path):
                    index = _INDEX.unpack_from(record)[0]
                    results[index] = decode(record[_INDEX.size:])
    finally:
        if local:
            shutil.rmtree(staging, ignore_errors=True)
        else:
            with stderr_silenced():
                FileSystems.delete([staging])
    return results


_INDEX = struct.Struct("<Q")


def _encoded_result(indexed_item, *, fn, encode) -> Converted:
    index, item = indexed_item
    return Converted(records=(_INDEX.pack(index) + encode(fn(item)),))
