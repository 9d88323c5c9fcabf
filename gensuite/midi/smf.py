"""A fast Standard MIDI File reader: bytes -> NoteSequence.

:func:`smf_to_sequence` gives exactly (proto equality) the NoteSequence that
``note_seq.midi_to_note_sequence(pretty_midi.PrettyMIDI(io.BytesIO(data)))``
gives, without pretty_midi's time array of one entry per tick or mido's
message objects, which made that path slow on high-resolution files.

Files it cannot reproduce with certainty (SMPTE time division, format 2,
system common messages, running status after a sysex, anything malformed)
raise :class:`UnsupportedMidiError`; callers then use the pretty_midi path,
which also gives the usual error for a broken file.

pretty_midi 0.2 behaviour reproduced here, quirks included:

* Tempo, time signature and key signature events count only on the first
  track; on other tracks they are ignored.
* The tempo map starts at 120 qpm. A tempo event at tick 0 replaces the map;
  a later one is added unless it repeats the current tempo.
* Instruments are keyed by (program, channel, track) and numbered in the order
  of their first *finished* note. A note takes the channel's program at its
  note-off, and the track name current when its instrument was made.
* A note-off (or note-on with velocity 0) ends every note of that channel and
  pitch that started at an earlier tick, in start order; notes that started
  at this very tick stay on, unless none ended, in which case they are
  dropped. Notes never ended are dropped.
* Control changes and pitch bends go to the instrument of the channel's
  current program; if that instrument does not exist yet, to a per-channel
  holding list which every instrument later made on that channel *shares*
  (the same list object), so events can appear under several instruments.
* Channel 10 (index 9) is drums.
* mido gives meta events of a type it does not know a delta time of 0, so
  the time before them is lost and every later event of the track is earlier.
"""

from __future__ import annotations

import bisect
import dataclasses

from gensuite.midi.proto import NoteSequence

# pretty_midi calls a file corrupt past this tick (plus one): its own limit is
# 1e7, but importing note_seq raises it to 1e10, and the reference path
# (note_seq's converter over pretty_midi) always runs with note_seq imported.
MAX_TICK = 1e10

__all__ = ["UnsupportedMidiError", "smf_to_sequence"]

# mido refuses meta and sysex payloads longer than this.
_MAX_PAYLOAD = 1_000_000
_META_TRACK_NAME = 0x03
_META_TEMPO = 0x51
_META_TIME_SIGNATURE = 0x58
_META_KEY_SIGNATURE = 0x59
_KEPT_META = (_META_TRACK_NAME, _META_TEMPO, _META_TIME_SIGNATURE, _META_KEY_SIGNATURE)
# Meta types mido decodes. It gives the others a delta time of 0, so their
# own delta is lost and later events move earlier; we do the same.
_MIDO_META_TYPES = frozenset(
    (0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x09, 0x20, 0x21, 0x2F, 0x51, 0x54,
     0x58, 0x59, 0x7F))
# mido raises on meta payloads shorter than this, so the pretty_midi path fails.
_META_MIN_LENGTH = {0x20: 1, 0x51: 3, 0x54: 5, 0x58: 4, 0x59: 2}
_DRUM_CHANNEL = 9


class UnsupportedMidiError(ValueError):
    """The fast reader cannot vouch for this file; use the pretty_midi path."""


@dataclasses.dataclass(slots=True)
class _Instrument:
    program: int
    channel: int
    name: str
    notes: list  # (start tick, end tick, pitch, velocity)
    pitch_bends: list  # (tick, bend in -8192..8191); may be shared, see module doc
    control_changes: list  # (tick, number, value); may be shared


