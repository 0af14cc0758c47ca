"""The record classes, gathered from the generated modules.

The protobuf classes are spread over ``netcap_pb2`` (header, foundation
records), ``link_pb2``, ``application_pb2``, ``flow_pb2``, ``spot_pb2``, ``profile_pb2``, ``inventory_pb2``
and ``detect_pb2``;
importing this module imports them all, so every record type resolves by
name.
"""

from __future__ import annotations

from google.protobuf import descriptor_pool, message_factory

from .proto import application_pb2, detect_pb2, flow_pb2, inventory_pb2, link_pb2, netcap_pb2, profile_pb2, spot_pb2

#: The generated modules, in dependency order.
MODULES = (netcap_pb2, link_pb2, application_pb2, flow_pb2, spot_pb2, profile_pb2, inventory_pb2, detect_pb2)

_PREFIX = "RECORD_TYPE_"


def _message_names() -> dict:
    """Record type enum name (without the prefix) -> message descriptor."""
    by_upper = {}
    for module in MODULES:
        for name, desc in module.DESCRIPTOR.message_types_by_name.items():
            by_upper[name.upper()] = desc
    out = {}
    for value in netcap_pb2.RecordType.DESCRIPTOR.values:
        short = value.name[len(_PREFIX) :]
        if short in by_upper:
            out[value.number] = by_upper[short]
    return out


_BY_NUMBER = _message_names()

#: Record types: enum number -> message name (``{6: "TCP", ...}``).
RECORD_TYPES = {number: desc.name for number, desc in sorted(_BY_NUMBER.items())}


def message_class(name: str):
    """The protobuf class of a record type, by message name (``"TCP"``,
    ``"netcap.TCP"``), record type enum name (``"RECORD_TYPE_TCP"``) or
    number."""
    if isinstance(name, int):
        desc = _BY_NUMBER.get(name)
        if desc is None:
            raise KeyError(f"no record type {name}")
        return message_factory.GetMessageClass(desc)
    if name.startswith(_PREFIX):
        return message_class(netcap_pb2.RecordType.Value(name))
    full = name if "." in name else f"netcap.{name}"
    try:
        desc = descriptor_pool.Default().FindMessageTypeByName(full)
    except KeyError:
        raise KeyError(f"no netcap message {name!r}") from None
    return message_factory.GetMessageClass(desc)


def message_class_of_header(header) -> type:
    """The record class a file's header names (its ``message_type``, else
    its ``record_type``)."""
    if header.message_type:
        try:
            return message_class(header.message_type)
        except KeyError:
            pass
    return message_class(int(header.record_type))
