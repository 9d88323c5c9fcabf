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

import glob
import os
import re
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
        yield from iter_records(f, name=path)


def iter_records(f, *, name: str) -> Iterator[bytes]:
    """Yield the records of an open binary TFRecord stream; errors name ``name``."""
    while header := f.read(12):
        if len(header) < 12:
            raise InputFileError(name, CORRUPT)
        length_bytes = header[:8]
        if _CRC.unpack(header[8:])[0] != masked_crc32c(length_bytes):
            raise InputFileError(name, CORRUPT)
        (length,) = _LENGTH.unpack(length_bytes)
        data = f.read(length)
        footer = f.read(4)
        if len(data) < length or len(footer) < 4:
            raise InputFileError(name, CORRUPT)
        if _CRC.unpack(footer)[0] != masked_crc32c(data):
            raise InputFileError(name, CORRUPT)
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
    except DecodeError:
        # Not the library's words: protobuf 6 gives no reason, protobuf 7 does.
        raise ValueError("the bytes do not parse as one") from None
    known = message_type()
    known.CopyFrom(message)
    known.DiscardUnknownFields()
    n_unknown = message.ByteSize() - known.ByteSize()
    if n_unknown:
        raise ValueError(f"{n_unknown} of its {len(data)} bytes are unknown fields")
    return message


_SHARD = re.compile(r"-(\d{5})-of-(\d{5})$")


def expand_shards(path: str | os.PathLike) -> list[str]:
    """``[path]`` if it exists, else its shards ``PATH-00000-of-0000N`` in order.

    Sharded pipelines (``data ingest --num-shards N``) write the shards; every
    reader of a TFRecord takes the prefix. A path with neither is returned
    as is, for the reader to report missing.

    Raises
    ------
    InputFileError
        If some of the shards are missing.
    """
    path = os.fspath(path)
    if os.path.exists(path):
        return [path]
    shards = sorted(p for p in glob.glob(glob.escape(path) + "-*-of-*")
                    if _SHARD.search(p[len(path):]))
    if not shards:
        return [path]
    expected = int(_SHARD.search(shards[0]).group(2))
    if len(shards) != expected:
        raise InputFileError(path, f"has {len(shards)} of its {expected} shards "
                                   f"({os.path.basename(path)}-NNNNN-of-{expected:05d})")
    return shards


def read_messages(path: str | os.PathLike, message_type: type[Message]) -> Iterator[Message]:
    """Yield the records of a TFRecord file (or its shards) parsed as ``message_type``.

    Raises
    ------
    InputFileError
        Besides :func:`read_records`' and :func:`expand_shards`' cases: a file
        is empty ("is empty, not a NoteSequence TFRecord") or a record is not a
        ``message_type`` by :func:`parse_message`'s rule ("record 3 is not a
        NoteSequence (...)"). The error names the shard.
    """
    name = message_type.DESCRIPTOR.name
    for shard in expand_shards(path):
        index = -1
        for index, data in enumerate(read_records(shard)):
            try:
                message = parse_message(data, message_type)
            except ValueError as exc:
                raise InputFileError(shard, f"record {index} is not a {name} ({exc})") from None
            yield message
        if index < 0:
            raise InputFileError(shard, f"is empty, not a {name} TFRecord")
