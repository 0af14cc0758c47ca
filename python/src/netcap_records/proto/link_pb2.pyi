from . import netcap_pb2 as _netcap_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LLC(_message.Message):
    __slots__ = ("timestamp_ns", "frame", "dsap", "ssap", "control", "tunnel")
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    DSAP_FIELD_NUMBER: _ClassVar[int]
    SSAP_FIELD_NUMBER: _ClassVar[int]
    CONTROL_FIELD_NUMBER: _ClassVar[int]
    TUNNEL_FIELD_NUMBER: _ClassVar[int]
    timestamp_ns: int
    frame: int
    dsap: int
    ssap: int
    control: int
    tunnel: _netcap_pb2.Tunnel
    def __init__(self, timestamp_ns: _Optional[int] = ..., frame: _Optional[int] = ..., dsap: _Optional[int] = ..., ssap: _Optional[int] = ..., control: _Optional[int] = ..., tunnel: _Optional[_Union[_netcap_pb2.Tunnel, _Mapping]] = ...) -> None: ...

class SNAP(_message.Message):
    __slots__ = ("timestamp_ns", "frame", "oui", "protocol_id", "tunnel")
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    OUI_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_ID_FIELD_NUMBER: _ClassVar[int]
    TUNNEL_FIELD_NUMBER: _ClassVar[int]
    timestamp_ns: int
    frame: int
    oui: int
    protocol_id: int
    tunnel: _netcap_pb2.Tunnel
    def __init__(self, timestamp_ns: _Optional[int] = ..., frame: _Optional[int] = ..., oui: _Optional[int] = ..., protocol_id: _Optional[int] = ..., tunnel: _Optional[_Union[_netcap_pb2.Tunnel, _Mapping]] = ...) -> None: ...

class STP(_message.Message):
    __slots__ = ("timestamp_ns", "frame", "protocol_id", "version", "bpdu_type", "flags", "root_priority", "root_system_id_extension", "root_mac", "root_path_cost", "bridge_priority", "bridge_system_id_extension", "bridge_mac", "port_id", "message_age", "max_age", "hello_time", "forward_delay", "tunnel")
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    BPDU_TYPE_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    ROOT_PRIORITY_FIELD_NUMBER: _ClassVar[int]
    ROOT_SYSTEM_ID_EXTENSION_FIELD_NUMBER: _ClassVar[int]
    ROOT_MAC_FIELD_NUMBER: _ClassVar[int]
    ROOT_PATH_COST_FIELD_NUMBER: _ClassVar[int]
    BRIDGE_PRIORITY_FIELD_NUMBER: _ClassVar[int]
    BRIDGE_SYSTEM_ID_EXTENSION_FIELD_NUMBER: _ClassVar[int]
    BRIDGE_MAC_FIELD_NUMBER: _ClassVar[int]
    PORT_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_AGE_FIELD_NUMBER: _ClassVar[int]
    MAX_AGE_FIELD_NUMBER: _ClassVar[int]
    HELLO_TIME_FIELD_NUMBER: _ClassVar[int]
    FORWARD_DELAY_FIELD_NUMBER: _ClassVar[int]
    TUNNEL_FIELD_NUMBER: _ClassVar[int]
    timestamp_ns: int
    frame: int
    protocol_id: int
    version: int
    bpdu_type: int
    flags: int
    root_priority: int
    root_system_id_extension: int
    root_mac: bytes
    root_path_cost: int
    bridge_priority: int
    bridge_system_id_extension: int
    bridge_mac: bytes
    port_id: int
    message_age: int
    max_age: int
    hello_time: int
    forward_delay: int
    tunnel: _netcap_pb2.Tunnel
    def __init__(self, timestamp_ns: _Optional[int] = ..., frame: _Optional[int] = ..., protocol_id: _Optional[int] = ..., version: _Optional[int] = ..., bpdu_type: _Optional[int] = ..., flags: _Optional[int] = ..., root_priority: _Optional[int] = ..., root_system_id_extension: _Optional[int] = ..., root_mac: _Optional[bytes] = ..., root_path_cost: _Optional[int] = ..., bridge_priority: _Optional[int] = ..., bridge_system_id_extension: _Optional[int] = ..., bridge_mac: _Optional[bytes] = ..., port_id: _Optional[int] = ..., message_age: _Optional[int] = ..., max_age: _Optional[int] = ..., hello_time: _Optional[int] = ..., forward_delay: _Optional[int] = ..., tunnel: _Optional[_Union[_netcap_pb2.Tunnel, _Mapping]] = ...) -> None: ...

class LLDPTLV(_message.Message):
    __slots__ = ("type", "value")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    type: int
    value: bytes
    def __init__(self, type: _Optional[int] = ..., value: _Optional[bytes] = ...) -> None: ...

class LLDP(_message.Message):
    __slots__ = ("timestamp_ns", "frame", "chassis_id_subtype", "chassis_mac", "chassis_ip", "chassis_id", "port_id_subtype", "port_mac", "port_ip", "port_id", "ttl", "port_description", "system_name", "system_description", "capabilities", "enabled_capabilities", "management_ips", "other_tlvs", "tunnel")
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    CHASSIS_ID_SUBTYPE_FIELD_NUMBER: _ClassVar[int]
    CHASSIS_MAC_FIELD_NUMBER: _ClassVar[int]
    CHASSIS_IP_FIELD_NUMBER: _ClassVar[int]
    CHASSIS_ID_FIELD_NUMBER: _ClassVar[int]
    PORT_ID_SUBTYPE_FIELD_NUMBER: _ClassVar[int]
    PORT_MAC_FIELD_NUMBER: _ClassVar[int]
    PORT_IP_FIELD_NUMBER: _ClassVar[int]
    PORT_ID_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    PORT_DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_NAME_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    ENABLED_CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    MANAGEMENT_IPS_FIELD_NUMBER: _ClassVar[int]
    OTHER_TLVS_FIELD_NUMBER: _ClassVar[int]
    TUNNEL_FIELD_NUMBER: _ClassVar[int]
    timestamp_ns: int
    frame: int
    chassis_id_subtype: int
    chassis_mac: bytes
    chassis_ip: bytes
    chassis_id: str
    port_id_subtype: int
    port_mac: bytes
    port_ip: bytes
    port_id: str
    ttl: int
    port_description: str
    system_name: str
    system_description: str
    capabilities: int
    enabled_capabilities: int
    management_ips: _containers.RepeatedScalarFieldContainer[bytes]
    other_tlvs: _containers.RepeatedCompositeFieldContainer[LLDPTLV]
    tunnel: _netcap_pb2.Tunnel
    def __init__(self, timestamp_ns: _Optional[int] = ..., frame: _Optional[int] = ..., chassis_id_subtype: _Optional[int] = ..., chassis_mac: _Optional[bytes] = ..., chassis_ip: _Optional[bytes] = ..., chassis_id: _Optional[str] = ..., port_id_subtype: _Optional[int] = ..., port_mac: _Optional[bytes] = ..., port_ip: _Optional[bytes] = ..., port_id: _Optional[str] = ..., ttl: _Optional[int] = ..., port_description: _Optional[str] = ..., system_name: _Optional[str] = ..., system_description: _Optional[str] = ..., capabilities: _Optional[int] = ..., enabled_capabilities: _Optional[int] = ..., management_ips: _Optional[_Iterable[bytes]] = ..., other_tlvs: _Optional[_Iterable[_Union[LLDPTLV, _Mapping]]] = ..., tunnel: _Optional[_Union[_netcap_pb2.Tunnel, _Mapping]] = ...) -> None: ...

