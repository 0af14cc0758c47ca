"""Records as plain Python values: dicts and pandas DataFrames.

Addresses are bytes in the records (docs/format.md); by default they are
rendered as text the way ``netcap dump`` prints them: fields named ``ip`` or
ending in ``_ip``, ``_ips`` or ``_proto_addr`` as IP addresses (dotted quad,
RFC 5952 IPv6), fields named ``mac`` or ending in ``_mac``, ``_macs`` or ``_hw_addr`` as
colon-separated hex. Other bytes stay ``bytes``. Enums are names by default
(``"RECORD_TYPE_TCP"``), numbers with ``enums="number"``. Fields that are
not set (proto3 ``optional``, absent messages) are ``None``.
"""

from __future__ import annotations

import ipaddress
from typing import Iterable, Optional

from google.protobuf.descriptor import FieldDescriptor

_BYTES = FieldDescriptor.TYPE_BYTES
_ENUM = FieldDescriptor.TYPE_ENUM
_MESSAGE = FieldDescriptor.TYPE_MESSAGE


def address_kind(field_name: str) -> Optional[str]:
    """``"ip"``, ``"mac"`` or None: whether a bytes field holds addresses,
    by netcap's naming rule."""
    n = field_name
    if n == "ip" or n.endswith(("_ip", "_ips", "_proto_addr")):
        return "ip"
    if n == "mac" or n.endswith(("_mac", "_macs", "_hw_addr")):
        return "mac"
    return None


def address_text(kind: str, raw: bytes) -> str:
    """An address as ``netcap dump`` prints it."""
    if kind == "ip" and len(raw) == 4:
        return str(ipaddress.IPv4Address(raw))
    if kind == "ip" and len(raw) == 16:
        v6 = ipaddress.IPv6Address(raw)
        mapped = v6.ipv4_mapped
        if mapped is not None:
            # As Rust's Ipv6Addr (and Wireshark) print it, on any Python version.
            return f"::ffff:{mapped}"
        return v6.compressed
    return ":".join(f"{b:02x}" for b in raw)


def _is_repeated(field) -> bool:
    # protobuf >= 5 has is_repeated; label is deprecated there.
    flag = getattr(field, "is_repeated", None)
    if flag is not None:
        return flag
    return field.label == FieldDescriptor.LABEL_REPEATED


def _is_map(field) -> bool:
    return (
        field.type == _MESSAGE
        and field.message_type is not None
        and field.message_type.GetOptions().map_entry
    )


def _scalar(field, value, addresses: bool, enum_names: bool):
    if field.type == _BYTES:
        kind = address_kind(field.name) if addresses else None
        return address_text(kind, value) if kind else bytes(value)
    if field.type == _ENUM and enum_names:
        v = field.enum_type.values_by_number.get(value)
        return v.name if v is not None else value
    return value


def to_dict(message, *, addresses: bool = True, enums: str = "name") -> dict:
    """One record as a dict keyed by proto field names, every field present
    (unset optional fields and messages as None)."""
    if enums not in ("name", "number"):
        raise ValueError("enums must be 'name' or 'number'")
    return _to_dict(message, addresses, enums == "name")


def _to_dict(message, addresses: bool, enum_names: bool) -> dict:
    out = {}
    for field in message.DESCRIPTOR.fields:
        value = getattr(message, field.name)
        if _is_map(field):
            value_field = field.message_type.fields_by_name["value"]
            out[field.name] = {
                k: (_to_dict(v, addresses, enum_names) if value_field.type == _MESSAGE
                    else _scalar(value_field, v, addresses, enum_names))
                for k, v in value.items()
            }
        elif _is_repeated(field):
            if field.type == _MESSAGE:
                out[field.name] = [_to_dict(v, addresses, enum_names) for v in value]
            else:
                out[field.name] = [_scalar(field, v, addresses, enum_names) for v in value]
        elif field.has_presence and not message.HasField(field.name):
            out[field.name] = None
        elif field.type == _MESSAGE:
            out[field.name] = _to_dict(value, addresses, enum_names)
        else:
            out[field.name] = _scalar(field, value, addresses, enum_names)
    return out


def to_dicts(messages: Iterable, *, addresses: bool = True, enums: str = "name") -> list:
    """Records as dicts (see :func:`to_dict`)."""
    return [to_dict(m, addresses=addresses, enums=enums) for m in messages]


def to_dataframe(messages: Iterable, *, message_class=None, addresses: bool = True, enums: str = "name"):
    """Records as a pandas DataFrame, one row per record and one column per
    top-level field (nested messages and lists stay Python objects in their
    cells). Needs pandas (``pip install 'netcap-records[pandas]'``)."""
    try:
        import pandas as pd
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "netcap_records.to_dataframe needs pandas: pip install 'netcap-records[pandas]'"
        ) from e
    rows = to_dicts(messages, addresses=addresses, enums=enums)
    columns = None
    if message_class is not None:
        columns = [f.name for f in message_class.DESCRIPTOR.fields]
    elif rows:
        columns = list(rows[0])
    return pd.DataFrame.from_records(rows, columns=columns)
