"""Reading ``.ncap.zst`` record files (docs/format.md).

A file is a sequence of zstd frames; decompressed and concatenated, they hold
varint-length-delimited protobuf messages: a ``netcap.Header``, then records
of the one type the header names. A finished file ends with a zstd skippable
frame, netcap's end marker (``NCAPEND\\0`` and the record count).

Every frame is decompressed on its own (``zstandard``'s one-shot
``decompress()`` would stop after the first frame); frames that carry a
content checksum are verified by zstd. Every complete record is yielded
before an error is raised.
"""

from __future__ import annotations

import os
import struct
from typing import BinaryIO, Iterator, Optional, Union

import zstandard

from . import schema
from .proto import netcap_pb2

#: Largest record (or header) length accepted, as netcap's reader does.
MAX_MESSAGE_LEN = 64 << 20

_SKIPPABLE_MIN = 0x184D2A50
_SKIPPABLE_MAX = 0x184D2A5F
_END_MARKER_MAGIC = 0x184D2A5E
_END_MARKER_TAG = b"NCAPEND\0"
_READ_SIZE = 1 << 20

PathOrFile = Union[str, "os.PathLike[str]", BinaryIO]


class RecordFileError(Exception):
    """A record file that cannot be read completely; names the file."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path


class TruncatedError(RecordFileError):
    """The file ends inside a frame or record, or without netcap's end marker
    (its writer was interrupted)."""


class CorruptError(RecordFileError):
    """Damaged data: bad zstd data or checksum, an impossible length, a
    record that does not decode, an end marker with another record count."""


class RecordFile:
    """One ``<Type>.ncap.zst`` file: its :attr:`header`, then its records.

    Iterate to get the records as protobuf messages (instances of
    :attr:`message_class`); :meth:`raw` gives the undecoded bytes instead.
    ``strict`` (the default) raises :class:`TruncatedError` when the file
    lacks the end marker; with ``strict=False`` reading stops quietly there
    and :attr:`complete` says whether the marker was found.
    """

    def __init__(self, source: PathOrFile, *, strict: bool = True):
        if isinstance(source, (str, os.PathLike)):
            self.path = os.fspath(source)
            if os.path.isdir(self.path):
                raise IsADirectoryError(f"{self.path}: is a directory, not a record file")
            self._file: BinaryIO = open(self.path, "rb")
            self._owned = True
        else:
            self.path = getattr(source, "name", "<stream>")
            self._file = source
            self._owned = False
        self.strict = strict
        #: True once the end marker was read (and its count matched).
        self.complete = False
        #: Records read so far (the header excluded).
        self.records_read = 0
        self._messages = self._message_stream()
        header = next(self._messages, None)
        if header is None:
            self.close()
            raise TruncatedError(self.path, "no header: the file is empty or cut inside its first frame")
        try:
            self.header = netcap_pb2.Header.FromString(header)
        except Exception as e:  # protobuf's DecodeError, or worse on garbage
            self.close()
            raise CorruptError(self.path, f"not a netcap record file: the header does not decode ({e})") from e
        #: The protobuf class of the records (e.g. ``netcap_pb2.TCP``).
        try:
            self.message_class = schema.message_class_of_header(self.header)
        except KeyError:
            self.close()
            raise RecordFileError(
                self.path,
                f"unknown record type {self.header.record_type} ({self.header.message_type or 'no message type'}): "
                "written by a newer netcap?",
            ) from None

    # -- iteration ----------------------------------------------------------

    def raw(self) -> Iterator[bytes]:
        """The records' encoded bytes, one per record."""
        for message in self._messages:
            self.records_read += 1
            yield message

    def __iter__(self) -> Iterator:
        cls = self.message_class
        for data in self.raw():
            try:
                yield cls.FromString(data)
            except Exception as e:
                raise CorruptError(
                    self.path, f"record {self.records_read} does not decode as {cls.DESCRIPTOR.full_name}: {e}"
                ) from e

    # -- resources ----------------------------------------------------------

    def close(self) -> None:
        if self._owned:
            self._file.close()

    def __enter__(self) -> "RecordFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- the stream ---------------------------------------------------------

    def _message_stream(self) -> Iterator[bytes]:
        """Splits the decompressed stream into messages (header first)."""
        buf = bytearray()
        pos = 0
        index = 0  # messages yielded, the header included
        frames = self._decompressed_frames()
        for chunk in frames:
            if pos:
                del buf[:pos]
                pos = 0
            buf += chunk
            while True:
                parsed = _varint(buf, pos)
                if parsed is None:
                    break
                length, start = parsed
                if length > MAX_MESSAGE_LEN:
                    raise CorruptError(
                        self.path, f"record {index} has a length prefix of {length} bytes (over 64 MiB)"
                    )
                end = start + length
                if end > len(buf):
                    break
                yield bytes(buf[start:end])
                index += 1
                pos = end
        if pos < len(buf):
            raise TruncatedError(
                self.path,
                f"truncated: record {max(index, 1)} is incomplete "
                f"(the {max(index - 1, 0)} records before it were read)",
            )
        if self._end_count is None:
            if self.strict and index > 0:
                raise TruncatedError(
                    self.path,
                    f"truncated: the file ends after record {max(index - 1, 0)} without netcap's end marker "
                    "(its writer was interrupted)",
                )
            return
        if self._end_count != index - 1:
            raise CorruptError(
                self.path, f"the end marker counts {self._end_count} records, the file holds {index - 1}"
            )
        self.complete = True

    def _decompressed_frames(self) -> Iterator[bytes]:
        """Decompresses frame after frame; handles skippable frames (netcap's
        end marker) itself. Raises on a frame cut short or damaged."""
        self._end_count: Optional[int] = None
        dctx = zstandard.ZstdDecompressor()
        pending = b""
        offset = 0  # compressed offset of `pending`'s first byte
        frame_index = 0
        while True:
            if len(pending) < 8:
                more = self._file.read(_READ_SIZE)
                pending += more
                if not more and not pending:
                    return
            magic = struct.unpack_from("<I", pending)[0] if len(pending) >= 4 else None
            if magic is not None and _SKIPPABLE_MIN <= magic <= _SKIPPABLE_MAX:
                if len(pending) < 8:
                    raise TruncatedError(self.path, f"truncated: skippable frame at byte {offset} is cut short")
                size = struct.unpack_from("<I", pending, 4)[0]
                while len(pending) < 8 + size:
                    more = self._file.read(max(_READ_SIZE, 8 + size - len(pending)))
                    if not more:
                        raise TruncatedError(self.path, f"truncated: skippable frame at byte {offset} is cut short")
                    pending += more
                content = pending[8 : 8 + size]
                if magic == _END_MARKER_MAGIC and size == 16 and content[:8] == _END_MARKER_TAG:
                    self._end_count = struct.unpack_from("<Q", content, 8)[0]
                pending = pending[8 + size :]
                offset += 8 + size
                frame_index += 1
                continue
            if self._end_count is not None:
                raise CorruptError(self.path, f"data after the end marker at byte {offset}")
            frame_start = offset
            d = dctx.decompressobj()
            while not d.eof:
                if not pending:
                    pending = self._file.read(_READ_SIZE)
                    if not pending:
                        raise TruncatedError(
                            self.path,
                            f"truncated: frame {frame_index} (at byte {frame_start}) is cut short",
                        )
                try:
                    out = d.decompress(pending)
                except zstandard.ZstdError as e:
                    raise CorruptError(
                        self.path, f"corrupt frame {frame_index} (at byte {frame_start}): {e}"
                    ) from e
                if d.eof:
                    rest = d.unused_data
                    offset += len(pending) - len(rest)
                    pending = rest
                else:
                    offset += len(pending)
                    pending = b""
                if out:
                    yield out
            frame_index += 1


