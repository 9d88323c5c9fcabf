"""TFRecord files read and written without TensorFlow, interchangeable with TensorFlow's."""

import pytest

from gensuite.common.errors import InputFileError
from gensuite.common.tfrecord import read_records, write_records

RECORDS = [b"", b"one", bytes(range(256)) * 40]


def test_tensorflow_reads_what_we_write_and_we_read_what_it_writes(tmp_path):
    import tensorflow as tf

    ours = tmp_path / "ours.tfrecord"
    with open(ours, "wb") as f:
        assert write_records(f, RECORDS) == 3
    assert list(tf.data.TFRecordDataset(str(ours)).as_numpy_iterator()) == RECORDS
    theirs = tmp_path / "theirs.tfrecord"
    with tf.io.TFRecordWriter(str(theirs)) as writer:
        for record in RECORDS:
            writer.write(record)
    assert theirs.read_bytes() == ours.read_bytes()
    assert list(read_records(theirs)) == RECORDS


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_damaged_files_are_one_clear_error(tmp_path, damage):
    path = tmp_path / "x.tfrecord"
    with open(path, "wb") as f:
        write_records(f, RECORDS)
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[:-3]
    else:
        data[20] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(InputFileError, match="corrupt TFRecord"):
        list(read_records(path))
    with pytest.raises(InputFileError, match="no such file"):
        list(read_records(tmp_path / "missing.tfrecord"))
