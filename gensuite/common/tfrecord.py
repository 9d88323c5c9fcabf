"""TFRecord files without TensorFlow.

A TFRecord file is a run of records, each::

    uint64 length (little-endian) | uint32 masked CRC-32C of the length bytes
    data (length bytes)           | uint32 masked CRC-32C of the data

Reading and writing it here keeps the commands that only move MIDI data
(``data ingest``, evaluation from a TFRecord) from loading TensorFlow, which
costs seconds at start-up; the files are the ones ``tf.io.TFRecordWriter``
writes and ``tf.data.TFRecordDataset`` reads (a test checks both ways).

:func:`read_messages` also checks that every record is the protobuf message a
command expects, so a TFRecord of something else (NSynth examples where
NoteSequences belong, random bytes) fails on its first record with one line.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Iterator

import google_crc32c
from google.protobuf.message import DecodeError, Message

from gensuite.common.errors import InputFileError

_MASK_DELTA = 0xA282EAD8
_LENGTH = struct.Struct("<Q")
_CRC = struct.Struct("<I")
CORRUPT = "corrupt TFRecord (checksum mismatch or truncated)"


def masked_crc32c(data: bytes) -> int:
    """TFRecord's checksum: CRC-32C rotated right by 15 bits plus a constant."""
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def write_records(file, records: Iterable[bytes]) -> int:
    """Write ``records`` to an open binary file; returns how many."""
    n = 0
    for data in records:
        length = _LENGTH.pack(len(data))
        file.write(length + _CRC.pack(masked_crc32c(length)) + data
                   + _CRC.pack(masked_crc32c(data)))
        n += 1
    return n


def read_records(path: str | os.PathLike) -> Iterator[bytes]:
    """Yield the records of a TFRecord file, checking every checksum.

    Raises
    ------
    InputFileError
        If the file is missing, truncated, or a checksum does not match.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputFileError(path, "no such file")
    with open(path, "rb") as f:
        while header := f.read(12):
            if len(header) < 12:
                raise InputFileError(path, CORRUPT)
            length_bytes = header[:8]
            if _CRC.unpack(header[8:])[0] != masked_crc32c(length_bytes):
                raise InputFileError(path, CORRUPT)
            (length,) = _LENGTH.unpack(length_bytes)
            data = f.read(length)
            footer = f.read(4)
            if len(data) < length or len(footer) < 4:
                raise InputFileError(path, CORRUPT)
            if _CRC.unpack(footer)[0] != masked_crc32c(data):
                raise InputFileError(path, CORRUPT)
            yield data


def parse_message(data: bytes, message_type: type[Message]) -> Message:
    """``data`` parsed as ``message_type``, or ValueError saying why it is not one.

    Protobuf parsing is lenient: fields the type does not define are kept
    aside as unknown fields instead of being refused, so random bytes and
    other message types often parse. The rule is therefore: the bytes must
    parse, and no unknown field may be left at any depth (found by comparing
    the size with and without them, which holds for any writer's encoding).
    Short payloads of a few bytes can still pass as one scalar field; past
    about 30 random bytes passing is vanishingly rare.
    """
    try:
        message = message_type.FromString(data)
    except DecodeError as exc:
        # upb prefixes "Error parsing message with type '...'", which the
        # caller's rule already names.
        detail = str(exc).rsplit(": ", 1)[-1]
        raise ValueError(detail[:1].lower() + detail[1:]) from None
    known = message_type()
    known.CopyFrom(message)
    known.DiscardUnknownFields()
    n_unknown = message.ByteSize() - known.ByteSize()
    if n_unknown:
        raise ValueError(f"{n_unknown} of its {len(data)} bytes are unknown fields")
    return message


def read_messages(path: str | os.PathLike, message_type: type[Message]) -> Iterator[Message]:
    """Yield the records of a TFRecord file parsed as ``message_type``.

    Raises
    ------
    InputFileError
        Besides :func:`read_records`' cases: the file is empty ("is empty, not
        a NoteSequence TFRecord") or a record is not a ``message_type`` by
        :func:`parse_message`'s rule ("record 3 is not a NoteSequence (...)").
    """
    name = message_type.DESCRIPTOR.name
    index = -1
    for index, data in enumerate(read_records(path)):
        try:
            message = parse_message(data, message_type)
        except ValueError as exc:
            raise InputFileError(path, f"record {index} is not a {name} ({exc})") from None
        yield message
    if index < 0:
        raise InputFileError(path, f"is empty, not a {name} TFRecord")
