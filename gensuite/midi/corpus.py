"""music21's bundled corpus -> one MIDI file per piece.

music21 ships scores (MusicXML, Humdrum, ABC) but no MIDI. This module names a
few collections of that corpus, enumerates their pieces cheaply and converts
them with music21's MIDI writer, in parallel, fixing what that writer gets
wrong:

* music21's ABC reader puts one ``TimeSignature`` object into several measures;
  the MIDI writer then fails ("object ... is already found in this Stream") on
  about a quarter of the Essen tunes. :func:`unshare_elements` deep-copies every
  repeated element (only TimeSignatures were found shared in this corpus).
* music21 writes every part on MIDI channel 1 with the program of whatever
  instrument the source declared (piano when none). Here each part keeps its
  own track and gets its own channel (drum channel 10 skipped) and a General
  MIDI program chosen by :func:`choose_program`.
* Restated time signatures, key signatures and tempos (one per part and per
  repeated measure) are dropped when equal to the one already in effect.

Output names (``<name>.mid`` in ``out_dir``, stable across runs):

* ``bach-chorales``: the BWV file name, e.g. ``bwv269.mid``, ``bwv153.1.mid``.
  The 371 Riemenschneider numbers cover 350 distinct files (21 chorales appear
  twice in Riemenschneider's edition); each file is written once.
* ABC collections: a file holding several tunes gives
  ``<file>_<X:number 4 digits>_<title slug>.mid`` (``altdeu10_0001_das-hildebrandslied.mid``);
  a file holding one tune gives ``<file>.mid``.
* Folders of scores (composers): the path inside the folder with ``/`` -> ``_``,
  e.g. ``opus18no1_movement1.mid``. When a piece exists in several formats the
  first of ``PREFERRED_EXTENSIONS`` is used.

Repeats are expanded (music21's writer plays them); where they are malformed
they are stripped, the piece is written as notated and the report lists it
under ``repeats_not_expanded``. Tempo is the source's metronome mark, or 120
qpm when it has none; a source without a meter gets music21's 4/4.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib.util
import io
import json
import os
import re
import signal
import time
import unicodedata
import warnings
from collections.abc import Iterable, Sequence

from gensuite.common.errors import GensuiteError, InputFileError, ParameterError
from gensuite.common.fileio import write_bytes_atomic, write_text_atomic
from gensuite.common.parallel import map_in_processes

# Formats music21 reads for whole scores, best first: MusicXML keeps part names
# and instruments, Humdrum often lacks them.
PREFERRED_EXTENSIONS = (".mxl", ".musicxml", ".xml", ".krn")
PROGRAM_POLICIES = ("gm", "piano")
CHOIR_AAHS = 52
VOICE_OOHS = 53
VIOLIN = 40
FLUTE = 73
PIANO = 0
# MIDI channels 0-15 as mido numbers them; 9 is General MIDI's drum channel.
MELODIC_CHANNELS = tuple(c for c in range(16) if c != 9)
MAX_SLUG_CHARS = 40
MAX_REASON_CHARS = 200
# Longest a piece may take to convert; the slowest complete tunes take a few seconds.
MAX_PIECE_SECONDS = 60

# Part or instrument name -> General MIDI program. Checked in order on the
# lower-cased names: a voice doubled by instruments ("Soprano Oboe 1 Violin1"
# in Bach's cantata chorales) is a voice, but "Alto Sax" is a saxophone;
# "basso continuo" is an organ before "basso" is a voice; "violoncello" is a
# cello before "violin" could match.
NAME_PROGRAMS = (
    (r"^(soprano|alto|tenor|bass)\s+(?!sax|clarinet|trombone|flute|recorder|tuba|"
     r"drum|guitar|viol\b|da gamba)\S", CHOIR_AAHS),
    (r"continuo|organ|organo|orgel", 19),
    (r"cembalo|harpsichord|clavecin", 6),
    (r"piano|klavier|clavier|fortepiano", 0),
    (r"cello|violoncello|\bvc\b", 42),
    (r"contrabass|double ?bass|violone|kontrabass", 43),
    (r"\bviola\b|\bvla\b|\bbratsche\b", 41),
    (r"violin|violino|fiddle|\bvln?\b", 40),
    (r"flute|flauto|traverso|fl[oö]te|fife", 73),
    (r"recorder|blockfl", 74),
    (r"oboe|hautbois", 68),
    (r"clarinet|clarinetto|klarinette", 71),
    (r"bassoon|fagott", 70),
    (r"\bhorn|corno", 60),
    (r"trumpet|tromba|clarino|trompete|cornet|zink", 56),
    (r"trombone|posaune", 57),
    (r"timpani|pauken", 47),
    (r"harp|arpa", 46),
    (r"soprano sax", 64),
    (r"tenor sax", 66),
    (r"baritone sax", 67),
    (r"sax", 65),
    (r"guitar|lute|liuto|laute", 24),
    (r"soprano|sopran|\balto\b|altus|tenor|bass|basso|bassus|canto|cantus|quinto|"
     r"quintus|sesto|sextus|superius|discantus|contratenor|triplum|motetus|"
     r"voice|vox|voce|choir|chorus|coro|chor\b", CHOIR_AAHS),
)


@dataclasses.dataclass(frozen=True)
class CollectionSpec:
    """One exportable collection of music21's corpus.

    Attributes
    ----------
    name : str
        What users type: ``gensuite corpus export NAME``.
    folder : str
        Folder inside music21's corpus.
    kind : str
        ``"chorales"`` (music21's Riemenschneider iterator), ``"abc"`` (one
        piece per ``X:`` tune) or ``"scores"`` (one piece per score file).
    default_program : int
        General MIDI program of parts whose names and instruments say nothing.
    description : str
        One line for ``gensuite corpus list``.
    """

    name: str
    folder: str
    kind: str
    default_program: int
    description: str


_COMPOSER_FOLDERS = (
    "bach", "beach", "beethoven", "chopin", "ciconia", "corelli", "cpebach", "handel",
    "haydn", "johnson_j_r", "joplin", "liliuokalani", "luca", "lusitano", "monteverdi",
    "mozart", "palestrina", "schoenberg", "schubert", "schumann_clara",
    "schumann_robert", "trecento", "verdi", "weber", "webern")

COLLECTIONS: dict[str, CollectionSpec] = {spec.name: spec for spec in (
    CollectionSpec("bach-chorales", "bach", "chorales", CHOIR_AAHS,
                   "J.S. Bach, 371 four-part chorales (Riemenschneider), SATB -> choir"),
    CollectionSpec("essen", "essenFolksong", "abc", VOICE_OOHS,
                   "Essen folk-song collection, sung melodies -> voice (non-commercial licence)"),
    CollectionSpec("ryans-mammoth", "ryansMammoth", "abc", VIOLIN,
                   "Ryan's Mammoth Collection (1883), fiddle tunes -> violin"),
    CollectionSpec("oneills", "oneills1850", "abc", VIOLIN,
                   "O'Neill's Music of Ireland (1903), dance tunes and airs -> violin"),
    CollectionSpec("nottingham", "nottingham-dataset", "abc", VIOLIN,
                   "Nottingham dataset sample bundled with music21 -> violin"),
    CollectionSpec("airds-airs", "airdsAirs", "abc", FLUTE,
                   "Aird's Airs (1782-1803), for fife, violin or flute -> flute"),
    CollectionSpec("misc-folk", "miscFolk", "abc", FLUTE,
                   "American fife tunes and Northumbrian Minstrelsy -> flute"),
) + tuple(
    CollectionSpec(folder.replace("_", "-"), folder, "scores", PIANO,
                   f"{folder} folder: every score, instruments from the parts")
    for folder in _COMPOSER_FOLDERS)}


@dataclasses.dataclass(frozen=True)
class Piece:
    """One piece to convert.

    Attributes
    ----------
    name : str
        Output file name without ``.mid``; unique within its collection.
    source : str
        Absolute path of the corpus file.
    number : int or None
        ABC reference number (``X:``) inside ``source``; None for a whole file.
    text : str or None
        For ABC tunes, the tune's text (file header + tune), so that workers
        parse only that tune instead of the whole file.
    """

    name: str
    source: str
    number: int | None = None
    text: str | None = None


@dataclasses.dataclass
class ExportReport:
    """What :func:`export_collection` wrote and what failed."""

    collection: str
    out_dir: str
    n_pieces: int  # pieces selected (after ``limit``)
    exported: int  # MIDI files written by this run
    skipped_existing: int  # already in out_dir from an earlier run, left as they were
    seconds: float
    failed: list[dict[str, str]]  # {"piece": name, "reason": one line}
    # Written as notated because music21 could not expand their repeats.
    repeats_not_expanded: list[str] = dataclasses.field(default_factory=list)

    @property
    def n_failed(self) -> int:
        return len(self.failed)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self) | {"n_failed": self.n_failed}, indent=2)


# ----------------------------------------------------------------------------
# Enumerating collections (cheap: no music21 parsing)


def find_corpus_root() -> str:
    """Folder of music21's bundled corpus, found without importing music21."""
    spec = importlib.util.find_spec("music21")
    if spec is None or not spec.submodule_search_locations:
        raise GensuiteError("music21 is not installed (pip install music21)")
    return os.path.join(list(spec.submodule_search_locations)[0], "corpus")


