from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class Software(_message.Message):
    __slots__ = ("timestamp_ns", "frame", "last_seen_ns", "ip", "host_p", "software_type", "name", "version", "version_major", "version_minor", "version_minor2", "version_minor3", "version_addl", "unparsed_version", "source", "connections", "community_id")
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_NS_FIELD_NUMBER: _ClassVar[int]
    IP_FIELD_NUMBER: _ClassVar[int]
    HOST_P_FIELD_NUMBER: _ClassVar[int]
    SOFTWARE_TYPE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    VERSION_MAJOR_FIELD_NUMBER: _ClassVar[int]
    VERSION_MINOR_FIELD_NUMBER: _ClassVar[int]
    VERSION_MINOR2_FIELD_NUMBER: _ClassVar[int]
    VERSION_MINOR3_FIELD_NUMBER: _ClassVar[int]
    VERSION_ADDL_FIELD_NUMBER: _ClassVar[int]
    UNPARSED_VERSION_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    timestamp_ns: int
    frame: int
    last_seen_ns: int
    ip: bytes
    host_p: int
    software_type: str
    name: str
    version: str
    version_major: int
    version_minor: int
    version_minor2: int
    version_minor3: int
    version_addl: str
    unparsed_version: str
    source: str
    connections: int
    community_id: str
    def __init__(self, timestamp_ns: _Optional[int] = ..., frame: _Optional[int] = ..., last_seen_ns: _Optional[int] = ..., ip: _Optional[bytes] = ..., host_p: _Optional[int] = ..., software_type: _Optional[str] = ..., name: _Optional[str] = ..., version: _Optional[str] = ..., version_major: _Optional[int] = ..., version_minor: _Optional[int] = ..., version_minor2: _Optional[int] = ..., version_minor3: _Optional[int] = ..., version_addl: _Optional[str] = ..., unparsed_version: _Optional[str] = ..., source: _Optional[str] = ..., connections: _Optional[int] = ..., community_id: _Optional[str] = ...) -> None: ...

class Service(_message.Message):
    __slots__ = ("timestamp_ns", "frame", "last_seen_ns", "ip", "port_num", "port_proto", "service", "banner", "product", "version", "connections", "client_packets", "client_bytes", "server_packets", "server_bytes", "clients", "community_id")
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_NS_FIELD_NUMBER: _ClassVar[int]
    IP_FIELD_NUMBER: _ClassVar[int]
    PORT_NUM_FIELD_NUMBER: _ClassVar[int]
    PORT_PROTO_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    BANNER_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    CLIENT_PACKETS_FIELD_NUMBER: _ClassVar[int]
    CLIENT_BYTES_FIELD_NUMBER: _ClassVar[int]
    SERVER_PACKETS_FIELD_NUMBER: _ClassVar[int]
    SERVER_BYTES_FIELD_NUMBER: _ClassVar[int]
    CLIENTS_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    timestamp_ns: int
    frame: int
    last_seen_ns: int
    ip: bytes
    port_num: int
    port_proto: str
    service: _containers.RepeatedScalarFieldContainer[str]
    banner: str
    product: str
    version: str
    connections: int
    client_packets: int
    client_bytes: int
    server_packets: int
    server_bytes: int
    clients: int
    community_id: str
    def __init__(self, timestamp_ns: _Optional[int] = ..., frame: _Optional[int] = ..., last_seen_ns: _Optional[int] = ..., ip: _Optional[bytes] = ..., port_num: _Optional[int] = ..., port_proto: _Optional[str] = ..., service: _Optional[_Iterable[str]] = ..., banner: _Optional[str] = ..., product: _Optional[str] = ..., version: _Optional[str] = ..., connections: _Optional[int] = ..., client_packets: _Optional[int] = ..., client_bytes: _Optional[int] = ..., server_packets: _Optional[int] = ..., server_bytes: _Optional[int] = ..., clients: _Optional[int] = ..., community_id: _Optional[str] = ...) -> None: ...