class CDP(_message.Message):
    __slots__ = ("timestamp_ns", "frame", "version", "ttl", "checksum", "device_id", "device_ips", "port_id", "capabilities", "software_version", "platform", "vtp_domain", "native_vlan", "duplex", "tlv_types", "tunnel")
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    CHECKSUM_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_IPS_FIELD_NUMBER: _ClassVar[int]
    PORT_ID_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    SOFTWARE_VERSION_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    VTP_DOMAIN_FIELD_NUMBER: _ClassVar[int]
    NATIVE_VLAN_FIELD_NUMBER: _ClassVar[int]
    DUPLEX_FIELD_NUMBER: _ClassVar[int]
    TLV_TYPES_FIELD_NUMBER: _ClassVar[int]
    TUNNEL_FIELD_NUMBER: _ClassVar[int]
    timestamp_ns: int
    frame: int
    version: int
    ttl: int
    checksum: int
    device_id: str
    device_ips: _containers.RepeatedScalarFieldContainer[bytes]
    port_id: str
    capabilities: int
    software_version: str
    platform: str
    vtp_domain: str
    native_vlan: int
    duplex: int
    tlv_types: _containers.RepeatedScalarFieldContainer[int]
    tunnel: _netcap_pb2.Tunnel
    def __init__(self, timestamp_ns: _Optional[int] = ..., frame: _Optional[int] = ..., version: _Optional[int] = ..., ttl: _Optional[int] = ..., checksum: _Optional[int] = ..., device_id: _Optional[str] = ..., device_ips: _Optional[_Iterable[bytes]] = ..., port_id: _Optional[str] = ..., capabilities: _Optional[int] = ..., software_version: _Optional[str] = ..., platform: _Optional[str] = ..., vtp_domain: _Optional[str] = ..., native_vlan: _Optional[int] = ..., duplex: _Optional[int] = ..., tlv_types: _Optional[_Iterable[int]] = ..., tunnel: _Optional[_Union[_netcap_pb2.Tunnel, _Mapping]] = ...) -> None: ...

class EAP(_message.Message):
    __slots__ = ("timestamp_ns", "frame", "code", "id", "length", "type", "identity", "tunnel")
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    TUNNEL_FIELD_NUMBER: _ClassVar[int]
    timestamp_ns: int
    frame: int
    code: int
    id: int
    length: int
    type: int
    identity: str
    tunnel: _netcap_pb2.Tunnel
    def __init__(self, timestamp_ns: _Optional[int] = ..., frame: _Optional[int] = ..., code: _Optional[int] = ..., id: _Optional[int] = ..., length: _Optional[int] = ..., type: _Optional[int] = ..., identity: _Optional[str] = ..., tunnel: _Optional[_Union[_netcap_pb2.Tunnel, _Mapping]] = ...) -> None: ...

class EAPOL(_message.Message):
    __slots__ = ("timestamp_ns", "frame", "version", "type", "length", "key_descriptor_type", "key_info", "key_length", "replay_counter", "key_nonce", "key_mic", "key_data_length", "tunnel")
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    KEY_DESCRIPTOR_TYPE_FIELD_NUMBER: _ClassVar[int]
    KEY_INFO_FIELD_NUMBER: _ClassVar[int]
    KEY_LENGTH_FIELD_NUMBER: _ClassVar[int]
    REPLAY_COUNTER_FIELD_NUMBER: _ClassVar[int]
    KEY_NONCE_FIELD_NUMBER: _ClassVar[int]
    KEY_MIC_FIELD_NUMBER: _ClassVar[int]
    KEY_DATA_LENGTH_FIELD_NUMBER: _ClassVar[int]
    TUNNEL_FIELD_NUMBER: _ClassVar[int]
    timestamp_ns: int
    frame: int
    version: int
    type: int
    length: int
    key_descriptor_type: int
    key_info: int
    key_length: int
    replay_counter: int
    key_nonce: bytes
    key_mic: bytes
    key_data_length: int
    tunnel: _netcap_pb2.Tunnel
    def __init__(self, timestamp_ns: _Optional[int] = ..., frame: _Optional[int] = ..., version: _Optional[int] = ..., type: _Optional[int] = ..., length: _Optional[int] = ..., key_descriptor_type: _Optional[int] = ..., key_info: _Optional[int] = ..., key_length: _Optional[int] = ..., replay_counter: _Optional[int] = ..., key_nonce: _Optional[bytes] = ..., key_mic: _Optional[bytes] = ..., key_data_length: _Optional[int] = ..., tunnel: _Optional[_Union[_netcap_pb2.Tunnel, _Mapping]] = ...) -> None: ...