def get_collection(name: str) -> CollectionSpec:
    """The spec of a collection by name.

    Raises
    ------
    ParameterError
        If ``name`` is not a known collection; the message lists valid names.
    """
    try:
        return COLLECTIONS[name]
    except KeyError:
        raise ParameterError(
            f"NAME: unknown collection {name!r}; valid names: "
            + ", ".join(COLLECTIONS)) from None


def list_collections() -> dict[str, int]:
    """Piece count of every collection present in the installed corpus.

    Counts come from file listings and ``X:`` lines, not from parsing scores,
    and equal the number of pieces :func:`export_collection` would convert.

    Returns
    -------
    dict of str to int
        Collection name -> number of pieces, in ``COLLECTIONS`` order; absent
        folders are left out.
    """
    root = find_corpus_root()
    counts = {}
    for spec in COLLECTIONS.values():
        if not os.path.isdir(os.path.join(root, spec.folder)):
            continue
        n_pieces = len(list_pieces(spec.name, corpus_root=root))
        if n_pieces:
            counts[spec.name] = n_pieces
    return counts


def list_pieces(name: str, *, corpus_root: str | None = None) -> list[Piece]:
    """The pieces of a collection, in a stable order.

    Parameters
    ----------
    name : str
        Collection name (see ``COLLECTIONS``).
    corpus_root : str, optional
        music21's corpus folder; found with :func:`find_corpus_root` if omitted.

    Raises
    ------
    ParameterError
        If ``name`` is unknown.
    """
    spec = get_collection(name)
    root = corpus_root or find_corpus_root()
    folder = os.path.join(root, spec.folder)
    if not os.path.isdir(folder):
        return []
    if spec.kind == "chorales":
        return list_chorale_pieces()
    if spec.kind == "abc":
        pieces: list[Piece] = []
        for path in sorted(list_files(folder, (".abc",))):
            pieces.extend(split_abc_file(path))
        return make_names_unique(pieces)
    return make_names_unique(list_score_pieces(folder))


