from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class Alert(_message.Message):
    __slots__ = ("timestamp_ns", "frame", "connection_timestamp_ns", "src_ip", "dst_ip", "src_port", "dst_port", "ip_protocol", "community_id", "score", "threshold", "model", "features", "packets", "payload_bytes", "duration_ns")
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    SRC_IP_FIELD_NUMBER: _ClassVar[int]
    DST_IP_FIELD_NUMBER: _ClassVar[int]
    SRC_PORT_FIELD_NUMBER: _ClassVar[int]
    DST_PORT_FIELD_NUMBER: _ClassVar[int]
    IP_PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    PACKETS_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_BYTES_FIELD_NUMBER: _ClassVar[int]
    DURATION_NS_FIELD_NUMBER: _ClassVar[int]
    timestamp_ns: int
    frame: int
    connection_timestamp_ns: int
    src_ip: bytes
    dst_ip: bytes
    src_port: int
    dst_port: int
    ip_protocol: int
    community_id: str
    score: float
    threshold: float
    model: str
    features: _containers.RepeatedScalarFieldContainer[float]
    packets: int
    payload_bytes: int
    duration_ns: int
    def __init__(self, timestamp_ns: _Optional[int] = ..., frame: _Optional[int] = ..., connection_timestamp_ns: _Optional[int] = ..., src_ip: _Optional[bytes] = ..., dst_ip: _Optional[bytes] = ..., src_port: _Optional[int] = ..., dst_port: _Optional[int] = ..., ip_protocol: _Optional[int] = ..., community_id: _Optional[str] = ..., score: _Optional[float] = ..., threshold: _Optional[float] = ..., model: _Optional[str] = ..., features: _Optional[_Iterable[float]] = ..., packets: _Optional[int] = ..., payload_bytes: _Optional[int] = ..., duration_ns: _Optional[int] = ...) -> None: ...