class Dot11(_message.Message):
    __slots__ = ("timestamp_ns", "frame", "type", "subtype", "flags", "duration_id", "address1_mac", "address2_mac", "address3_mac", "address4_mac", "sequence_number", "fragment_number", "ssid", "beacon_interval", "capabilities", "channel_frequency", "signal_dbm", "noise_dbm", "data_rate", "radiotap_present", "tunnel")
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SUBTYPE_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    DURATION_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS1_MAC_FIELD_NUMBER: _ClassVar[int]
    ADDRESS2_MAC_FIELD_NUMBER: _ClassVar[int]
    ADDRESS3_MAC_FIELD_NUMBER: _ClassVar[int]
    ADDRESS4_MAC_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    FRAGMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    SSID_FIELD_NUMBER: _ClassVar[int]
    BEACON_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FREQUENCY_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_DBM_FIELD_NUMBER: _ClassVar[int]
    NOISE_DBM_FIELD_NUMBER: _ClassVar[int]
    DATA_RATE_FIELD_NUMBER: _ClassVar[int]
    RADIOTAP_PRESENT_FIELD_NUMBER: _ClassVar[int]
    TUNNEL_FIELD_NUMBER: _ClassVar[int]
    timestamp_ns: int
    frame: int
    type: int
    subtype: int
    flags: int
    duration_id: int
    address1_mac: bytes
    address2_mac: bytes
    address3_mac: bytes
    address4_mac: bytes
    sequence_number: int
    fragment_number: int
    ssid: str
    beacon_interval: int
    capabilities: int
    channel_frequency: int
    signal_dbm: int
    noise_dbm: int
    data_rate: int
    radiotap_present: int
    tunnel: _netcap_pb2.Tunnel
    def __init__(self, timestamp_ns: _Optional[int] = ..., frame: _Optional[int] = ..., type: _Optional[int] = ..., subtype: _Optional[int] = ..., flags: _Optional[int] = ..., duration_id: _Optional[int] = ..., address1_mac: _Optional[bytes] = ..., address2_mac: _Optional[bytes] = ..., address3_mac: _Optional[bytes] = ..., address4_mac: _Optional[bytes] = ..., sequence_number: _Optional[int] = ..., fragment_number: _Optional[int] = ..., ssid: _Optional[str] = ..., beacon_interval: _Optional[int] = ..., capabilities: _Optional[int] = ..., channel_frequency: _Optional[int] = ..., signal_dbm: _Optional[int] = ..., noise_dbm: _Optional[int] = ..., data_rate: _Optional[int] = ..., radiotap_present: _Optional[int] = ..., tunnel: _Optional[_Union[_netcap_pb2.Tunnel, _Mapping]] = ...) -> None: ...

class MPLS(_message.Message):
    __slots__ = ("timestamp_ns", "frame", "index", "label", "traffic_class", "bottom_of_stack", "ttl", "tunnel")
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    TRAFFIC_CLASS_FIELD_NUMBER: _ClassVar[int]
    BOTTOM_OF_STACK_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    TUNNEL_FIELD_NUMBER: _ClassVar[int]
    timestamp_ns: int
    frame: int
    index: int
    label: int
    traffic_class: int
    bottom_of_stack: bool
    ttl: int
    tunnel: _netcap_pb2.Tunnel
    def __init__(self, timestamp_ns: _Optional[int] = ..., frame: _Optional[int] = ..., index: _Optional[int] = ..., label: _Optional[int] = ..., traffic_class: _Optional[int] = ..., bottom_of_stack: _Optional[bool] = ..., ttl: _Optional[int] = ..., tunnel: _Optional[_Union[_netcap_pb2.Tunnel, _Mapping]] = ...) -> None: ...

class PPPoE(_message.Message):
    __slots__ = ("timestamp_ns", "frame", "version", "type", "code", "session_id", "length", "ppp_protocol", "service_name", "ac_name", "tag_types", "tunnel")
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    PPP_PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    SERVICE_NAME_FIELD_NUMBER: _ClassVar[int]
    AC_NAME_FIELD_NUMBER: _ClassVar[int]
    TAG_TYPES_FIELD_NUMBER: _ClassVar[int]
    TUNNEL_FIELD_NUMBER: _ClassVar[int]
    timestamp_ns: int
    frame: int
    version: int
    type: int
    code: int
    session_id: int
    length: int
    ppp_protocol: int
    service_name: str
    ac_name: str
    tag_types: _containers.RepeatedScalarFieldContainer[int]
    tunnel: _netcap_pb2.Tunnel
    def __init__(self, timestamp_ns: _Optional[int] = ..., frame: _Optional[int] = ..., version: _Optional[int] = ..., type: _Optional[int] = ..., code: _Optional[int] = ..., session_id: _Optional[int] = ..., length: _Optional[int] = ..., ppp_protocol: _Optional[int] = ..., service_name: _Optional[str] = ..., ac_name: _Optional[str] = ..., tag_types: _Optional[_Iterable[int]] = ..., tunnel: _Optional[_Union[_netcap_pb2.Tunnel, _Mapping]] = ...) -> None: ...

class IGMPGroupRecord(_message.Message):
    __slots__ = ("type", "aux_data_length", "multicast_ip", "source_ips")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    AUX_DATA_LENGTH_FIELD_NUMBER: _ClassVar[int]
    MULTICAST_IP_FIELD_NUMBER: _ClassVar[int]
    SOURCE_IPS_FIELD_NUMBER: _ClassVar[int]
    type: int
    aux_data_length: int
    multicast_ip: bytes
    source_ips: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, type: _Optional[int] = ..., aux_data_length: _Optional[int] = ..., multicast_ip: _Optional[bytes] = ..., source_ips: _Optional[_Iterable[bytes]] = ...) -> None: ...

class IGMP(_message.Message):
    __slots__ = ("timestamp_ns", "frame", "src_ip", "dst_ip", "version", "type", "max_response_time", "checksum", "group_ip", "suppress", "robustness", "query_interval", "source_ips", "group_records", "community_id", "tunnel")
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    SRC_IP_FIELD_NUMBER: _ClassVar[int]
    DST_IP_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    MAX_RESPONSE_TIME_FIELD_NUMBER: _ClassVar[int]
    CHECKSUM_FIELD_NUMBER: _ClassVar[int]
    GROUP_IP_FIELD_NUMBER: _ClassVar[int]
    SUPPRESS_FIELD_NUMBER: _ClassVar[int]
    ROBUSTNESS_FIELD_NUMBER: _ClassVar[int]
    QUERY_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    SOURCE_IPS_FIELD_NUMBER: _ClassVar[int]
    GROUP_RECORDS_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    TUNNEL_FIELD_NUMBER: _ClassVar[int]
    timestamp_ns: int
    frame: int
    src_ip: bytes
    dst_ip: bytes
    version: int
    type: int
    max_response_time: int
    checksum: int
    group_ip: bytes
    suppress: bool
    robustness: int
    query_interval: int
    source_ips: _containers.RepeatedScalarFieldContainer[bytes]
    group_records: _containers.RepeatedCompositeFieldContainer[IGMPGroupRecord]
    community_id: str
    tunnel: _netcap_pb2.Tunnel
    def __init__(self, timestamp_ns: _Optional[int] = ..., frame: _Optional[int] = ..., src_ip: _Optional[bytes] = ..., dst_ip: _Optional[bytes] = ..., version: _Optional[int] = ..., type: _Optional[int] = ..., max_response_time: _Optional[int] = ..., checksum: _Optional[int] = ..., group_ip: _Optional[bytes] = ..., suppress: _Optional[bool] = ..., robustness: _Optional[int] = ..., query_interval: _Optional[int] = ..., source_ips: _Optional[_Iterable[bytes]] = ..., group_records: _Optional[_Iterable[_Union[IGMPGroupRecord, _Mapping]]] = ..., community_id: _Optional[str] = ..., tunnel: _Optional[_Union[_netcap_pb2.Tunnel, _Mapping]] = ...) -> None: ...