def smf_to_sequence(*, data: bytes) -> NoteSequence:
    """Parse a Standard MIDI File as pretty_midi + note_seq would.

    Parameters
    ----------
    data : bytes
        Content of a format 0 or 1 Standard MIDI File with a division in
        ticks per quarter note.

    Returns
    -------
    NoteSequence
        Equal to ``note_seq.midi_to_note_sequence(pretty_midi.PrettyMIDI(...))``
        for the same bytes; times in seconds.

    Raises
    ------
    UnsupportedMidiError
        If the file is malformed or uses a feature this reader does not
        reproduce with certainty; the pretty_midi path decides those.
    """
    try:
        ticks_per_quarter, tracks = _read_chunks(data)
    except IndexError as exc:  # a read past the end of the data
        raise UnsupportedMidiError("data ends inside an event") from exc
    if max(last_tick for _, last_tick in tracks) + 1 > MAX_TICK:
        raise UnsupportedMidiError("last tick beyond pretty_midi's limit")
    first_track = [event for event in tracks[0][0] if event[1] == 0xFF]
    tempo_map = _TempoMap(ticks_per_quarter=ticks_per_quarter, meta_events=first_track)
    seconds = tempo_map.seconds

    sequence = NoteSequence(ticks_per_quarter=ticks_per_quarter)
    sequence.source_info.parser = NoteSequence.SourceInfo.PRETTY_MIDI
    sequence.source_info.encoding_type = NoteSequence.SourceInfo.MIDI
    for tick, _, meta_type, payload in first_track:
        if meta_type == _META_TIME_SIGNATURE:
            if payload[0] == 0:  # pretty_midi's TimeSignature refuses it
                raise UnsupportedMidiError("time signature numerator of 0")
            sequence.time_signatures.add(
                time=seconds(tick), numerator=payload[0], denominator=2 ** payload[1])
        elif meta_type == _META_KEY_SIGNATURE:
            sharps = payload[0] - 256 if payload[0] > 127 else payload[0]
            minor = payload[1]  # 0 or 1, checked by _check_meta
            # A fifth up per sharp; a minor key's tonic is a minor third below
            # (9 semitones above, mod 12) its relative major's.
            sequence.key_signatures.add(
                time=seconds(tick), key=(7 * sharps + 9 * minor) % 12, mode=minor)
    for tick, qpm in tempo_map.tempos():
        sequence.tempos.add(time=seconds(tick), qpm=qpm)

    instruments = _load_instruments(track_events=[events for events, _ in tracks])
    total_time = 0.0
    for index, instrument in enumerate(instruments):
        program, is_drum = instrument.program, instrument.channel == _DRUM_CHANNEL
        if instrument.name:
            sequence.instrument_infos.add(name=instrument.name, instrument=index)
        for start, end, pitch, velocity in instrument.notes:
            end_time = seconds(end)
            total_time = max(total_time, end_time)
            sequence.notes.add(
                instrument=index, program=program, start_time=seconds(start),
                end_time=end_time, pitch=pitch, velocity=velocity, is_drum=is_drum)
    sequence.total_time = total_time
    for index, instrument in enumerate(instruments):
        program, is_drum = instrument.program, instrument.channel == _DRUM_CHANNEL
        for tick, bend in instrument.pitch_bends:
            sequence.pitch_bends.add(
                instrument=index, program=program, time=seconds(tick), bend=bend,
                is_drum=is_drum)
    for index, instrument in enumerate(instruments):
        program, is_drum = instrument.program, instrument.channel == _DRUM_CHANNEL
        for tick, number, value in instrument.control_changes:
            sequence.control_changes.add(
                instrument=index, program=program, time=seconds(tick),
                control_number=number, control_value=value, is_drum=is_drum)
    return sequence


def _read_chunks(data: bytes) -> tuple[int, list[tuple[list[tuple], int]]]:
    """Split a file into its header fields and decoded tracks.

    Returns
    -------
    ticks_per_quarter : int
    tracks : list of (events, last_tick)
        One entry per track, see :func:`_read_track`.
    """
    if data[:4] != b"MThd":
        raise UnsupportedMidiError("no MThd header")
    header_length = int.from_bytes(data[4:8], "big")
    if header_length < 6 or 8 + header_length > len(data):
        raise UnsupportedMidiError("short header")
    file_format = int.from_bytes(data[8:10], "big", signed=True)
    n_tracks = int.from_bytes(data[10:12], "big", signed=True)
    division = int.from_bytes(data[12:14], "big", signed=True)
    if file_format not in (0, 1):
        raise UnsupportedMidiError(f"format {file_format}")
    if division <= 0:  # negative: SMPTE frames; zero: pretty_midi divides by it
        raise UnsupportedMidiError("time division not in ticks per quarter")
    if n_tracks < 1:  # pretty_midi fails on a file without tracks
        raise UnsupportedMidiError("no tracks")
    tracks = []
    pos = 8 + header_length
    for _ in range(n_tracks):
        # mido reads exactly n_tracks chunks and wants each to be a track.
        if data[pos:pos + 4] != b"MTrk":
            raise UnsupportedMidiError("chunk is not MTrk")
        start = pos + 8
        end = start + int.from_bytes(data[pos + 4:start], "big")
        if end > len(data) or end == start:  # an empty track fails in pretty_midi
            raise UnsupportedMidiError("track chunk truncated or empty")
        tracks.append(_read_track(data, start=start, end=end))
        pos = end
    return division, tracks


