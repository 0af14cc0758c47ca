//! Ended connections into Connection and Flow records, reusing the
//! caller's record values (strings and vectors keep their memory).

use crate::EndedConnection;
use crate::conn::{CLIENT, SERVER, Side};
use crate::names::{application_protocol, transport_protocol};
use crate::stats::{GapStat, IntStat};
use netcap_records::{Connection, Flow, TerminationReason};
use std::net::IpAddr;

impl EndedConnection {
    pub fn reason(&self) -> TerminationReason {
        self.reason
    }

    /// Order of records ended together (in one batch, across shards): last
    /// packet time, then first frame. The first frame is unique per
    /// connection record, so the order is total and deterministic.
    pub fn sort_key(&self) -> (i64, u64) {
        (self.conn.last_ts, self.conn.first_frame)
    }

    /// The table slot the connection had.
    pub fn slot(&self) -> u32 {
        self.slot
    }

    /// The key of the connection's 5-tuple.
    pub fn key(&self) -> &crate::FlowKey {
        &self.conn.key
    }

    /// Frame number of the connection's first packet.
    pub fn first_frame(&self) -> u64 {
        self.conn.first_frame
    }

    pub fn first_timestamp_ns(&self) -> i64 {
        self.conn.first_ts
    }

    pub fn last_timestamp_ns(&self) -> i64 {
        self.conn.last_ts
    }

    /// Client address and port (ICMP: Community ID's port equivalent).
    pub fn client(&self) -> (IpAddr, u16) {
        let k = &self.conn.key;
        (k.ip(self.conn.client_is_a), k.port(self.conn.client_is_a))
    }

    pub fn server(&self) -> (IpAddr, u16) {
        let k = &self.conn.key;
        (k.ip(!self.conn.client_is_a), k.port(!self.conn.client_is_a))
    }

    pub fn ip_protocol(&self) -> u8 {
        self.conn.key.ip_protocol
    }

    /// Packets and wire bytes sent by the client (`true`) or the server.
    pub fn packets_bytes(&self, from_client: bool) -> (u64, u64) {
        let s = &self.conn.sides[if from_client { CLIENT } else { SERVER }];
        (s.packets(), s.bytes)
    }

    /// Fills every field of `r` but `community_id` (cleared; the capture's
    /// flow stage sets it).
    pub fn fill_connection(&self, r: &mut Connection) {
        let c = &self.conn;
        let (cl, sv) = (&c.sides[CLIENT], &c.sides[SERVER]);
        r.timestamp_ns = c.first_ts;
        r.frame = c.first_frame;
        r.last_timestamp_ns = c.last_ts;
        r.duration_ns = c.last_ts.saturating_sub(c.first_ts);
        r.set_termination_reason(self.reason);
        self.fill_names(&mut r.link_protocol, &mut r.network_protocol, &mut r.transport_protocol);
        r.application_protocol.clear();
        r.application_protocol.push_str(self.application_protocol());
        r.ip_protocol = u32::from(c.key.ip_protocol);
        fill_mac(&mut r.src_mac, c.client_mac);
        fill_mac(&mut r.dst_mac, c.server_mac);
        let ((cip, cport), (sip, sport)) = (self.client(), self.server());
        fill_ip(&mut r.src_ip, cip);
        fill_ip(&mut r.dst_ip, sip);
        r.src_port = u32::from(cport);
        r.dst_port = u32::from(sport);
        r.community_id.clear();

        r.packets = cl.packets() + sv.packets();
        r.bytes = cl.bytes + sv.bytes;
        r.client_packets = cl.packets();
        r.client_bytes = cl.bytes;
        r.server_packets = sv.packets();
        r.server_bytes = sv.bytes;
        r.client_payload_bytes = cl.payload.sum;
        r.server_payload_bytes = sv.payload.sum;
        r.payload_bytes = r.client_payload_bytes + r.server_payload_bytes;

        let flag = |i: usize| cl.flag_count(i) + sv.flag_count(i);
        r.syn_count = flag(0);
        r.fin_count = flag(1);
        r.rst_count = flag(2);
        r.ack_count = flag(3);
        r.psh_count = flag(4);
        r.urg_count = flag(5);
        r.ece_count = flag(6);
        r.cwr_count = flag(7);

        let payload = cl.payload.merged(&sv.payload);
        let nonzero = cl.nonzero.merged(&sv.nonzero);
        (r.payload_bytes_min, r.payload_bytes_max, r.payload_bytes_mean, r.payload_bytes_std) = int_stats(&payload);
        (r.payload_bytes_min_nonzero, _, r.payload_bytes_mean_nonzero, r.payload_bytes_std_nonzero) =
            int_stats(&nonzero);
        (r.interarrival_min_ns, r.interarrival_max_ns, r.interarrival_mean_s, r.interarrival_std_s) =
            gap_stats(&c.gaps);

        (r.client_window_min, r.client_window_max, r.client_window_mean, r.client_window_std) = int_stats(&cl.window);
        r.client_window_scale = cl.window_scale.map(u32::from);
        r.client_initial_window = u32::from(cl.initial_window);
        r.payload_packets_nonzero = nonzero.n;
        r.client_window_samples = cl.window.n;
        r.server_window_samples = sv.window.n;
        r.client_zero_window_count = u64::from(cl.zero_windows);
        r.client_zero_window_update_count = u64::from(cl.zero_window_updates);
        (r.server_window_min, r.server_window_max, r.server_window_mean, r.server_window_std) = int_stats(&sv.window);
        r.server_window_scale = sv.window_scale.map(u32::from);
        r.server_initial_window = u32::from(sv.initial_window);
        r.server_zero_window_count = u64::from(sv.zero_windows);
        r.server_zero_window_update_count = u64::from(sv.zero_window_updates);

        r.conn_state.clear();
        r.conn_state.push_str(self.conn_state());
        self.history(&mut r.history);
        let x = self.extras.as_deref().cloned().unwrap_or_default();
        [r.client_missed_bytes, r.server_missed_bytes] = x.missed_bytes;
        [r.client_retransmissions, r.server_retransmissions] = x.retransmissions;
        [r.client_depth_exceeded_bytes, r.server_depth_exceeded_bytes] = x.depth_exceeded_bytes;
        r.overlaps_different_data = x.overlaps_different_data;
        r.tls_version = x.tls_version;
        r.tls_cipher = x.tls_cipher;
        r.tls_server_name = x.tls_server_name;
        r.tls_established = x.tls_established;
        r.tls_resumed = x.tls_resumed;
        r.client_software = x.client_software;
        r.server_software = x.server_software;

        let tcp = c.key.ip_protocol == 6;
        r.payload_size_sequence.clear();
        r.interarrival_sequence_ns.clear();
        r.window_sequence.clear();
        let mut prev = None;
        for e in &c.seq {
            let size = i32::try_from(e.size).unwrap_or(i32::MAX);
            r.payload_size_sequence.push(if e.from_client { size } else { -size });
            r.interarrival_sequence_ns.push(prev.map_or(0, |p: i64| e.ts.saturating_sub(p).max(0)));
            prev = Some(e.ts);
            if tcp {
                r.window_sequence.push(u32::from(e.window));
            }
        }
    }