def list_files(folder: str, extensions: Sequence[str]) -> list[str]:
    """Files under ``folder`` (recursive, hidden ones skipped), sorted."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        found.extend(os.path.join(root, f) for f in files
                     if not f.startswith(".") and f.lower().endswith(tuple(extensions)))
    return sorted(found)


def list_score_pieces(folder: str) -> list[Piece]:
    """One piece per score in a folder, one format per piece."""
    by_stem: dict[str, str] = {}
    for path in list_files(folder, PREFERRED_EXTENSIONS):
        stem, ext = os.path.splitext(os.path.relpath(path, folder))
        known = by_stem.get(stem)
        if known is None or rank_extension(ext) < rank_extension(os.path.splitext(known)[1]):
            by_stem[stem] = path
    return [Piece(name=sanitize_name(stem.replace(os.sep, "_")), source=path)
            for stem, path in sorted(by_stem.items())]


def rank_extension(ext: str) -> int:
    """Position of ``ext`` in ``PREFERRED_EXTENSIONS`` (lower is better)."""
    return PREFERRED_EXTENSIONS.index(ext.lower())


def list_chorale_pieces() -> list[Piece]:
    """Bach chorales in Riemenschneider order, each file once."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from music21 import corpus

        names = list(corpus.chorales.Iterator(returnType="filename"))
        pieces, seen = [], set()
        for name in names:  # e.g. "bach/bwv269"
            if name in seen:
                continue
            seen.add(name)
            found = corpus.getWork(name)
            paths = found if isinstance(found, list) else [found]
            path = min((os.fspath(p) for p in paths),
                       key=lambda p: rank_extension(os.path.splitext(p)[1]))
            pieces.append(Piece(name=sanitize_name(name.split("/")[-1]), source=path))
    return pieces