def _read_track(data: bytes, *, start: int, end: int) -> tuple[list[tuple], int]:
    """Decode the events of one track chunk.

    Parameters
    ----------
    data : bytes
        The whole file.
    start, end : int
        Byte offsets of the chunk body.

    Returns
    -------
    events : list of tuple
        ``(tick, status, data1, data2)`` for channel messages (status
        0x80-0xEF; ``data2`` is 0 for one-data-byte messages) and
        ``(tick, 0xFF, meta type, payload bytes)`` for track name, tempo, time
        and key signature events. Ticks are absolute.
    last_tick : int
        Tick of the last event of any kind.
    """
    events = []
    tick = 0
    status = 0  # running status; 0: none yet
    pos = start
    while pos < end:
        byte = data[pos]
        pos += 1
        delta = byte & 0x7F
        while byte & 0x80:
            byte = data[pos]
            pos += 1
            delta = (delta << 7) | (byte & 0x7F)
        tick += delta

        byte = data[pos]
        if byte >= 0x80:  # else running status: byte is the first data byte
            pos += 1
            if byte == 0xFF:
                meta_type = data[pos]
                length, pos = _read_varlen(data, pos + 1)
                payload = data[pos:pos + length]
                pos += length
                _check_meta(meta_type, payload)
                if meta_type not in _MIDO_META_TYPES:
                    tick -= delta
                if meta_type in _KEPT_META:
                    events.append((tick, 0xFF, meta_type, payload))
                continue  # meta events leave running status alone
            if byte in (0xF0, 0xF7):
                length, pos = _read_varlen(data, pos)
                _check_sysex(data[pos:pos + length])
                pos += length
                status = byte  # mido would read a data byte next as sysex
                continue
            status = byte
        if status >= 0xF0 or status == 0:
            # System common messages, running status after a sysex or
            # before any status: mido reads these in ways not copied here.
            raise UnsupportedMidiError(f"status 0x{status:02x} at byte {pos}")
        if status < 0xC0 or status >= 0xE0:
            data1, data2 = data[pos], data[pos + 1]
            pos += 2
        else:  # program change, channel pressure
            data1, data2 = data[pos], 0
            pos += 1
        if data1 > 0x7F or data2 > 0x7F:
            raise UnsupportedMidiError(f"data byte over 127 before byte {pos}")
        events.append((tick, status, data1, data2))
    if pos != end:  # mido would go on reading past the chunk
        raise UnsupportedMidiError("last event runs past its track chunk")
    return events, tick


def _read_varlen(data: bytes, pos: int) -> tuple[int, int]:
    """Read a variable-length quantity; return it and the offset after it."""
    value = 0
    while True:
        byte = data[pos]
        pos += 1
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, pos


def _check_meta(meta_type: int, payload: bytes) -> None:
    """Refuse meta events that make mido raise."""
    if len(payload) < _META_MIN_LENGTH.get(meta_type, 0):
        raise UnsupportedMidiError(f"meta event 0x{meta_type:02x} too short")
    if len(payload) > _MAX_PAYLOAD:
        raise UnsupportedMidiError("meta event too long")
    if meta_type == 0x00 and len(payload) == 1:  # sequence number: 0 or 2 bytes
        raise UnsupportedMidiError("sequence number of one byte")
    if meta_type == 0x54 and (payload[0] >> 5 > 3 or payload[1] > 59 or payload[2] > 59
                              or payload[4] > 99):
        raise UnsupportedMidiError("invalid SMPTE offset")
    # mido's power-of-two test of the denominator fails from 2**29 on
    # (float rounding), and note_seq's int32 from 2**31.
    if meta_type == _META_TIME_SIGNATURE and payload[1] > 28:
        raise UnsupportedMidiError("time signature denominator too large")
    if meta_type == _META_KEY_SIGNATURE:
        sharps = payload[0] - 256 if payload[0] > 127 else payload[0]
        if not -7 <= sharps <= 7 or payload[1] not in (0, 1):
            raise UnsupportedMidiError("invalid key signature")


def _check_sysex(payload: bytes) -> None:
    """Refuse sysex events that make mido raise."""
    if len(payload) > _MAX_PAYLOAD:
        raise UnsupportedMidiError("sysex too long")
    # mido drops one leading F0 and one trailing F7, then wants 7-bit bytes.
    body = payload[1:] if payload[:1] == b"\xf0" else payload
    body = body[:-1] if body[-1:] == b"\xf7" else body
    if body and max(body) > 0x7F:
        raise UnsupportedMidiError("sysex data byte over 127")