class NDPOption(_message.Message):
    __slots__ = ("type", "length", "link_layer_mac", "prefix_ip", "prefix_length", "prefix_flags", "valid_lifetime", "preferred_lifetime", "mtu", "dns_server_ips")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    LINK_LAYER_MAC_FIELD_NUMBER: _ClassVar[int]
    PREFIX_IP_FIELD_NUMBER: _ClassVar[int]
    PREFIX_LENGTH_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FLAGS_FIELD_NUMBER: _ClassVar[int]
    VALID_LIFETIME_FIELD_NUMBER: _ClassVar[int]
    PREFERRED_LIFETIME_FIELD_NUMBER: _ClassVar[int]
    MTU_FIELD_NUMBER: _ClassVar[int]
    DNS_SERVER_IPS_FIELD_NUMBER: _ClassVar[int]
    type: int
    length: int
    link_layer_mac: bytes
    prefix_ip: bytes
    prefix_length: int
    prefix_flags: int
    valid_lifetime: int
    preferred_lifetime: int
    mtu: int
    dns_server_ips: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, type: _Optional[int] = ..., length: _Optional[int] = ..., link_layer_mac: _Optional[bytes] = ..., prefix_ip: _Optional[bytes] = ..., prefix_length: _Optional[int] = ..., prefix_flags: _Optional[int] = ..., valid_lifetime: _Optional[int] = ..., preferred_lifetime: _Optional[int] = ..., mtu: _Optional[int] = ..., dns_server_ips: _Optional[_Iterable[bytes]] = ...) -> None: ...

class ICMPv6NDP(_message.Message):
    __slots__ = ("timestamp_ns", "frame", "src_ip", "dst_ip", "type", "code", "hop_limit", "flags", "router_lifetime", "reachable_time", "retrans_timer", "router", "solicited", "override", "target_ip", "destination_ip", "options", "community_id", "tunnel")
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    SRC_IP_FIELD_NUMBER: _ClassVar[int]
    DST_IP_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    HOP_LIMIT_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    ROUTER_LIFETIME_FIELD_NUMBER: _ClassVar[int]
    REACHABLE_TIME_FIELD_NUMBER: _ClassVar[int]
    RETRANS_TIMER_FIELD_NUMBER: _ClassVar[int]
    ROUTER_FIELD_NUMBER: _ClassVar[int]
    SOLICITED_FIELD_NUMBER: _ClassVar[int]
    OVERRIDE_FIELD_NUMBER: _ClassVar[int]
    TARGET_IP_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_IP_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    TUNNEL_FIELD_NUMBER: _ClassVar[int]
    timestamp_ns: int
    frame: int
    src_ip: bytes
    dst_ip: bytes
    type: int
    code: int
    hop_limit: int
    flags: int
    router_lifetime: int
    reachable_time: int
    retrans_timer: int
    router: bool
    solicited: bool
    override: bool
    target_ip: bytes
    destination_ip: bytes
    options: _containers.RepeatedCompositeFieldContainer[NDPOption]
    community_id: str
    tunnel: _netcap_pb2.Tunnel
    def __init__(self, timestamp_ns: _Optional[int] = ..., frame: _Optional[int] = ..., src_ip: _Optional[bytes] = ..., dst_ip: _Optional[bytes] = ..., type: _Optional[int] = ..., code: _Optional[int] = ..., hop_limit: _Optional[int] = ..., flags: _Optional[int] = ..., router_lifetime: _Optional[int] = ..., reachable_time: _Optional[int] = ..., retrans_timer: _Optional[int] = ..., router: _Optional[bool] = ..., solicited: _Optional[bool] = ..., override: _Optional[bool] = ..., target_ip: _Optional[bytes] = ..., destination_ip: _Optional[bytes] = ..., options: _Optional[_Iterable[_Union[NDPOption, _Mapping]]] = ..., community_id: _Optional[str] = ..., tunnel: _Optional[_Union[_netcap_pb2.Tunnel, _Mapping]] = ...) -> None: ...

class MLDAddressRecord(_message.Message):
    __slots__ = ("type", "aux_data_length", "multicast_ip", "source_ips")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    AUX_DATA_LENGTH_FIELD_NUMBER: _ClassVar[int]
    MULTICAST_IP_FIELD_NUMBER: _ClassVar[int]
    SOURCE_IPS_FIELD_NUMBER: _ClassVar[int]
    type: int
    aux_data_length: int
    multicast_ip: bytes
    source_ips: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, type: _Optional[int] = ..., aux_data_length: _Optional[int] = ..., multicast_ip: _Optional[bytes] = ..., source_ips: _Optional[_Iterable[bytes]] = ...) -> None: ...

class MLD(_message.Message):
    __slots__ = ("timestamp_ns", "frame", "src_ip", "dst_ip", "type", "code", "version", "max_response_delay", "multicast_ip", "suppress", "robustness", "query_interval", "source_ips", "address_records", "community_id", "tunnel")
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    SRC_IP_FIELD_NUMBER: _ClassVar[int]
    DST_IP_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    MAX_RESPONSE_DELAY_FIELD_NUMBER: _ClassVar[int]
    MULTICAST_IP_FIELD_NUMBER: _ClassVar[int]
    SUPPRESS_FIELD_NUMBER: _ClassVar[int]
    ROBUSTNESS_FIELD_NUMBER: _ClassVar[int]
    QUERY_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    SOURCE_IPS_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_RECORDS_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    TUNNEL_FIELD_NUMBER: _ClassVar[int]
    timestamp_ns: int
    frame: int
    src_ip: bytes
    dst_ip: bytes
    type: int
    code: int
    version: int
    max_response_delay: int
    multicast_ip: bytes
    suppress: bool
    robustness: int
    query_interval: int
    source_ips: _containers.RepeatedScalarFieldContainer[bytes]
    address_records: _containers.RepeatedCompositeFieldContainer[MLDAddressRecord]
    community_id: str
    tunnel: _netcap_pb2.Tunnel
    def __init__(self, timestamp_ns: _Optional[int] = ..., frame: _Optional[int] = ..., src_ip: _Optional[bytes] = ..., dst_ip: _Optional[bytes] = ..., type: _Optional[int] = ..., code: _Optional[int] = ..., version: _Optional[int] = ..., max_response_delay: _Optional[int] = ..., multicast_ip: _Optional[bytes] = ..., suppress: _Optional[bool] = ..., robustness: _Optional[int] = ..., query_interval: _Optional[int] = ..., source_ips: _Optional[_Iterable[bytes]] = ..., address_records: _Optional[_Iterable[_Union[MLDAddressRecord, _Mapping]]] = ..., community_id: _Optional[str] = ..., tunnel: _Optional[_Union[_netcap_pb2.Tunnel, _Mapping]] = ...) -> None: ...