_X_LINE = re.compile(r"^[ \t]*X:[ \t]*(\d+)", re.MULTILINE)
_T_LINE = re.compile(r"^[ \t]*T:[ \t]*(.*?)\s*$", re.MULTILINE)


def split_abc_file(path: str) -> list[Piece]:
    """One piece per ``X:`` tune of an ABC file.

    Each piece carries its tune's text prefixed with the file header (the text
    before the first ``X:``, where ABC puts settings shared by all tunes).
    """
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    starts = list(_X_LINE.finditer(text))
    stem = sanitize_name(os.path.splitext(os.path.basename(path))[0])
    if not starts:
        return []
    header = text[:starts[0].start()]
    pieces = []
    for i, match in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        tune = text[match.start():end]
        number = int(match.group(1))
        if len(starts) == 1:
            name = stem
        else:
            title = _T_LINE.search(tune)
            slug = slugify(title.group(1)) if title else ""
            name = f"{stem}_{number:04d}" + (f"_{slug}" if slug else "")
        pieces.append(Piece(name=name, source=path, number=number, text=header + tune))
    return pieces


_V_LINE = re.compile(r"^[ \t]*V:[ \t]*(\S+)")
# A body line that starts with an inline voice field: "[V:1] g|Ted`ef g2 |".
_V_INLINE = re.compile(r"^[ \t]*\[V:[ \t]*([^\]\s]+)[^\]]*\][ \t]?(.*)$")
_K_LINE = re.compile(r"^[ \t]*K:")


