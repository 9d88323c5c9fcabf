"""TFRecord files without TensorFlow.

A TFRecord file is a run of records, each::

    uint64 length (little-endian) | uint32 masked CRC-32C of the length bytes
    data (length bytes)           | uint32 masked CRC-32C of the data

Reading and writing it here keeps the commands that only move MIDI data
(``data ingest``, evaluation from a TFRecord) from loading TensorFlow, which
costs seconds at start-up; the files are the ones ``tf.io.TFRecordWriter``
writes and ``tf.data.TFRecordDataset`` reads (a test checks both ways).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Iterator

import google_crc32c

from gensuite.common.errors import InputFileError

_MASK_DELTA = 0xA282EAD8
_LENGTH = struct.Struct("<Q")
_CRC = struct.Struct("<I")


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
    corrupt = "corrupt TFRecord (checksum mismatch or truncated)"
    with open(path, "rb") as f:
        while header := f.read(12):
            if len(header) < 12:
                raise InputFileError(path, corrupt)
            length_bytes = header[:8]
            if _CRC.unpack(header[8:])[0] != masked_crc32c(length_bytes):
                raise InputFileError(path, corrupt)
            (length,) = _LENGTH.unpack(length_bytes)
            data = f.read(length)
            footer = f.read(4)
            if len(data) < length or len(footer) < 4:
                raise InputFileError(path, corrupt)
            if _CRC.unpack(footer)[0] != masked_crc32c(data):
                raise InputFileError(path, corrupt)
            yield data