    /// Fills `r` with the direction sent by the client (`from_client`) or
    /// the server. Returns false, leaving `r` unspecified, if that direction
    /// sent no packet (then there is no such Flow record).
    pub fn fill_flow(&self, from_client: bool, r: &mut Flow) -> bool {
        let c = &self.conn;
        let side: &Side = &c.sides[if from_client { CLIENT } else { SERVER }];
        if side.packets() == 0 {
            return false;
        }
        r.timestamp_ns = side.first_ts;
        r.frame = side.first_frame;
        r.last_timestamp_ns = side.last_ts;
        r.duration_ns = side.last_ts.saturating_sub(side.first_ts);
        r.set_termination_reason(self.reason);
        self.fill_names(&mut r.link_protocol, &mut r.network_protocol, &mut r.transport_protocol);
        r.application_protocol.clear();
        r.application_protocol.push_str(self.application_protocol());
        r.ip_protocol = u32::from(c.key.ip_protocol);
        let (src_mac, dst_mac) = if from_client { (c.client_mac, c.server_mac) } else { (c.server_mac, c.client_mac) };
        fill_mac(&mut r.src_mac, src_mac);
        fill_mac(&mut r.dst_mac, dst_mac);
        let ((sip, sport), (dip, dport)) =
            if from_client { (self.client(), self.server()) } else { (self.server(), self.client()) };
        fill_ip(&mut r.src_ip, sip);
        fill_ip(&mut r.dst_ip, dip);
        r.src_port = u32::from(sport);
        r.dst_port = u32::from(dport);
        r.community_id.clear();
        r.from_client = from_client;
        r.connection_frame = c.first_frame;

        r.packets = side.packets();
        r.bytes = side.bytes;
        r.payload_bytes = side.payload.sum;
        let flag = |i: usize| side.flag_count(i);
        r.syn_count = flag(0);
        r.fin_count = flag(1);
        r.rst_count = flag(2);
        r.ack_count = flag(3);
        r.psh_count = flag(4);
        r.urg_count = flag(5);
        r.ece_count = flag(6);
        r.cwr_count = flag(7);
        (r.payload_bytes_min, r.payload_bytes_max, r.payload_bytes_mean, r.payload_bytes_std) =
            int_stats(&side.payload);
        (r.payload_bytes_min_nonzero, _, r.payload_bytes_mean_nonzero, r.payload_bytes_std_nonzero) =
            int_stats(&side.nonzero);
        (r.interarrival_min_ns, r.interarrival_max_ns, r.interarrival_mean_s, r.interarrival_std_s) =
            gap_stats(&side.gaps);
        (r.window_min, r.window_max, r.window_mean, r.window_std) = int_stats(&side.window);
        r.window_scale = side.window_scale.map(u32::from);
        r.initial_window = u32::from(side.initial_window);
        r.zero_window_count = u64::from(side.zero_windows);
        r.zero_window_update_count = u64::from(side.zero_window_updates);

        let tcp = c.key.ip_protocol == 6;
        r.payload_size_sequence.clear();
        r.interarrival_sequence_ns.clear();
        r.window_sequence.clear();
        let mut prev = None;
        for e in c.seq.iter().filter(|e| e.from_client == from_client) {
            r.payload_size_sequence.push(e.size);
            r.interarrival_sequence_ns.push(prev.map_or(0, |p: i64| e.ts.saturating_sub(p).max(0)));
            prev = Some(e.ts);
            if tcp {
                r.window_sequence.push(u32::from(e.window));
            }
        }
        true
    }