def merge_abc_voices(tune: str) -> str:
    """Rewrite a multi-voice ABC tune so that each voice is one contiguous block.

    ABC lets voices alternate (``V:1`` four bars, ``V:2`` four bars, ``V:1``
    again..., or lines starting ``[V:1]``), and declares them in the header. music21 turns every ``V:``
    block into a new part starting at time 0 (and every bare declaration into
    an empty part), then fails or writes fragments on top of each other.
    Grouping each voice's lines under one ``V:`` line, in order of first
    appearance, gives music21 one part per voice. Tunes without ``V:`` lines
    in their body are returned unchanged.
    """
    lines = tune.split("\n")
    k_index = next((i for i, line in enumerate(lines) if _K_LINE.match(line)), None)
    if k_index is None:
        return tune
    header, body = lines[:k_index + 1], lines[k_index + 1:]
    if not any(_V_LINE.match(line) or _V_INLINE.match(line) for line in body):
        return tune
    declarations: dict[str, str] = {}
    kept_header = []
    for line in header:
        match = _V_LINE.match(line)
        if match:
            declarations.setdefault(match.group(1), line)
        else:
            kept_header.append(line)
    n_trailing = len(body) - len("\n".join(body).rstrip("\n").split("\n"))
    body, trailing = body[:len(body) - n_trailing], body[len(body) - n_trailing:]
    blocks: dict[str, list[str]] = {}
    first_lines: dict[str, str] = {}
    current = next(iter(declarations), "1")
    for line in body:
        match = _V_LINE.match(line)
        if match:
            current = match.group(1)
            first_lines.setdefault(current, line)
            blocks.setdefault(current, [])
            continue
        inline = _V_INLINE.match(line)
        if inline:
            current, line = inline.group(1), inline.group(2)
        blocks.setdefault(current, []).append(line)
    merged = list(kept_header)
    for voice, voice_lines in blocks.items():
        if not any(line.strip() for line in voice_lines):
            continue
        merged.append(declarations.get(voice) or first_lines.get(voice) or f"V:{voice}")
        merged.extend(voice_lines)
    return "\n".join(merged + trailing)


def slugify(text: str, *, max_chars: int = MAX_SLUG_CHARS) -> str:
    """Lower-case ASCII words joined by ``-`` (accents folded), at most ``max_chars``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > max_chars:
        slug = slug[:max_chars].rsplit("-", 1)[0] if "-" in slug[:max_chars] else slug[:max_chars]
    return slug


def sanitize_name(text: str) -> str:
    """A file-name-safe version of ``text``: letters, digits, ``. _ -`` only."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "piece"


def make_names_unique(pieces: Iterable[Piece]) -> list[Piece]:
    """Append ``-2``, ``-3``... to repeated names (case-insensitively), in order."""
    seen: set[str] = set()
    unique = []
    for piece in pieces:
        name, k = piece.name, 1
        while name.lower() in seen:
            k += 1
            name = f"{piece.name}-{k}"
        seen.add(name.lower())
        unique.append(piece if name == piece.name else dataclasses.replace(piece, name=name))
    return unique


# ----------------------------------------------------------------------------
# Converting one piece (runs in worker processes)


def parse_piece(piece: Piece):
    """Parse a piece with music21 into a ``music21.stream.Score``.

    Raises
    ------
    ValueError
        If the source holds several scores where one was expected.
    """
    from music21 import converter, stream

    if piece.text is not None:
        parsed = converter.parseData(merge_abc_voices(piece.text), format="abc")
    else:
        parsed = converter.parse(piece.source, forceSource=True, storePickle=False)
    if isinstance(parsed, stream.Opus):
        scores = list(parsed.scores)
        if len(scores) != 1:
            raise ValueError(f"holds {len(scores)} scores, expected one")
        parsed = scores[0]
    return parsed


def unshare_elements(score) -> int:
    """Give every container its own copy of elements it shares with another.

    music21's ABC reader inserts one TimeSignature object into several
    measures; its MIDI writer then moves "each" into the conductor track and
    fails on the second insertion of the same object. Any element found a
    second time (in any stream of the hierarchy) is replaced there by a deep
    copy. Mutates ``score``.

    Returns
    -------
    int
        Number of elements replaced.
    """
    seen: set[int] = set()
    repeats = []
    for container in score.recurse(streamsOnly=True, includeSelf=True):
        for element in list(container._elements) + list(container._endElements):
            if id(element) in seen:
                repeats.append((container, element))
            else:
                seen.add(id(element))
    for container, element in repeats:
        container.replace(element, copy.deepcopy(element))
    return len(repeats)