class IPSecAH(_message.Message):
    __slots__ = ("timestamp_ns", "frame", "src_ip", "dst_ip", "next_header", "length", "spi", "sequence", "icv", "community_id", "tunnel")
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    SRC_IP_FIELD_NUMBER: _ClassVar[int]
    DST_IP_FIELD_NUMBER: _ClassVar[int]
    NEXT_HEADER_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    SPI_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    ICV_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    TUNNEL_FIELD_NUMBER: _ClassVar[int]
    timestamp_ns: int
    frame: int
    src_ip: bytes
    dst_ip: bytes
    next_header: int
    length: int
    spi: int
    sequence: int
    icv: bytes
    community_id: str
    tunnel: _netcap_pb2.Tunnel
    def __init__(self, timestamp_ns: _Optional[int] = ..., frame: _Optional[int] = ..., src_ip: _Optional[bytes] = ..., dst_ip: _Optional[bytes] = ..., next_header: _Optional[int] = ..., length: _Optional[int] = ..., spi: _Optional[int] = ..., sequence: _Optional[int] = ..., icv: _Optional[bytes] = ..., community_id: _Optional[str] = ..., tunnel: _Optional[_Union[_netcap_pb2.Tunnel, _Mapping]] = ...) -> None: ...

class IPSecESP(_message.Message):
    __slots__ = ("timestamp_ns", "frame", "src_ip", "dst_ip", "spi", "sequence", "payload_length", "community_id", "tunnel")
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    SRC_IP_FIELD_NUMBER: _ClassVar[int]
    DST_IP_FIELD_NUMBER: _ClassVar[int]
    SPI_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_LENGTH_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    TUNNEL_FIELD_NUMBER: _ClassVar[int]
    timestamp_ns: int
    frame: int
    src_ip: bytes
    dst_ip: bytes
    spi: int
    sequence: int
    payload_length: int
    community_id: str
    tunnel: _netcap_pb2.Tunnel
    def __init__(self, timestamp_ns: _Optional[int] = ..., frame: _Optional[int] = ..., src_ip: _Optional[bytes] = ..., dst_ip: _Optional[bytes] = ..., spi: _Optional[int] = ..., sequence: _Optional[int] = ..., payload_length: _Optional[int] = ..., community_id: _Optional[str] = ..., tunnel: _Optional[_Union[_netcap_pb2.Tunnel, _Mapping]] = ...) -> None: ...

class OSPF(_message.Message):
    __slots__ = ("timestamp_ns", "frame", "src_ip", "dst_ip", "version", "type", "length", "router_id_ip", "area_id_ip", "checksum", "auth_type", "instance_id", "network_mask_ip", "hello_interval", "options", "router_priority", "dead_interval", "designated_router_ip", "backup_designated_router_ip", "neighbor_ips", "lsa_count", "community_id", "tunnel")
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    SRC_IP_FIELD_NUMBER: _ClassVar[int]
    DST_IP_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    ROUTER_ID_IP_FIELD_NUMBER: _ClassVar[int]
    AREA_ID_IP_FIELD_NUMBER: _ClassVar[int]
    CHECKSUM_FIELD_NUMBER: _ClassVar[int]
    AUTH_TYPE_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    NETWORK_MASK_IP_FIELD_NUMBER: _ClassVar[int]
    HELLO_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    ROUTER_PRIORITY_FIELD_NUMBER: _ClassVar[int]
    DEAD_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    DESIGNATED_ROUTER_IP_FIELD_NUMBER: _ClassVar[int]
    BACKUP_DESIGNATED_ROUTER_IP_FIELD_NUMBER: _ClassVar[int]
    NEIGHBOR_IPS_FIELD_NUMBER: _ClassVar[int]
    LSA_COUNT_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    TUNNEL_FIELD_NUMBER: _ClassVar[int]
    timestamp_ns: int
    frame: int
    src_ip: bytes
    dst_ip: bytes
    version: int
    type: int
    length: int
    router_id_ip: bytes
    area_id_ip: bytes
    checksum: int
    auth_type: int
    instance_id: int
    network_mask_ip: bytes
    hello_interval: int
    options: int
    router_priority: int
    dead_interval: int
    designated_router_ip: bytes
    backup_designated_router_ip: bytes
    neighbor_ips: _containers.RepeatedScalarFieldContainer[bytes]
    lsa_count: int
    community_id: str
    tunnel: _netcap_pb2.Tunnel
    def __init__(self, timestamp_ns: _Optional[int] = ..., frame: _Optional[int] = ..., src_ip: _Optional[bytes] = ..., dst_ip: _Optional[bytes] = ..., version: _Optional[int] = ..., type: _Optional[int] = ..., length: _Optional[int] = ..., router_id_ip: _Optional[bytes] = ..., area_id_ip: _Optional[bytes] = ..., checksum: _Optional[int] = ..., auth_type: _Optional[int] = ..., instance_id: _Optional[int] = ..., network_mask_ip: _Optional[bytes] = ..., hello_interval: _Optional[int] = ..., options: _Optional[int] = ..., router_priority: _Optional[int] = ..., dead_interval: _Optional[int] = ..., designated_router_ip: _Optional[bytes] = ..., backup_designated_router_ip: _Optional[bytes] = ..., neighbor_ips: _Optional[_Iterable[bytes]] = ..., lsa_count: _Optional[int] = ..., community_id: _Optional[str] = ..., tunnel: _Optional[_Union[_netcap_pb2.Tunnel, _Mapping]] = ...) -> None: ...

