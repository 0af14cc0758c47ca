//! The state of one tracked connection: fixed-size accumulators per
//! direction, updated once per packet.

use crate::key::{FlowKey, is_icmp_reply};
use crate::names::is_service_port;
use crate::stats::{GapStat, IntStat};
use netcap_decoder::{PacketSummary, TransportKind, tcp_flag};
use netcap_records::TerminationReason;

/// Index of the client side in [`Conn::sides`].
pub(crate) const CLIENT: usize = 0;
pub(crate) const SERVER: usize = 1;

/// The bit positions of the TCP flags in the order of the records' flag
/// count fields: SYN, FIN, RST, ACK, PSH, URG, ECE, CWR.
const RECORD_FLAG_BITS: [usize; 8] = [1, 0, 2, 4, 3, 5, 6, 7];

/// What one direction sent.
#[derive(Debug, Clone, Default)]
pub(crate) struct Side {
    pub bytes: u64,
    pub first_ts: i64,
    pub last_ts: i64,
    pub first_frame: u64,
    /// Payload size of every packet: its count is the side's packet count
    /// ([`Side::packets`]), its sum the payload bytes.
    pub payload: IntStat,
    /// Payload sizes of packets with payload.
    pub nonzero: IntStat,
    /// Gaps between this direction's consecutive packets.
    pub gaps: GapStat,
    /// TCP window of segments with ACK set and RST clear (the window
    /// samples, as NetWatcher's window features, RST aside).
    pub window: IntStat,
    /// Packets with each of the eight TCP flags, by bit position (FIN is
    /// bit 0): counting takes one step per flag set, not one per flag.
    pub flags: [u32; 8],
    pub zero_windows: u32,
    pub zero_window_updates: u32,
    pub initial_window: u16,
    pub last_window_zero: bool,
    /// Window scale option of this side's SYN.
    pub window_scale: Option<u8>,
    pub fin: bool,
}

impl Side {
    pub fn packets(&self) -> u64 {
        self.payload.n
    }

    /// Packets with the `i`th flag of the records' order (SYN, FIN, RST, ACK,
    /// PSH, URG, ECE, CWR).
    pub fn flag_count(&self, i: usize) -> u64 {
        RECORD_FLAG_BITS.get(i).and_then(|&bit| self.flags.get(bit)).map_or(0, |&n| u64::from(n))
    }
}

/// What flow tracking takes from a packet: its [`PacketSummary`] less what
/// the flow key holds (addresses, ports, protocol) and what tracking does not
/// use. Packets travel to the flow threads in this form: 48 bytes instead
/// of the summary's 112.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlowPacket {
    pub timestamp_ns: i64,
    pub frame: u64,
    pub wire_length: u32,
    /// Transport payload (TCP/UDP data, ICMP body), else the IP payload.
    pub payload: u32,
    pub src_mac: Option<[u8; 6]>,
    pub dst_mac: Option<[u8; 6]>,
    pub tcp_flags: u16,
    pub tcp_window: u16,
    pub tcp_window_scale: Option<u8>,
    pub transport: TransportKind,
    pub icmp_type: u8,
}

const _: () = assert!(std::mem::size_of::<FlowPacket>() == 48);

impl From<&PacketSummary> for FlowPacket {
    fn from(s: &PacketSummary) -> Self {
        let payload = match s.transport {
            TransportKind::Tcp | TransportKind::Udp | TransportKind::Icmpv4 | TransportKind::Icmpv6 => s.payload_length,
            TransportKind::Other | TransportKind::None => s.ip_payload_length,
        };
        FlowPacket {
            timestamp_ns: s.timestamp_ns,
            frame: s.frame,
            wire_length: s.wire_length,
            payload,
            src_mac: s.src_mac,
            dst_mac: s.dst_mac,
            tcp_flags: s.tcp_flags,
            tcp_window: s.tcp_window,
            tcp_window_scale: s.tcp_window_scale,
            transport: s.transport,
            icmp_type: s.icmp_type,
        }
    }
}

impl FlowPacket {
    pub fn has_tcp_flag(&self, flag: u16) -> bool {
        self.transport == TransportKind::Tcp && self.tcp_flags & flag != 0
    }
}

/// One packet of the optional sequences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SeqEntry {
    pub ts: i64,
    pub size: u32,
    pub window: u16,
    pub from_client: bool,
}

/// The fields a lookup and the timeout checks read come first (see the
/// table's `Slot`).
#[repr(C)]
#[derive(Debug, Clone, Default)]
pub(crate) struct Conn {
    pub key: FlowKey,
    /// Endpoint `a` of the key is the client.
    pub client_is_a: bool,
    /// Set once the TCP connection has ended (RST, or FIN from both sides);
    /// later packets within the close linger still count.
    pub closed: Option<TerminationReason>,
    // The small fields fill the key's last 8-byte word: the slot stays at
    // ten cache lines.
    pub client_mac: Option<[u8; 6]>,
    pub server_mac: Option<[u8; 6]>,
    pub last_ts: i64,
    pub first_ts: i64,
    pub first_frame: u64,
    pub sides: [Side; 2],
    /// Gaps between consecutive packets of either direction.
    pub gaps: GapStat,
    pub seq: Vec<SeqEntry>,
}