def choose_program(names: Sequence[str], instrument_program: int | None,
                   default_program: int) -> int:
    """General MIDI program (0-127) for one part.

    Parameters
    ----------
    names : sequence of str
        The part's name, then its instrument's name and the like, most
        trusted first; the first name matching a rule of ``NAME_PROGRAMS``
        decides.
    instrument_program : int or None
        The program music21 derived from the source's instrument, used when no
        name matches.
    default_program : int
        Used when neither names nor instrument say anything.
    """
    # Names in the order given: a part called "Canto" is a voice even when the
    # source's instrument says "Grand Piano" (music21's MusicXML default).
    for name in names:
        for pattern, program in NAME_PROGRAMS:
            if name and re.search(pattern, name.lower()):
                return program
    if instrument_program is not None:
        return int(instrument_program)
    return default_program


def part_programs(score, *, default_program: int, policy: str = "gm") -> list[int]:
    """One General MIDI program per part of ``score``, in part order."""
    parts = list(score.parts) or [score]
    if policy == "piano":
        return [PIANO] * len(parts)
    programs = []
    for part in parts:
        instrument = part.getInstrument(returnDefault=False, recurse=True)
        names = [part.partName or "", str(part.id) if isinstance(part.id, str) else ""]
        if instrument is not None:
            names += [instrument.instrumentName or "", instrument.partName or ""]
        programs.append(choose_program(
            names, getattr(instrument, "midiProgram", None), default_program))
    return programs


def fix_midi_tracks(data: bytes, programs: Sequence[int]) -> bytes:
    """Give each part track its own channel and program; drop restated meta events.

    Parameters
    ----------
    data : bytes
        A Standard MIDI File as music21 writes it: track 0 is the conductor
        (tempo, time and key signatures), tracks 1.. are the parts in order.
    programs : sequence of int
        Program of each part track; tracks beyond it reuse the last one.
    """
    import mido

    midi = mido.MidiFile(file=io.BytesIO(data))
    for index, track in enumerate(midi.tracks):
        drop_restated_meta(track)
        if index == 0 and len(midi.tracks) > 1:
            continue
        part = max(index - 1, 0) if len(midi.tracks) > 1 else 0
        program = programs[min(part, len(programs) - 1)]
        channel = MELODIC_CHANNELS[part % len(MELODIC_CHANNELS)]
        has_program = False
        for message in track:
            if hasattr(message, "channel"):
                message.channel = channel
            if message.type == "program_change":
                message.program = program
                has_program = True
        if not has_program:
            at = next((i for i, m in enumerate(track) if not m.is_meta), len(track))
            track.insert(at, mido.Message("program_change", channel=channel,
                                          program=program, time=0))
    out = io.BytesIO()
    midi.save(file=out)
    return out.getvalue()


_META_STATE = {
    "time_signature": lambda m: (m.numerator, m.denominator),
    "key_signature": lambda m: m.key,
    "set_tempo": lambda m: m.tempo,
}


def drop_restated_meta(track) -> None:
    """Remove tempo / time / key signature events equal to the one in effect.

    Delta times of removed events are carried to the next event, so every
    other event keeps its absolute tick. Mutates ``track``.
    """
    in_effect: dict[str, object] = {}
    kept, carry = [], 0
    for message in track:
        state = _META_STATE.get(message.type)
        if state is not None:
            value = state(message)
            if in_effect.get(message.type) == value:
                carry += message.time
                continue
            in_effect[message.type] = value
        if carry:
            message = message.copy(time=message.time + carry)
            carry = 0
        kept.append(message)
    track[:] = kept


@dataclasses.dataclass(frozen=True)
class ConvertedPiece:
    """A piece as Standard MIDI File bytes."""

    data: bytes
    repeats_expanded: bool  # False: repeats were malformed and are played once


