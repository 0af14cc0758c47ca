from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class HostPeer(_message.Message):
    __slots__ = ("ip", "packets", "bytes")
    IP_FIELD_NUMBER: _ClassVar[int]
    PACKETS_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    ip: bytes
    packets: int
    bytes: int
    def __init__(self, ip: _Optional[bytes] = ..., packets: _Optional[int] = ..., bytes: _Optional[int] = ...) -> None: ...

class HostPort(_message.Message):
    __slots__ = ("protocol", "port", "packets", "bytes")
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    PACKETS_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    protocol: int
    port: int
    packets: int
    bytes: int
    def __init__(self, protocol: _Optional[int] = ..., port: _Optional[int] = ..., packets: _Optional[int] = ..., bytes: _Optional[int] = ...) -> None: ...

class Host(_message.Message):
    __slots__ = ("timestamp_ns", "frame", "ip", "last_seen_ns", "packets_sent", "bytes_sent", "packets_received", "bytes_received", "peers_contacted", "peers_contacted_by", "top_contacted", "top_contacted_by", "ports_served", "ports_contacted", "transport_protocols", "application_protocols", "dns_names", "dns_queries", "sni_requested", "sni_served", "ja3", "ja4", "ja3s", "user_agents", "http_servers", "dhcp_hostnames", "dhcp_vendor_classes", "source_macs", "dropped_values", "country", "city", "asn", "as_org", "community_ids")
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    IP_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_NS_FIELD_NUMBER: _ClassVar[int]
    PACKETS_SENT_FIELD_NUMBER: _ClassVar[int]
    BYTES_SENT_FIELD_NUMBER: _ClassVar[int]
    PACKETS_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    BYTES_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    PEERS_CONTACTED_FIELD_NUMBER: _ClassVar[int]
    PEERS_CONTACTED_BY_FIELD_NUMBER: _ClassVar[int]
    TOP_CONTACTED_FIELD_NUMBER: _ClassVar[int]
    TOP_CONTACTED_BY_FIELD_NUMBER: _ClassVar[int]
    PORTS_SERVED_FIELD_NUMBER: _ClassVar[int]
    PORTS_CONTACTED_FIELD_NUMBER: _ClassVar[int]
    TRANSPORT_PROTOCOLS_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_PROTOCOLS_FIELD_NUMBER: _ClassVar[int]
    DNS_NAMES_FIELD_NUMBER: _ClassVar[int]
    DNS_QUERIES_FIELD_NUMBER: _ClassVar[int]
    SNI_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    SNI_SERVED_FIELD_NUMBER: _ClassVar[int]
    JA3_FIELD_NUMBER: _ClassVar[int]
    JA4_FIELD_NUMBER: _ClassVar[int]
    JA3S_FIELD_NUMBER: _ClassVar[int]
    USER_AGENTS_FIELD_NUMBER: _ClassVar[int]
    HTTP_SERVERS_FIELD_NUMBER: _ClassVar[int]
    DHCP_HOSTNAMES_FIELD_NUMBER: _ClassVar[int]
    DHCP_VENDOR_CLASSES_FIELD_NUMBER: _ClassVar[int]
    SOURCE_MACS_FIELD_NUMBER: _ClassVar[int]
    DROPPED_VALUES_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    ASN_FIELD_NUMBER: _ClassVar[int]
    AS_ORG_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_IDS_FIELD_NUMBER: _ClassVar[int]
    timestamp_ns: int
    frame: int
    ip: bytes
    last_seen_ns: int
    packets_sent: int
    bytes_sent: int
    packets_received: int
    bytes_received: int
    peers_contacted: int
    peers_contacted_by: int
    top_contacted: _containers.RepeatedCompositeFieldContainer[HostPeer]
    top_contacted_by: _containers.RepeatedCompositeFieldContainer[HostPeer]
    ports_served: _containers.RepeatedCompositeFieldContainer[HostPort]
    ports_contacted: _containers.RepeatedCompositeFieldContainer[HostPort]
    transport_protocols: _containers.RepeatedScalarFieldContainer[str]
    application_protocols: _containers.RepeatedScalarFieldContainer[str]
    dns_names: _containers.RepeatedScalarFieldContainer[str]
    dns_queries: _containers.RepeatedScalarFieldContainer[str]
    sni_requested: _containers.RepeatedScalarFieldContainer[str]
    sni_served: _containers.RepeatedScalarFieldContainer[str]
    ja3: _containers.RepeatedScalarFieldContainer[str]
    ja4: _containers.RepeatedScalarFieldContainer[str]
    ja3s: _containers.RepeatedScalarFieldContainer[str]
    user_agents: _containers.RepeatedScalarFieldContainer[str]
    http_servers: _containers.RepeatedScalarFieldContainer[str]
    dhcp_hostnames: _containers.RepeatedScalarFieldContainer[str]
    dhcp_vendor_classes: _containers.RepeatedScalarFieldContainer[str]
    source_macs: _containers.RepeatedScalarFieldContainer[bytes]
    dropped_values: int
    country: str
    city: str
    asn: int
    as_org: str
    community_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, timestamp_ns: _Optional[int] = ..., frame: _Optional[int] = ..., ip: _Optional[bytes] = ..., last_seen_ns: _Optional[int] = ..., packets_sent: _Optional[int] = ..., bytes_sent: _Optional[int] = ..., packets_received: _Optional[int] = ..., bytes_received: _Optional[int] = ..., peers_contacted: _Optional[int] = ..., peers_contacted_by: _Optional[int] = ..., top_contacted: _Optional[_Iterable[_Union[HostPeer, _Mapping]]] = ..., top_contacted_by: _Optional[_Iterable[_Union[HostPeer, _Mapping]]] = ..., ports_served: _Optional[_Iterable[_Union[HostPort, _Mapping]]] = ..., ports_contacted: _Optional[_Iterable[_Union[HostPort, _Mapping]]] = ..., transport_protocols: _Optional[_Iterable[str]] = ..., application_protocols: _Optional[_Iterable[str]] = ..., dns_names: _Optional[_Iterable[str]] = ..., dns_queries: _Optional[_Iterable[str]] = ..., sni_requested: _Optional[_Iterable[str]] = ..., sni_served: _Optional[_Iterable[str]] = ..., ja3: _Optional[_Iterable[str]] = ..., ja4: _Optional[_Iterable[str]] = ..., ja3s: _Optional[_Iterable[str]] = ..., user_agents: _Optional[_Iterable[str]] = ..., http_servers: _Optional[_Iterable[str]] = ..., dhcp_hostnames: _Optional[_Iterable[str]] = ..., dhcp_vendor_classes: _Optional[_Iterable[str]] = ..., source_macs: _Optional[_Iterable[bytes]] = ..., dropped_values: _Optional[int] = ..., country: _Optional[str] = ..., city: _Optional[str] = ..., asn: _Optional[int] = ..., as_org: _Optional[str] = ..., community_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class DeviceProfile(_message.Message):
    __slots__ = ("timestamp_ns", "frame", "mac", "vendor", "last_seen_ns", "packets", "bytes", "source_ips", "ip_count", "gateway", "dhcp_fingerprints", "dhcp_hostnames", "dhcp_vendor_classes", "mdns_names", "llmnr_names", "netbios_names", "ssdp_servers", "dropped_values")
    TIMESTAMP_NS_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    MAC_FIELD_NUMBER: _ClassVar[int]
    VENDOR_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_NS_FIELD_NUMBER: _ClassVar[int]
    PACKETS_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    SOURCE_IPS_FIELD_NUMBER: _ClassVar[int]
    IP_COUNT_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    DHCP_FINGERPRINTS_FIELD_NUMBER: _ClassVar[int]
    DHCP_HOSTNAMES_FIELD_NUMBER: _ClassVar[int]
    DHCP_VENDOR_CLASSES_FIELD_NUMBER: _ClassVar[int]
    MDNS_NAMES_FIELD_NUMBER: _ClassVar[int]
    LLMNR_NAMES_FIELD_NUMBER: _ClassVar[int]
    NETBIOS_NAMES_FIELD_NUMBER: _ClassVar[int]
    SSDP_SERVERS_FIELD_NUMBER: _ClassVar[int]
    DROPPED_VALUES_FIELD_NUMBER: _ClassVar[int]
    timestamp_ns: int
    frame: int
    mac: bytes
    vendor: str
    last_seen_ns: int
    packets: int
    bytes: int
    source_ips: _containers.RepeatedScalarFieldContainer[bytes]
    ip_count: int
    gateway: bool
    dhcp_fingerprints: _containers.RepeatedScalarFieldContainer[str]
    dhcp_hostnames: _containers.RepeatedScalarFieldContainer[str]
    dhcp_vendor_classes: _containers.RepeatedScalarFieldContainer[str]
    mdns_names: _containers.RepeatedScalarFieldContainer[str]
    llmnr_names: _containers.RepeatedScalarFieldContainer[str]
    netbios_names: _containers.RepeatedScalarFieldContainer[str]
    ssdp_servers: _containers.RepeatedScalarFieldContainer[str]
    dropped_values: int
    def __init__(self, timestamp_ns: _Optional[int] = ..., frame: _Optional[int] = ..., mac: _Optional[bytes] = ..., vendor: _Optional[str] = ..., last_seen_ns: _Optional[int] = ..., packets: _Optional[int] = ..., bytes: _Optional[int] = ..., source_ips: _Optional[_Iterable[bytes]] = ..., ip_count: _Optional[int] = ..., gateway: _Optional[bool] = ..., dhcp_fingerprints: _Optional[_Iterable[str]] = ..., dhcp_hostnames: _Optional[_Iterable[str]] = ..., dhcp_vendor_classes: _Optional[_Iterable[str]] = ..., mdns_names: _Optional[_Iterable[str]] = ..., llmnr_names: _Optional[_Iterable[str]] = ..., netbios_names: _Optional[_Iterable[str]] = ..., ssdp_servers: _Optional[_Iterable[str]] = ..., dropped_values: _Optional[int] = ...) -> None: ...