def _varint(buf: bytearray, pos: int):
    """An unsigned LEB128 varint at ``buf[pos:]``: (value, position after
    it), or None if the buffer ends inside it."""
    value = 0
    shift = 0
    for i in range(pos, min(len(buf), pos + 10)):
        b = buf[i]
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i + 1
        shift += 7
    if len(buf) - pos >= 10:
        return MAX_MESSAGE_LEN + 1, pos + 10  # overlong: reported as too large
    return None


def open_records(source: PathOrFile, *, strict: bool = True) -> RecordFile:
    """Opens a record file (a path or a binary file object)."""
    return RecordFile(source, strict=strict)


def read_header(source: PathOrFile):
    """The ``netcap.Header`` of a record file."""
    with RecordFile(source, strict=False) as f:
        return f.header


def read_messages(source: PathOrFile, *, strict: bool = True) -> list:
    """Every record of a file as protobuf messages."""
    with RecordFile(source, strict=strict) as f:
        return list(f)


def record_files(directory: Union[str, "os.PathLike[str]"]) -> dict:
    """The record files of a capture's output directory, by message name
    (``{"TCP": ".../TCP.ncap.zst", ...}``), sorted by name."""
    directory = os.fspath(directory)
    found = {}
    for name in sorted(os.listdir(directory)):
        if name.endswith(".ncap.zst"):
            found[name[: -len(".ncap.zst")]] = os.path.join(directory, name)
    return found