def convert_piece(piece: Piece, *, default_program: int, policy: str = "gm") -> ConvertedPiece:
    """Parse a piece and convert it to Standard MIDI File bytes.

    Repeats are expanded as music21's writer does; when they are malformed
    they are stripped and the piece is written as notated.

    The bytes are checked with :func:`gensuite.midi.io.midi_bytes_to_sequence`,
    so what is returned reads back with :func:`gensuite.midi.io.read_midi`.

    Raises
    ------
    Exception
        Whatever music21 raises on a piece it cannot read or write, or
        :class:`gensuite.common.errors.InvalidMidiError` for an unusable result
        (e.g. no notes).
    """
    with warnings.catch_warnings():
        # music21 warns on every odd ABC field; note_seq's import warns about ffmpeg.
        warnings.simplefilter("ignore")
        from music21 import midi as m21midi
        from music21.repeat import ExpanderException

        from gensuite.midi.io import midi_bytes_to_sequence

        score = parse_piece(piece)
        unshare_elements(score)
        programs = part_programs(score, default_program=default_program, policy=policy)
        expanded = True
        try:
            # music21's writer plays repeats (expandRepeats) before writing.
            data = m21midi.translate.streamToMidiFile(score).writestr()
        except ExpanderException:
            # Malformed repeats: better the tune as notated than no tune.
            strip_repeats(score)
            data = m21midi.translate.streamToMidiFile(score).writestr()
            expanded = False
    data = fix_midi_tracks(data, programs)
    midi_bytes_to_sequence(data, path=f"{piece.name}.mid")
    return ConvertedPiece(data=data, repeats_expanded=expanded)


def strip_repeats(score) -> int:
    """Turn repeat barlines into plain ones and drop repeat brackets and signs.

    For pieces whose repeats music21 cannot expand; mutates ``score``.

    Returns
    -------
    int
        Number of repeat marks removed.
    """
    from music21 import bar, repeat, spanner

    n_removed = 0
    for measure in score.recurse().getElementsByClass("Measure"):
        for side in ("leftBarline", "rightBarline"):
            if isinstance(getattr(measure, side), bar.Repeat):
                setattr(measure, side, bar.Barline("regular"))
                n_removed += 1
    for container in score.recurse(streamsOnly=True, includeSelf=True):
        marks = [el for el in container._elements
                 if isinstance(el, (repeat.RepeatExpression, spanner.RepeatBracket))]
        for mark in marks:
            container.remove(mark)
            n_removed += 1
    return n_removed


def describe_error(exc: BaseException) -> str:
    """One line: the exception's type and first line of its message."""
    lines = str(exc).strip().splitlines()
    reason = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    if isinstance(exc, GensuiteError):
        reason = lines[0] if lines else type(exc).__name__
    return reason[:MAX_REASON_CHARS]


class PieceTimeout(Exception):
    """A piece took longer than MAX_PIECE_SECONDS to convert."""


def _raise_piece_timeout(signum, frame):
    raise PieceTimeout(f"took over {MAX_PIECE_SECONDS} s to convert (music21); skipped")


def _export_one(job: tuple[Piece, str, int, str]) -> tuple[str, str, bool]:
    """Worker: convert and write one piece -> (name, "" or failure reason, repeats expanded).

    A piece gets MAX_PIECE_SECONDS: music21's MIDI writer is quadratic in a
    part's notes and never finishes some expanded tunes (O'Neill's "Morgan
    Rattler"), which would stall the whole export.
    """
    piece, out_path, default_program, policy = job
    previous = signal.signal(signal.SIGALRM, _raise_piece_timeout)
    signal.alarm(MAX_PIECE_SECONDS)
    try:
        converted = convert_piece(piece, default_program=default_program, policy=policy)
        signal.alarm(0)
        write_bytes_atomic(out_path, converted.data)
    except Exception as exc:  # one bad piece must never stop the export
        return piece.name, describe_error(exc), True
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    return piece.name, "", converted.repeats_expanded