class VRRP(_message.Message):
    __slots__ = ("timestamp_ns", "frame", "src_ip", "dst_ip", "version", "type", "virtual_router_id", "priority", "address_count", "auth_type", "advertisement_interval", "checksum", "virtual_ips", "community_id", "tunnel")
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    SRC_IP_FIELD_NUMBER: _ClassVar[int]
    DST_IP_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    VIRTUAL_ROUTER_ID_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_COUNT_FIELD_NUMBER: _ClassVar[int]
    AUTH_TYPE_FIELD_NUMBER: _ClassVar[int]
    ADVERTISEMENT_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    CHECKSUM_FIELD_NUMBER: _ClassVar[int]
    VIRTUAL_IPS_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    TUNNEL_FIELD_NUMBER: _ClassVar[int]
    timestamp_ns: int
    frame: int
    src_ip: bytes
    dst_ip: bytes
    version: int
    type: int
    virtual_router_id: int
    priority: int
    address_count: int
    auth_type: int
    advertisement_interval: int
    checksum: int
    virtual_ips: _containers.RepeatedScalarFieldContainer[bytes]
    community_id: str
    tunnel: _netcap_pb2.Tunnel
    def __init__(self, timestamp_ns: _Optional[int] = ..., frame: _Optional[int] = ..., src_ip: _Optional[bytes] = ..., dst_ip: _Optional[bytes] = ..., version: _Optional[int] = ..., type: _Optional[int] = ..., virtual_router_id: _Optional[int] = ..., priority: _Optional[int] = ..., address_count: _Optional[int] = ..., auth_type: _Optional[int] = ..., advertisement_interval: _Optional[int] = ..., checksum: _Optional[int] = ..., virtual_ips: _Optional[_Iterable[bytes]] = ..., community_id: _Optional[str] = ..., tunnel: _Optional[_Union[_netcap_pb2.Tunnel, _Mapping]] = ...) -> None: ...

class BFD(_message.Message):
    __slots__ = ("timestamp_ns", "frame", "src_ip", "dst_ip", "version", "diagnostic", "state", "flags", "detect_multiplier", "length", "my_discriminator", "your_discriminator", "desired_min_tx_interval", "required_min_rx_interval", "required_min_echo_interval", "community_id", "tunnel")
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    SRC_IP_FIELD_NUMBER: _ClassVar[int]
    DST_IP_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DIAGNOSTIC_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    DETECT_MULTIPLIER_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    MY_DISCRIMINATOR_FIELD_NUMBER: _ClassVar[int]
    YOUR_DISCRIMINATOR_FIELD_NUMBER: _ClassVar[int]
    DESIRED_MIN_TX_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_MIN_RX_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_MIN_ECHO_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    TUNNEL_FIELD_NUMBER: _ClassVar[int]
    timestamp_ns: int
    frame: int
    src_ip: bytes
    dst_ip: bytes
    version: int
    diagnostic: int
    state: int
    flags: int
    detect_multiplier: int
    length: int
    my_discriminator: int
    your_discriminator: int
    desired_min_tx_interval: int
    required_min_rx_interval: int
    required_min_echo_interval: int
    community_id: str
    tunnel: _netcap_pb2.Tunnel
    def __init__(self, timestamp_ns: _Optional[int] = ..., frame: _Optional[int] = ..., src_ip: _Optional[bytes] = ..., dst_ip: _Optional[bytes] = ..., version: _Optional[int] = ..., diagnostic: _Optional[int] = ..., state: _Optional[int] = ..., flags: _Optional[int] = ..., detect_multiplier: _Optional[int] = ..., length: _Optional[int] = ..., my_discriminator: _Optional[int] = ..., your_discriminator: _Optional[int] = ..., desired_min_tx_interval: _Optional[int] = ..., required_min_rx_interval: _Optional[int] = ..., required_min_echo_interval: _Optional[int] = ..., community_id: _Optional[str] = ..., tunnel: _Optional[_Union[_netcap_pb2.Tunnel, _Mapping]] = ...) -> None: ...

class GRE(_message.Message):
    __slots__ = ("timestamp_ns", "frame", "src_ip", "dst_ip", "flags", "version", "protocol", "checksum", "key", "sequence", "acknowledgement", "community_id", "tunnel")
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    SRC_IP_FIELD_NUMBER: _ClassVar[int]
    DST_IP_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    CHECKSUM_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGEMENT_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    TUNNEL_FIELD_NUMBER: _ClassVar[int]
    timestamp_ns: int
    frame: int
    src_ip: bytes
    dst_ip: bytes
    flags: int
    version: int
    protocol: int
    checksum: int
    key: int
    sequence: int
    acknowledgement: int
    community_id: str
    tunnel: _netcap_pb2.Tunnel
    def __init__(self, timestamp_ns: _Optional[int] = ..., frame: _Optional[int] = ..., src_ip: _Optional[bytes] = ..., dst_ip: _Optional[bytes] = ..., flags: _Optional[int] = ..., version: _Optional[int] = ..., protocol: _Optional[int] = ..., checksum: _Optional[int] = ..., key: _Optional[int] = ..., sequence: _Optional[int] = ..., acknowledgement: _Optional[int] = ..., community_id: _Optional[str] = ..., tunnel: _Optional[_Union[_netcap_pb2.Tunnel, _Mapping]] = ...) -> None: ...

class ERSPAN(_message.Message):
    __slots__ = ("timestamp_ns", "frame", "src_ip", "dst_ip", "version", "vlan", "cos", "encapsulation", "truncated", "session_id", "index", "timestamp", "community_id", "tunnel")
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    SRC_IP_FIELD_NUMBER: _ClassVar[int]
    DST_IP_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    VLAN_FIELD_NUMBER: _ClassVar[int]
    COS_FIELD_NUMBER: _ClassVar[int]
    ENCAPSULATION_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    TUNNEL_FIELD_NUMBER: _ClassVar[int]
    timestamp_ns: int
    frame: int
    src_ip: bytes
    dst_ip: bytes
    version: int
    vlan: int
    cos: int
    encapsulation: int
    truncated: bool
    session_id: int
    index: int
    timestamp: int
    community_id: str
    tunnel: _netcap_pb2.Tunnel
    def __init__(self, timestamp_ns: _Optional[int] = ..., frame: _Optional[int] = ..., src_ip: _Optional[bytes] = ..., dst_ip: _Optional[bytes] = ..., version: _Optional[int] = ..., vlan: _Optional[int] = ..., cos: _Optional[int] = ..., encapsulation: _Optional[int] = ..., truncated: _Optional[bool] = ..., session_id: _Optional[int] = ..., index: _Optional[int] = ..., timestamp: _Optional[int] = ..., community_id: _Optional[str] = ..., tunnel: _Optional[_Union[_netcap_pb2.Tunnel, _Mapping]] = ...) -> None: ...