    /// Application protocol: as the session stage decided it (by content,
    /// else by its protocol table's ports), else by well-known port
    /// (server's, else client's).
    pub fn application_protocol(&self) -> &'static str {
        if let Some(name) = self.extras.as_ref().and_then(|e| e.application_protocol) {
            return name;
        }
        let (_, cport) = self.client();
        let (_, sport) = self.server();
        application_protocol(self.conn.key.ip_protocol, sport, cport)
    }

    /// Zeek's conn_state: the session stage's for TCP; for other protocols
    /// from which sides sent packets (UDP: SF both, S0 client only, SHR
    /// server only; others OTH).
    pub fn conn_state(&self) -> &'static str {
        if let Some(state) = self.extras.as_ref().map(|e| e.conn_state).filter(|s| !s.is_empty()) {
            return state;
        }
        let c = &self.conn;
        let (client, server) = (c.sides[CLIENT].packets() > 0, c.sides[SERVER].packets() > 0);
        match (c.key.ip_protocol, client, server) {
            (17, true, true) => "SF",
            (17, true, false) => "S0",
            (17, false, true) => "SHR",
            (6, _, _) => "",
            _ => "OTH",
        }
    }

    /// Zeek's history: the session stage's for TCP; for other protocols '^'
    /// when the first packet came from the server, then 'D' and 'd' for
    /// client and server payload, in the order of each side's first packet.
    pub fn history(&self, out: &mut String) {
        out.clear();
        if let Some(h) = self.extras.as_ref().map(|e| e.history.as_str()).filter(|h| !h.is_empty()) {
            out.push_str(h);
            return;
        }
        let (letters, n) = self.packet_history();
        out.extend(letters[..n].iter().map(|&b| char::from(b)));
    }

    /// The history of a connection the session stage did not follow (see
    /// [`EndedConnection::history`]; empty for TCP), without allocating.
    pub(crate) fn packet_history(&self) -> ([u8; 3], usize) {
        let c = &self.conn;
        let mut out = ([0u8; 3], 0);
        if c.key.ip_protocol == 6 {
            return out;
        }
        let mut push = |b: u8| {
            out.0[out.1] = b;
            out.1 += 1;
        };
        let (cl, sv) = (&c.sides[CLIENT], &c.sides[SERVER]);
        if sv.packets() > 0 && sv.first_frame == c.first_frame {
            push(b'^');
        }
        let mut letters = [(cl.first_frame, cl.payload.sum > 0, b'D'), (sv.first_frame, sv.payload.sum > 0, b'd')];
        letters.sort_by_key(|l| l.0);
        for l in letters.iter().filter(|l| l.1) {
            push(l.2);
        }
        out
    }

    /// Link, network and transport protocol names.
    pub(crate) fn names(&self) -> (&'static str, &'static str, &'static str) {
        let c = &self.conn;
        // Summaries carry MAC addresses for Ethernet-family link layers only.
        let link = if c.client_mac.is_some() || c.server_mac.is_some() { "Ethernet" } else { "" };
        (link, if c.key.v6 { "IPv6" } else { "IPv4" }, transport_protocol(c.key.ip_protocol, c.key.v6))
    }

    fn fill_names(&self, link: &mut String, network: &mut String, transport: &mut String) {
        let names = self.names();
        for (dst, name) in [(link, names.0), (network, names.1), (transport, names.2)] {
            dst.clear();
            dst.push_str(name);
        }
    }
}

fn int_stats(s: &IntStat) -> (u32, u32, f64, f64) {
    (s.min(), s.max(), s.mean(), s.std())
}

fn gap_stats(g: &GapStat) -> (u64, u64, f64, f64) {
    (g.min_ns(), g.max_ns(), g.mean_s(), g.std_s())
}

fn fill_mac(dst: &mut Vec<u8>, mac: Option<[u8; 6]>) {
    dst.clear();
    if let Some(m) = mac {
        dst.extend_from_slice(&m);
    }
}

fn fill_ip(dst: &mut Vec<u8>, ip: IpAddr) {
    dst.clear();
    match ip {
        IpAddr::V4(a) => dst.extend_from_slice(&a.octets()),
        IpAddr::V6(a) => dst.extend_from_slice(&a.octets()),
    }
}