# ----------------------------------------------------------------------------
# Exporting a collection


def prepare_out_dir(out_dir: str | os.PathLike) -> str:
    """Create ``out_dir`` if needed and check it is a writable folder.

    Raises
    ------
    InputFileError
        If it is a file, cannot be created, or is not writable.
    """
    out_dir = os.fspath(out_dir)
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise InputFileError(out_dir, "is a file, expected a folder for --out")
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as exc:
        raise InputFileError(out_dir, f"cannot create folder ({exc.strerror})") from exc
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise InputFileError(out_dir, "folder is not writable")
    return out_dir


def export_collection(
    name: str,
    *,
    out_dir: str | os.PathLike,
    limit: int | None = None,
    num_workers: int | None = None,
    progress: bool = False,
    policy: str = "gm",
    overwrite: bool = False,
    report_path: str | os.PathLike | None = None,
) -> ExportReport:
    """Write one MIDI file per piece of a corpus collection.

    Pieces that fail are listed in the report with a one-line reason; they
    never stop the export. Every file is written atomically, so an interrupted
    export leaves only complete files, and a re-run skips them.

    Parameters
    ----------
    name : str
        Collection name (see :func:`list_collections`).
    out_dir : str or os.PathLike
        Folder receiving ``<piece>.mid`` files (created if needed).
    limit : int, optional
        Convert only the first ``limit`` pieces (>= 1) of the stable order.
    num_workers : int, optional
        Worker processes (>= 1); default: every core.
    progress : bool
        Show a progress bar on stderr.
    policy : {"gm", "piano"}
        ``"gm"``: a General MIDI program per part from its name, instrument
        and the collection's default (see ``NAME_PROGRAMS``); ``"piano"``:
        program 0 everywhere.
    overwrite : bool
        Convert pieces whose MIDI file already exists instead of skipping them.
    report_path : str or os.PathLike, optional
        Where to write the report as JSON.

    Raises
    ------
    ParameterError
        Unknown ``name`` or ``policy``, ``limit`` or ``num_workers`` < 1.
    InputFileError
        If ``out_dir`` is unusable.
    """
    started = time.perf_counter()
    spec = get_collection(name)
    if policy not in PROGRAM_POLICIES:
        raise ParameterError(
            f"--programs: must be one of {', '.join(PROGRAM_POLICIES)}, got {policy!r}")
    if limit is not None and limit < 1:
        raise ParameterError(f"--limit: must be >= 1, got {limit}")
    if num_workers is not None and num_workers < 1:
        raise ParameterError(f"--workers: must be >= 1, got {num_workers}")
    out_dir = prepare_out_dir(out_dir)

    pieces = list_pieces(spec.name)
    if limit is not None:
        pieces = pieces[:limit]
    jobs, skipped = [], 0
    for piece in pieces:
        out_path = os.path.join(out_dir, f"{piece.name}.mid")
        if not overwrite and os.path.exists(out_path):
            skipped += 1
            continue
        jobs.append((piece, out_path, spec.default_program, policy))

    failed, not_expanded, exported = [], [], 0
    # Workers import music21 once (the fork server preloads this module).
    with map_in_processes(_export_one, jobs, num_workers=num_workers, progress=progress,
                          desc=spec.name, unit="piece", min_jobs_per_worker=2,
                          max_chunksize=8) as results:
        for piece_name, reason, expanded in results:
            if reason:
                failed.append({"piece": piece_name, "reason": reason})
                continue
            exported += 1
            if not expanded:
                not_expanded.append(piece_name)
    report = ExportReport(
        collection=spec.name, out_dir=out_dir, n_pieces=len(pieces), exported=exported,
        skipped_existing=skipped, seconds=round(time.perf_counter() - started, 3),
        failed=failed, repeats_not_expanded=not_expanded)
    if report_path is not None:
        write_text_atomic(report_path, report.to_json() + "\n")
    return report