class VXLAN(_message.Message):
    __slots__ = ("timestamp_ns", "frame", "src_ip", "dst_ip", "flags", "vni", "group_policy_id", "community_id", "tunnel")
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    SRC_IP_FIELD_NUMBER: _ClassVar[int]
    DST_IP_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    VNI_FIELD_NUMBER: _ClassVar[int]
    GROUP_POLICY_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    TUNNEL_FIELD_NUMBER: _ClassVar[int]
    timestamp_ns: int
    frame: int
    src_ip: bytes
    dst_ip: bytes
    flags: int
    vni: int
    group_policy_id: int
    community_id: str
    tunnel: _netcap_pb2.Tunnel
    def __init__(self, timestamp_ns: _Optional[int] = ..., frame: _Optional[int] = ..., src_ip: _Optional[bytes] = ..., dst_ip: _Optional[bytes] = ..., flags: _Optional[int] = ..., vni: _Optional[int] = ..., group_policy_id: _Optional[int] = ..., community_id: _Optional[str] = ..., tunnel: _Optional[_Union[_netcap_pb2.Tunnel, _Mapping]] = ...) -> None: ...

class GeneveOption(_message.Message):
    __slots__ = ("type", "length")
    CLASS_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    type: int
    length: int
    def __init__(self, type: _Optional[int] = ..., length: _Optional[int] = ..., **kwargs) -> None: ...

class Geneve(_message.Message):
    __slots__ = ("timestamp_ns", "frame", "src_ip", "dst_ip", "version", "options_length", "oam", "critical", "protocol", "vni", "options", "community_id", "tunnel")
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    SRC_IP_FIELD_NUMBER: _ClassVar[int]
    DST_IP_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_LENGTH_FIELD_NUMBER: _ClassVar[int]
    OAM_FIELD_NUMBER: _ClassVar[int]
    CRITICAL_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    VNI_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    TUNNEL_FIELD_NUMBER: _ClassVar[int]
    timestamp_ns: int
    frame: int
    src_ip: bytes
    dst_ip: bytes
    version: int
    options_length: int
    oam: bool
    critical: bool
    protocol: int
    vni: int
    options: _containers.RepeatedCompositeFieldContainer[GeneveOption]
    community_id: str
    tunnel: _netcap_pb2.Tunnel
    def __init__(self, timestamp_ns: _Optional[int] = ..., frame: _Optional[int] = ..., src_ip: _Optional[bytes] = ..., dst_ip: _Optional[bytes] = ..., version: _Optional[int] = ..., options_length: _Optional[int] = ..., oam: _Optional[bool] = ..., critical: _Optional[bool] = ..., protocol: _Optional[int] = ..., vni: _Optional[int] = ..., options: _Optional[_Iterable[_Union[GeneveOption, _Mapping]]] = ..., community_id: _Optional[str] = ..., tunnel: _Optional[_Union[_netcap_pb2.Tunnel, _Mapping]] = ...) -> None: ...

class SCTPChunk(_message.Message):
    __slots__ = ("type", "flags", "length", "tsn", "stream_id", "stream_sequence", "payload_protocol_id")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    TSN_FIELD_NUMBER: _ClassVar[int]
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    STREAM_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_PROTOCOL_ID_FIELD_NUMBER: _ClassVar[int]
    type: int
    flags: int
    length: int
    tsn: int
    stream_id: int
    stream_sequence: int
    payload_protocol_id: int
    def __init__(self, type: _Optional[int] = ..., flags: _Optional[int] = ..., length: _Optional[int] = ..., tsn: _Optional[int] = ..., stream_id: _Optional[int] = ..., stream_sequence: _Optional[int] = ..., payload_protocol_id: _Optional[int] = ...) -> None: ...

class SCTP(_message.Message):
    __slots__ = ("timestamp_ns", "frame", "src_ip", "dst_ip", "src_port", "dst_port", "verification_tag", "checksum", "chunks", "community_id", "tunnel")
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    SRC_IP_FIELD_NUMBER: _ClassVar[int]
    DST_IP_FIELD_NUMBER: _ClassVar[int]
    SRC_PORT_FIELD_NUMBER: _ClassVar[int]
    DST_PORT_FIELD_NUMBER: _ClassVar[int]
    VERIFICATION_TAG_FIELD_NUMBER: _ClassVar[int]
    CHECKSUM_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    TUNNEL_FIELD_NUMBER: _ClassVar[int]
    timestamp_ns: int
    frame: int
    src_ip: bytes
    dst_ip: bytes
    src_port: int
    dst_port: int
    verification_tag: int
    checksum: int
    chunks: _containers.RepeatedCompositeFieldContainer[SCTPChunk]
    community_id: str
    tunnel: _netcap_pb2.Tunnel
    def __init__(self, timestamp_ns: _Optional[int] = ..., frame: _Optional[int] = ..., src_ip: _Optional[bytes] = ..., dst_ip: _Optional[bytes] = ..., src_port: _Optional[int] = ..., dst_port: _Optional[int] = ..., verification_tag: _Optional[int] = ..., checksum: _Optional[int] = ..., chunks: _Optional[_Iterable[_Union[SCTPChunk, _Mapping]]] = ..., community_id: _Optional[str] = ..., tunnel: _Optional[_Union[_netcap_pb2.Tunnel, _Mapping]] = ...) -> None: ...

class IPv6Option(_message.Message):
    __slots__ = ("type", "length", "data")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    type: int
    length: int
    data: bytes
    def __init__(self, type: _Optional[int] = ..., length: _Optional[int] = ..., data: _Optional[bytes] = ...) -> None: ...

class IPv6HopByHop(_message.Message):
    __slots__ = ("timestamp_ns", "frame", "src_ip", "dst_ip", "next_header", "length", "options", "router_alert", "jumbo_payload_length", "community_id", "tunnel")
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    SRC_IP_FIELD_NUMBER: _ClassVar[int]
    DST_IP_FIELD_NUMBER: _ClassVar[int]
    NEXT_HEADER_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    ROUTER_ALERT_FIELD_NUMBER: _ClassVar[int]
    JUMBO_PAYLOAD_LENGTH_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    TUNNEL_FIELD_NUMBER: _ClassVar[int]
    timestamp_ns: int
    frame: int
    src_ip: bytes
    dst_ip: bytes
    next_header: int
    length: int
    options: _containers.RepeatedCompositeFieldContainer[IPv6Option]
    router_alert: int
    jumbo_payload_length: int
    community_id: str
    tunnel: _netcap_pb2.Tunnel
    def __init__(self, timestamp_ns: _Optional[int] = ..., frame: _Optional[int] = ..., src_ip: _Optional[bytes] = ..., dst_ip: _Optional[bytes] = ..., next_header: _Optional[int] = ..., length: _Optional[int] = ..., options: _Optional[_Iterable[_Union[IPv6Option, _Mapping]]] = ..., router_alert: _Optional[int] = ..., jumbo_payload_length: _Optional[int] = ..., community_id: _Optional[str] = ..., tunnel: _Optional[_Union[_netcap_pb2.Tunnel, _Mapping]] = ...) -> None: ...

