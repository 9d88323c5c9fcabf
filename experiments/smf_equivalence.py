"""Does the fast MIDI reader give the same NoteSequence as pretty_midi, and how much faster?

For every MIDI file under the given folders, compares
``gensuite.midi.smf.smf_to_sequence`` with the reference path
``note_seq.midi_to_note_sequence(pretty_midi.PrettyMIDI(...))`` by proto
equality, and sorts each file into:

* equal: both read it and the protos are equal;
* fallback: the fast reader declines it (``midi_bytes_to_sequence`` then uses
  pretty_midi, so results cannot differ); split by whether pretty_midi reads it;
* different: both read it and the protos differ, the fast reader reads a file
  pretty_midi rejects, or the fast reader raises something other than
  UnsupportedMidiError. Any of these is a bug.

Files with the same bytes are compared once and counted in every folder that
holds them. Speeds are files per second of each reader on the same files
(each unique file read once by each, interleaved; noisy on a busy machine).

Usage::

    python experiments/smf_equivalence.py [FOLDER ...] [--show 5]

Without folders: every folder under /work/data holding MIDI, /work/runs,
/usr/share, the repository's tests/ and installed packages' MIDI test files.
Exit status 1 if any file is different.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import io
import os
import sys
import sysconfig
import time
import warnings

import note_seq
import pretty_midi

from gensuite.midi.smf import UnsupportedMidiError, smf_to_sequence

MIDI_SUFFIXES = (".mid", ".midi", ".kar")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def default_folders() -> list[str]:
    """The folders checked when none are given."""
    folders = []
    data_root = "/work/data"
    if os.path.isdir(data_root):
        folders += [os.path.join(data_root, name) for name in sorted(os.listdir(data_root))
                    if os.path.isdir(os.path.join(data_root, name))]
    folders += ["/work/runs", "/usr/share", os.path.join(REPO, "tests"),
                sysconfig.get_paths()["purelib"]]
    return [f for f in folders if midi_files(f)]


def midi_files(folder: str) -> list[str]:
    """MIDI files under ``folder``, recursively, sorted; [] if it is missing."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        found += [os.path.join(root, f) for f in files if f.lower().endswith(MIDI_SUFFIXES)]
    return sorted(found)


def reference(data: bytes) -> note_seq.NoteSequence:
    """The path the fast reader must match."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return note_seq.midi_to_note_sequence(pretty_midi.PrettyMIDI(io.BytesIO(data)))


def first_difference(a, b, prefix: str = "") -> str:
    """Where two protos first differ, as 'field[index].field: a != b'."""
    for field in a.DESCRIPTOR.fields:
        name = prefix + field.name
        x, y = getattr(a, field.name), getattr(b, field.name)
        if x == y:
            continue
        is_message = field.message_type is not None
        if not field.is_repeated:
            return first_difference(x, y, name + ".") if is_message else f"{name}: {x!r} != {y!r}"
        for i, (xi, yi) in enumerate(zip(x, y)):
            if xi != yi:
                if is_message:
                    return first_difference(xi, yi, f"{name}[{i}].")
                return f"{name}[{i}]: {xi!r} != {yi!r}"
        return f"{name}: {len(x)} entries != {len(y)}"
    return "(equal)"


def compare(data: bytes) -> tuple[str, str, float, float]:
    """Compare both readers on one file.

    Returns
    -------
    outcome : str
        'equal', 'fallback-read', 'fallback-rejected' or 'different'.
    detail : str
        Why it fell back or how it differs; '' if equal.
    old_seconds, new_seconds : float
        Time each reader took, in seconds.
    """
    started = time.perf_counter()
    try:
        old, old_error = reference(data), None
    except Exception as exc:  # noqa: BLE001 - the reference rejects files in many ways
        old, old_error = None, exc
    old_seconds = time.perf_counter() - started
    started = time.perf_counter()
    try:
        new, new_error = smf_to_sequence(data=data), None
    except Exception as exc:  # noqa: BLE001 - anything but UnsupportedMidiError is reported
        new, new_error = None, exc
    new_seconds = time.perf_counter() - started

    if new_error is not None:
        if not isinstance(new_error, UnsupportedMidiError):
            return "different", f"fast reader raised {new_error!r}", old_seconds, new_seconds
        outcome = "fallback-read" if old_error is None else "fallback-rejected"
        return outcome, str(new_error), old_seconds, new_seconds
    if old_error is not None:
        return "different", f"pretty_midi rejects it ({old_error!r}), fast reader reads it", \
            old_seconds, new_seconds
    if old == new:
        return "equal", "", old_seconds, new_seconds
    return "different", first_difference(old, new), old_seconds, new_seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", help="folders to search (default: see module doc)")
    parser.add_argument("--show", type=int, default=5, help="differences to print")
    args = parser.parse_args(argv)
    folders = args.folders or default_folders()

    by_hash = {}  # sha1 -> compare() result
    files_of = {}  # folder -> list of sha1
    for folder in folders:
        files_of[folder] = []
        for path in midi_files(folder):
            with open(path, "rb") as f:
                data = f.read()
            digest = hashlib.sha1(data).digest()
            if digest not in by_hash:
                by_hash[digest] = compare(data) + (path,)
            files_of[folder].append(digest)

    outcomes = ("equal", "fallback-read", "fallback-rejected", "different")
    print(f"{'folder':<58} {'files':>6} {'unique':>6} {'equal':>6} {'fb-read':>7} "
          f"{'fb-rej':>6} {'diff':>5} {'old f/s':>8} {'new f/s':>8} {'x':>5}")
    for folder, digests in files_of.items():
        counts = collections.Counter(by_hash[d][0] for d in digests)
        old = sum(by_hash[d][2] for d in digests)
        new = sum(by_hash[d][3] for d in digests)
        print(f"{folder[-58:]:<58} {len(digests):>6} {len(set(digests)):>6} "
              + " ".join(f"{counts[o]:>{w}}" for o, w in zip(outcomes, (6, 7, 6, 5)))
              + f" {len(digests) / old:>8.0f} {len(digests) / new:>8.0f} {old / new:>5.1f}")

    results = list(by_hash.values())
    counts = collections.Counter(r[0] for r in results)
    old = sum(r[2] for r in results)
    new = sum(r[3] for r in results)
    print(f"\nunique files: {len(results)}; " + ", ".join(f"{o} {counts[o]}" for o in outcomes))
    print(f"speed on the {len(results)} unique files: pretty_midi {len(results) / old:.0f} "
          f"files/s, fast reader {len(results) / new:.0f} files/s ({old / new:.1f}x)")
    both = [r for r in results if r[0] == "equal"]
    if both:
        old_eq, new_eq = sum(r[2] for r in both), sum(r[3] for r in both)
        print(f"speed on the {len(both)} equal files: pretty_midi {len(both) / old_eq:.0f} "
              f"files/s, fast reader {len(both) / new_eq:.0f} files/s ({old_eq / new_eq:.1f}x)")
    reasons = collections.Counter(r[1] for r in results if r[0].startswith("fallback"))
    for reason, n in reasons.most_common(10):
        print(f"fallback reason: {n} x {reason}")
    different = [r for r in results if r[0] == "different"]
    for _, detail, _, _, path in different[:args.show]:
        print(f"DIFFERENT {path}: {detail}")
    return 1 if different else 0


if __name__ == "__main__":
    sys.exit(main())
