"""What a MelodyRNN's continuations sound like, as figures.

Each of ``n`` real melodies gives a primer (its first two bars); the model
continues it to ``length_steps`` steps with each generation setting, and the
continuations (every bar after the primer) are compared window by window
with the real melodies' own continuations over the same bars
(:func:`gensuite.midi.metrics.compare`: feature overlaps, degenerate share).
The repeated-phrase rate counts a bar as repeated when it equals any earlier
bar of the whole melody, primer included, so a continuation that loops one
phrase scores high where real tunes repeat some bars and vary others.
"""

from __future__ import annotations

import numpy as np

from gensuite.common.errors import NoExamplesError, ParameterError
from gensuite.midi import metrics
from gensuite.midi.sequences import melody_events_to_sequence

PRIMER_BARS = 2
WINDOW_BARS = 2

# Generation settings compared by default: plain sampling at two temperatures and
# Magenta-style beam search (beam_size x branch_factor melodies, pruned every step).
SETTINGS: dict[str, dict] = {
    "temperature_0.5": {"temperature": 0.5},
    "temperature_1.0": {"temperature": 1.0},
    "beam_4x2": {"temperature": 1.0, "beam_size": 4, "branch_factor": 2},
}


def continuation_windows(events, *, start_bar: int, n_windows: int,
                         steps_per_quarter: int) -> list[dict]:
    """Features of the ``n_windows`` 2-bar windows of a melody from ``start_bar`` on.

    A window without notes counts as an empty window, so a silent
    continuation is judged rather than dropped.
    """
    sequence = melody_events_to_sequence(events, steps_per_quarter=steps_per_quarter)
    found = {w.start_bar: w for w in metrics.melody_windows(sequence, bars=WINDOW_BARS)}
    return [metrics.window_features(found.get(bar) or metrics.empty_window(bars=WINDOW_BARS))
            for bar in range(start_bar, start_bar + n_windows * WINDOW_BARS, WINDOW_BARS)]


def continuation_figures(model, melodies, *, n: int, length_steps: int = 128, seed: int = 0,
                         settings: dict[str, dict] | None = None) -> dict:
    """Continue the primers of ``n`` real melodies and compare with their real continuations.

    Parameters
    ----------
    model : MelodyRNN
    melodies : list of np.ndarray
        Event arrays (``-2`` hold, ``-1`` off, pitch), as ``rnn evaluate``
        reads them; those at least ``length_steps`` long are eligible and
        ``n`` of them are taken evenly spaced.
    n : int
    length_steps : int
        Length of each generated melody, primer included; a multiple of
        2 bars after the 2-bar primer.
    seed : int
        Melody ``i`` is generated with seed ``seed + i`` in every setting.
    settings : dict, optional
        Name -> keyword arguments of ``model.generate`` (default
        :data:`SETTINGS`).

    Returns
    -------
    dict
        ``n``, ``length_steps``, ``primer_steps``, ``reference`` (the real
        continuations' degenerate share and repeated-phrase rate) and, per
        setting, ``mean_overlap``, ``degenerate_share``,
        ``repeated_phrase_rate`` (mean of the generated windows) and every
        feature's ``overlap``.
    """
    steps_per_bar = 4 * model.config.steps_per_quarter
    primer_steps = PRIMER_BARS * steps_per_bar
    window_steps = WINDOW_BARS * steps_per_bar
    if length_steps <= primer_steps or (length_steps - primer_steps) % window_steps:
        raise ParameterError(
            f"length_steps: must be the {primer_steps}-step primer plus a multiple of "
            f"{window_steps}, got {length_steps}")
    eligible = [np.asarray(m) for m in melodies if len(m) >= length_steps]
    if len(eligible) < n:
        raise NoExamplesError(
            f"--samples: {len(eligible)} melodies are at least {length_steps} steps long, "
            f"asked for {n}")
    picked = [eligible[int(i)] for i in np.linspace(0, len(eligible) - 1, n).round()]
    n_windows = (length_steps - primer_steps) // window_steps
    window_args = {"start_bar": PRIMER_BARS, "n_windows": n_windows,
                   "steps_per_quarter": model.config.steps_per_quarter}
    reference = [f for melody in picked
                 for f in continuation_windows(melody[:length_steps], **window_args)]
    figures = {"n": n, "length_steps": length_steps, "primer_steps": primer_steps,
               "seed": seed, "reference": _summary(reference)}
    for name, kwargs in (settings or SETTINGS).items():
        generated = []
        for i, melody in enumerate(picked):
            result = model.generate(melody[:primer_steps], num_steps=length_steps,
                                    seed=seed + i, **kwargs)
            generated += continuation_windows(result.events[0], **window_args)
        result = metrics.compare(generated, reference)
        figures[name] = {"mean_overlap": result["mean_overlap"],
                         "degenerate_share": result["degenerate_share"]["generated"],
                         **_summary(generated, keys=("repeated_phrase_rate",)),
                         "overlap": {k: v["overlap"] for k, v in result["features"].items()}}
    return figures


def _summary(features: list[dict], keys=("degenerate_share", "repeated_phrase_rate")) -> dict:
    out = {}
    if "degenerate_share" in keys:
        out["degenerate_share"] = metrics.degenerate_share(features)
    rates = [f["repeated_phrase_rate"] for f in features
             if not np.isnan(f["repeated_phrase_rate"])]
    out["repeated_phrase_rate"] = round(float(np.mean(rates)), 4) if rates else None
    return out