class IPv6Destination(_message.Message):
    __slots__ = ("timestamp_ns", "frame", "src_ip", "dst_ip", "next_header", "length", "options", "home_ip", "community_id", "tunnel")
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    SRC_IP_FIELD_NUMBER: _ClassVar[int]
    DST_IP_FIELD_NUMBER: _ClassVar[int]
    NEXT_HEADER_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    HOME_IP_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    TUNNEL_FIELD_NUMBER: _ClassVar[int]
    timestamp_ns: int
    frame: int
    src_ip: bytes
    dst_ip: bytes
    next_header: int
    length: int
    options: _containers.RepeatedCompositeFieldContainer[IPv6Option]
    home_ip: bytes
    community_id: str
    tunnel: _netcap_pb2.Tunnel
    def __init__(self, timestamp_ns: _Optional[int] = ..., frame: _Optional[int] = ..., src_ip: _Optional[bytes] = ..., dst_ip: _Optional[bytes] = ..., next_header: _Optional[int] = ..., length: _Optional[int] = ..., options: _Optional[_Iterable[_Union[IPv6Option, _Mapping]]] = ..., home_ip: _Optional[bytes] = ..., community_id: _Optional[str] = ..., tunnel: _Optional[_Union[_netcap_pb2.Tunnel, _Mapping]] = ...) -> None: ...

class IPv6Routing(_message.Message):
    __slots__ = ("timestamp_ns", "frame", "src_ip", "dst_ip", "next_header", "length", "routing_type", "segments_left", "address_ips", "last_entry", "flags", "tag", "community_id", "tunnel")
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    SRC_IP_FIELD_NUMBER: _ClassVar[int]
    DST_IP_FIELD_NUMBER: _ClassVar[int]
    NEXT_HEADER_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    ROUTING_TYPE_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_LEFT_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_IPS_FIELD_NUMBER: _ClassVar[int]
    LAST_ENTRY_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    TUNNEL_FIELD_NUMBER: _ClassVar[int]
    timestamp_ns: int
    frame: int
    src_ip: bytes
    dst_ip: bytes
    next_header: int
    length: int
    routing_type: int
    segments_left: int
    address_ips: _containers.RepeatedScalarFieldContainer[bytes]
    last_entry: int
    flags: int
    tag: int
    community_id: str
    tunnel: _netcap_pb2.Tunnel
    def __init__(self, timestamp_ns: _Optional[int] = ..., frame: _Optional[int] = ..., src_ip: _Optional[bytes] = ..., dst_ip: _Optional[bytes] = ..., next_header: _Optional[int] = ..., length: _Optional[int] = ..., routing_type: _Optional[int] = ..., segments_left: _Optional[int] = ..., address_ips: _Optional[_Iterable[bytes]] = ..., last_entry: _Optional[int] = ..., flags: _Optional[int] = ..., tag: _Optional[int] = ..., community_id: _Optional[str] = ..., tunnel: _Optional[_Union[_netcap_pb2.Tunnel, _Mapping]] = ...) -> None: ...

class IPv6Fragment(_message.Message):
    __slots__ = ("timestamp_ns", "frame", "src_ip", "dst_ip", "next_header", "fragment_offset", "more_fragments", "identification", "community_id", "tunnel")
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    SRC_IP_FIELD_NUMBER: _ClassVar[int]
    DST_IP_FIELD_NUMBER: _ClassVar[int]
    NEXT_HEADER_FIELD_NUMBER: _ClassVar[int]
    FRAGMENT_OFFSET_FIELD_NUMBER: _ClassVar[int]
    MORE_FRAGMENTS_FIELD_NUMBER: _ClassVar[int]
    IDENTIFICATION_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    TUNNEL_FIELD_NUMBER: _ClassVar[int]
    timestamp_ns: int
    frame: int
    src_ip: bytes
    dst_ip: bytes
    next_header: int
    fragment_offset: int
    more_fragments: bool
    identification: int
    community_id: str
    tunnel: _netcap_pb2.Tunnel
    def __init__(self, timestamp_ns: _Optional[int] = ..., frame: _Optional[int] = ..., src_ip: _Optional[bytes] = ..., dst_ip: _Optional[bytes] = ..., next_header: _Optional[int] = ..., fragment_offset: _Optional[int] = ..., more_fragments: _Optional[bool] = ..., identification: _Optional[int] = ..., community_id: _Optional[str] = ..., tunnel: _Optional[_Union[_netcap_pb2.Tunnel, _Mapping]] = ...) -> None: ...

class ICMPv6Echo(_message.Message):
    __slots__ = ("timestamp_ns", "frame", "src_ip", "dst_ip", "type", "code", "identifier", "sequence", "data_length", "data", "community_id", "tunnel", "reassembled")
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    SRC_IP_FIELD_NUMBER: _ClassVar[int]
    DST_IP_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIER_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    DATA_LENGTH_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    TUNNEL_FIELD_NUMBER: _ClassVar[int]
    REASSEMBLED_FIELD_NUMBER: _ClassVar[int]
    timestamp_ns: int
    frame: int
    src_ip: bytes
    dst_ip: bytes
    type: int
    code: int
    identifier: int
    sequence: int
    data_length: int
    data: bytes
    community_id: str
    tunnel: _netcap_pb2.Tunnel
    reassembled: bool
    def __init__(self, timestamp_ns: _Optional[int] = ..., frame: _Optional[int] = ..., src_ip: _Optional[bytes] = ..., dst_ip: _Optional[bytes] = ..., type: _Optional[int] = ..., code: _Optional[int] = ..., identifier: _Optional[int] = ..., sequence: _Optional[int] = ..., data_length: _Optional[int] = ..., data: _Optional[bytes] = ..., community_id: _Optional[str] = ..., tunnel: _Optional[_Union[_netcap_pb2.Tunnel, _Mapping]] = ..., reassembled: _Optional[bool] = ...) -> None: ...
