from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class SpotStat(_message.Message):
    __slots__ = ("timestamp_ns", "frame", "tick_ns", "stat", "value", "code", "excess_threshold", "anomaly_threshold", "low_excess_threshold", "low_anomaly_threshold", "probability", "drift", "packets")
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    TICK_NS_FIELD_NUMBER: _ClassVar[int]
    STAT_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    EXCESS_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    ANOMALY_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    LOW_EXCESS_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    LOW_ANOMALY_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    DRIFT_FIELD_NUMBER: _ClassVar[int]
    PACKETS_FIELD_NUMBER: _ClassVar[int]
    timestamp_ns: int
    frame: int
    tick_ns: int
    stat: str
    value: float
    code: int
    excess_threshold: float
    anomaly_threshold: float
    low_excess_threshold: float
    low_anomaly_threshold: float
    probability: float
    drift: float
    packets: int
    def __init__(self, timestamp_ns: _Optional[int] = ..., frame: _Optional[int] = ..., tick_ns: _Optional[int] = ..., stat: _Optional[str] = ..., value: _Optional[float] = ..., code: _Optional[int] = ..., excess_threshold: _Optional[float] = ..., anomaly_threshold: _Optional[float] = ..., low_excess_threshold: _Optional[float] = ..., low_anomaly_threshold: _Optional[float] = ..., probability: _Optional[float] = ..., drift: _Optional[float] = ..., packets: _Optional[int] = ...) -> None: ...