class _TempoMap:
    """pretty_midi's tick -> seconds conversion, one entry per tempo change.

    Parameters
    ----------
    ticks_per_quarter : int
    meta_events : list of tuple
        Meta events of the first track, as :func:`_read_track` gives them.
    """

    def __init__(self, *, ticks_per_quarter: int, meta_events: list[tuple]):
        self._ticks_per_quarter = ticks_per_quarter
        # (tick, seconds per tick); pretty_midi's expressions, so the floats
        # round the same.
        scales = [(0, 60.0 / (120.0 * ticks_per_quarter))]
        for tick, _, meta_type, payload in meta_events:
            if meta_type != _META_TEMPO:
                continue
            microseconds = int.from_bytes(payload[:3], "big")
            if microseconds == 0:
                raise UnsupportedMidiError("tempo of 0 microseconds per quarter")
            scale = 60.0 / ((6e7 / microseconds) * ticks_per_quarter)
            if tick == 0:
                scales = [(0, scale)]
            elif scale != scales[-1][1]:
                scales.append((tick, scale))
        self._ticks = [tick for tick, _ in scales]
        self._scales = [scale for _, scale in scales]
        # Seconds at each change, summed interval by interval as pretty_midi
        # fills its array, so that every time is bit-identical.
        self._offsets = [0.0]
        for i in range(1, len(scales)):
            self._offsets.append(
                self._offsets[-1] + self._scales[i - 1] * (self._ticks[i] - self._ticks[i - 1]))

    def seconds(self, tick: int) -> float:
        """Time of ``tick`` in seconds."""
        i = bisect.bisect_right(self._ticks, tick) - 1
        return self._offsets[i] + self._scales[i] * (tick - self._ticks[i])

    def tempos(self) -> list[tuple[int, float]]:
        """The tempo changes as (tick, quarter notes per minute)."""
        return [(tick, 60.0 / (scale * self._ticks_per_quarter))
                for tick, scale in zip(self._ticks, self._scales)]


def _load_instruments(*, track_events: list[list[tuple]]) -> list[_Instrument]:
    """Gather notes, pitch bends and control changes into instruments.

    Parameters
    ----------
    track_events : list of list of tuple
        Each track's events, as :func:`_read_track` gives them.

    Returns
    -------
    list of _Instrument
        In pretty_midi's order; times still in ticks.
    """
    instruments = []
    for events in track_events:
        _load_track(events=events, instruments=instruments)
    return instruments


def _load_track(*, events: list[tuple], instruments: list[_Instrument]) -> None:
    """Append one track's new instruments to ``instruments``, in order made."""
    by_key = {}  # (program, channel) -> this track's _Instrument
    waiting = {}  # channel -> (pitch bends, control changes) with no instrument yet
    programs = [0] * 16
    sounding = {}  # (channel, pitch) -> [(start tick, velocity), ...]
    name = ""

    def instrument_of(channel: int) -> _Instrument:
        key = (programs[channel], channel)
        if key not in by_key:
            bends, controls = waiting.get(channel, ([], []))
            by_key[key] = _Instrument(programs[channel], channel, name, [], bends, controls)
            instruments.append(by_key[key])
        return by_key[key]

    def lists_of(channel: int) -> tuple[list, list]:
        instrument = by_key.get((programs[channel], channel))
        if instrument is None:
            return waiting.setdefault(channel, ([], []))
        return instrument.pitch_bends, instrument.control_changes

    for tick, status, data1, data2 in events:
        if status == 0xFF:
            if data1 == _META_TRACK_NAME:
                name = data2.decode("latin-1")  # the charset pretty_midi gives mido
            continue
        kind, channel = status & 0xF0, status & 0x0F
        if kind == 0x90 and data2 > 0:
            sounding.setdefault((channel, data1), []).append((tick, data2))
        elif kind == 0x80 or kind == 0x90:
            started = sounding.pop((channel, data1), None)
            if started is None:
                continue
            ending = [(on, tick, data1, velocity) for on, velocity in started if on != tick]
            if not ending:
                continue
            instrument_of(channel).notes.extend(ending)
            if len(ending) < len(started):
                sounding[(channel, data1)] = [s for s in started if s[0] == tick]
        elif kind == 0xC0:
            programs[channel] = data1
        elif kind == 0xB0:
            _, controls = lists_of(channel)
            controls.append((tick, data1, data2))
        elif kind == 0xE0:
            bends, _ = lists_of(channel)
            bends.append((tick, (data2 << 7 | data1) - 8192))
