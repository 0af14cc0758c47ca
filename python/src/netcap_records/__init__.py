"""Read netcap's ``.ncap.zst`` record files into protobuf messages, dicts or
pandas DataFrames.

    import netcap_records as ncr

    with ncr.open("out/TCP.ncap.zst") as f:
        print(f.header.source)
        for tcp in f:                      # netcap_pb2.TCP messages
            print(tcp.frame, tcp.src_port, tcp.dst_port)

    rows = ncr.read_dicts("out/DNS.ncap.zst")         # addresses as text
    df = ncr.read_dataframe("out/IPv4.ncap.zst")      # needs pandas
    everything = ncr.read_dir("out")                  # {"TCP": [...], ...}

The file format is docs/format.md of the netcap repository; the record
classes are generated from its ``proto/`` and importable as
``netcap_records.proto.netcap_pb2`` (and ``link_pb2``, ``application_pb2``,
``flow_pb2``, ``spot_pb2``, ``profile_pb2``, ``inventory_pb2``, ``detect_pb2``), or by name with :func:`message_class`.
"""

from __future__ import annotations

import os
from typing import Union

from .convert import address_kind, address_text, to_dataframe, to_dict, to_dicts
from .reader import (
    MAX_MESSAGE_LEN,
    CorruptError,
    RecordFile,
    RecordFileError,
    TruncatedError,
    open_records,
    read_header,
    read_messages,
    record_files,
)
from .schema import RECORD_TYPES, message_class

__version__ = "0.1.0"

__all__ = [
    "MAX_MESSAGE_LEN",
    "RECORD_TYPES",
    "CorruptError",
    "RecordFile",
    "RecordFileError",
    "TruncatedError",
    "address_kind",
    "address_text",
    "message_class",
    "open",
    "read_dataframe",
    "read_dicts",
    "read_dir",
    "read_header",
    "read_messages",
    "record_files",
    "to_dataframe",
    "to_dict",
    "to_dicts",
]

#: ``netcap_records.open(path)``: a :class:`RecordFile` (use it with ``with``).
open = open_records


def read_dicts(path, *, strict: bool = True, addresses: bool = True, enums: str = "name") -> list:
    """Every record of a file as a dict (see :func:`to_dict`)."""
    with RecordFile(path, strict=strict) as f:
        return to_dicts(f, addresses=addresses, enums=enums)


def read_dataframe(path, *, strict: bool = True, addresses: bool = True, enums: str = "name"):
    """Every record of a file as a pandas DataFrame (one column per field)."""
    with RecordFile(path, strict=strict) as f:
        return to_dataframe(f, message_class=f.message_class, addresses=addresses, enums=enums)


def read_dir(directory: Union[str, "os.PathLike[str]"], *, as_: str = "messages", strict: bool = True) -> dict:
    """Every record file of a capture's output directory, by message name:
    lists of messages (``as_="messages"``), lists of dicts (``"dicts"``) or
    DataFrames (``"dataframe"``)."""
    readers = {"messages": read_messages, "dicts": read_dicts, "dataframe": read_dataframe}
    if as_ not in readers:
        raise ValueError(f"as_ must be one of {sorted(readers)}")
    read = readers[as_]
    return {name: read(path, strict=strict) for name, path in record_files(directory).items()}