impl Conn {
    /// A connection whose first packet is `s`.
    pub fn new(key: FlowKey, s: &FlowPacket, from_a: bool) -> Conn {
        let client_is_a = if sender_is_client(s, &key, from_a) { from_a } else { !from_a };
        let from_client = from_a == client_is_a;
        let (client_mac, server_mac) = if from_client { (s.src_mac, s.dst_mac) } else { (s.dst_mac, s.src_mac) };
        Conn {
            key,
            client_is_a,
            first_ts: s.timestamp_ns,
            last_ts: s.timestamp_ns,
            first_frame: s.frame,
            client_mac,
            server_mac,
            ..Conn::default()
        }
    }

    /// The record that continues this connection after an active-timeout
    /// split: same endpoints and roles, and the TCP state carried over (the
    /// window scales were negotiated in a SYN the new record does not have).
    pub fn continuation(&self, s: &FlowPacket) -> Conn {
        let mut c = Conn {
            key: self.key,
            client_is_a: self.client_is_a,
            first_ts: s.timestamp_ns,
            last_ts: s.timestamp_ns,
            first_frame: s.frame,
            client_mac: self.client_mac,
            server_mac: self.server_mac,
            ..Conn::default()
        };
        for (new, old) in c.sides.iter_mut().zip(&self.sides) {
            new.window_scale = old.window_scale;
            new.fin = old.fin;
            new.last_window_zero = old.last_window_zero;
        }
        c
    }

    pub fn is_from_client(&self, from_a: bool) -> bool {
        from_a == self.client_is_a
    }

    /// Adds one packet. `sequences`: how many packets the sequences keep.
    pub fn add(&mut self, s: &FlowPacket, from_client: bool, sequences: usize) {
        let ts = s.timestamp_ns;
        let packets = self.sides[CLIENT].packets() + self.sides[SERVER].packets();
        if packets > 0 {
            self.gaps.add(gap(self.last_ts, ts));
        }
        self.last_ts = self.last_ts.max(ts);
        let payload = s.payload;
        let tcp = s.transport == TransportKind::Tcp;
        let side = &mut self.sides[if from_client { CLIENT } else { SERVER }];
        if side.packets() == 0 {
            side.first_ts = ts;
            side.last_ts = ts;
            side.first_frame = s.frame;
            if tcp {
                side.initial_window = s.tcp_window;
            }
        } else {
            side.gaps.add(gap(side.last_ts, ts));
            side.last_ts = side.last_ts.max(ts);
        }
        side.bytes += u64::from(s.wire_length);
        side.payload.add(payload);
        if payload > 0 {
            side.nonzero.add(payload);
        }
        if tcp {
            let f = s.tcp_flags;
            let mut bits = f & 0xff;
            while bits != 0 {
                if let Some(count) = side.flags.get_mut(bits.trailing_zeros() as usize) {
                    *count += 1;
                }
                bits &= bits - 1;
            }
            if f & tcp_flag::SYN != 0 && s.tcp_window_scale.is_some() {
                side.window_scale = s.tcp_window_scale;
            }
            if f & tcp_flag::ACK != 0 && f & tcp_flag::RST == 0 {
                let w = s.tcp_window;
                side.window.add(u32::from(w));
                if w == 0 {
                    side.zero_windows += 1;
                } else if side.last_window_zero {
                    side.zero_window_updates += 1;
                }
                side.last_window_zero = w == 0;
            }
            if f & tcp_flag::FIN != 0 {
                side.fin = true;
            }
            if self.closed.is_none() {
                if f & tcp_flag::RST != 0 {
                    self.closed = Some(TerminationReason::Rst);
                } else if self.sides[CLIENT].fin && self.sides[SERVER].fin {
                    self.closed = Some(TerminationReason::Fin);
                }
            }
        }
        if self.seq.len() < sequences {
            if self.seq.capacity() == 0 {
                self.seq.reserve_exact(sequences.min(16));
            }
            self.seq.push(SeqEntry { ts, size: payload, window: s.tcp_window, from_client });
        }
    }
}

/// Time between two packets; 0 when capture time went backwards.
fn gap(prev: i64, ts: i64) -> u64 {
    u64::try_from(ts.saturating_sub(prev)).unwrap_or(0)
}

/// Whether the sender of a connection's first packet is its client:
/// a TCP SYN-ACK comes from the server, a SYN from the client; an ICMP
/// reply type from the server; otherwise a packet from a service port
/// (below 1024 or in the well-known table) to a port that is not one comes
/// from the server; else the sender is the client.
/// The packet's ports are the key's (`from_a`: its sender is endpoint a).
pub(crate) fn sender_is_client(s: &FlowPacket, key: &FlowKey, from_a: bool) -> bool {
    match s.transport {
        TransportKind::Tcp if s.tcp_flags & tcp_flag::SYN != 0 => s.tcp_flags & tcp_flag::ACK == 0,
        TransportKind::Tcp | TransportKind::Udp => {
            let (src_port, dst_port) = (key.port(from_a), key.port(!from_a));
            !is_service_port(key.ip_protocol, src_port) || is_service_port(key.ip_protocol, dst_port)
        }
        TransportKind::Icmpv4 | TransportKind::Icmpv6 => !is_icmp_reply(s.icmp_type, key.v6),
        _ => true,
    }
}
