//! Connection and Flow records straight from an ended connection into
//! protobuf bytes, without filling a prost value first.
//!
//! At the end of a capture every open connection becomes three records at
//! once; filling prost values (strings and byte vectors copied in) and
//! encoding them took 40 % of that work. The bytes here are the ones prost
//! writes for the values [`EndedConnection::fill_connection`] and
//! [`EndedConnection::fill_flow`] produce, field for field and in prost's
//! order (by field number); the tests compare the two on every connection of
//! several captures.

use crate::EndedConnection;
use crate::conn::{CLIENT, SERVER, Side};
use crate::stats::GapStat;
use prost::encoding::{WireType, encoded_len_varint};

/// Records take 128 bytes to 16 KiB: a two-byte length prefix.
const LENGTH_GUESS: usize = 2;

/// Bytes [`Fields`] gathers before it appends them to the record buffer.
const PENDING: usize = 256;

/// Appends protobuf fields to a buffer, leaving out default values as
/// proto3 does. Bytes gather in a small array on the stack first, which
/// skips `Vec::push`'s capacity check and length update through the vector
/// for every byte: encoding took 15 % fewer instructions this way (everything
/// inlined into one function per record type).
struct Fields<'a> {
    out: &'a mut Vec<u8>,
    pending: [u8; PENDING],
    len: usize,
}

impl Drop for Fields<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}

impl<'a> Fields<'a> {
    fn new(out: &'a mut Vec<u8>) -> Self {
        Fields { out, pending: [0; PENDING], len: 0 }
    }

    #[cold]
    #[inline(never)]
    fn flush(&mut self) {
        self.out.extend_from_slice(&self.pending[..self.len.min(PENDING)]);
        self.len = 0;
    }

    #[inline(always)]
    fn push(&mut self, b: u8) {
        if self.len >= PENDING {
            self.flush();
        }
        self.pending[self.len] = b;
        self.len += 1;
    }

    #[inline(always)]
    fn extend(&mut self, bytes: &[u8]) {
        if self.len + bytes.len() > PENDING {
            self.flush();
            if bytes.len() > PENDING {
                self.out.extend_from_slice(bytes);
                return;
            }
        }
        self.pending[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }

    #[inline(always)]
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.push(v as u8 | 0x80);
            v >>= 7;
        }
        self.push(v as u8);
    }

    #[inline(always)]
    fn key(&mut self, field: u32, wire_type: WireType) {
        self.varint(u64::from(field << 3 | wire_type as u32));
    }

    #[inline(always)]
    fn uint(&mut self, field: u32, v: u64) {
        if v != 0 {
            self.key(field, WireType::Varint);
            self.varint(v);
        }
    }

    /// int64: negative values take ten bytes, as protobuf specifies.
    #[inline(always)]
    fn int(&mut self, field: u32, v: i64) {
        self.uint(field, v as u64);
    }

    #[inline(always)]
    fn optional_uint(&mut self, field: u32, v: Option<u8>) {
        if let Some(v) = v {
            self.key(field, WireType::Varint);
            self.varint(u64::from(v));
        }
    }

    #[inline(always)]
    fn boolean(&mut self, field: u32, v: bool) {
        self.uint(field, u64::from(v));
    }

    #[inline(always)]
    fn sfixed64(&mut self, field: u32, v: i64) {
        if v != 0 {
            self.key(field, WireType::SixtyFourBit);
            self.extend(&v.to_le_bytes());
        }
    }

    #[inline(always)]
    fn double(&mut self, field: u32, v: f64) {
        if v != 0.0 {
            self.key(field, WireType::SixtyFourBit);
            self.extend(&v.to_le_bytes());
        }
    }

    #[inline(always)]
    fn bytes(&mut self, field: u32, v: &[u8]) {
        if !v.is_empty() {
            self.key(field, WireType::LengthDelimited);
            self.varint(v.len() as u64);
            self.extend(v);
        }
    }

    #[inline(always)]
    fn mac(&mut self, field: u32, mac: Option<[u8; 6]>) {
        if let Some(m) = mac {
            self.bytes(field, &m);
        }
    }

    #[inline(always)]
    fn ip(&mut self, field: u32, ip: std::net::IpAddr) {
        match ip {
            std::net::IpAddr::V4(a) => self.bytes(field, &a.octets()),
            std::net::IpAddr::V6(a) => self.bytes(field, &a.octets()),
        }
    }

    /// A side's window fields, numbered from `first` as both records number
    /// them: mean, std, scale, initial window, zero windows, their updates.
    #[inline(always)]
    fn window(&mut self, first: u32, side: &Side) {
        self.double(first, side.window.mean());
        self.double(first + 1, side.window.std());
        self.optional_uint(first + 2, side.window_scale);
        self.uint(first + 3, u64::from(side.initial_window));
        self.uint(first + 4, u64::from(side.zero_windows));
        self.uint(first + 5, u64::from(side.zero_window_updates));
    }

    /// A packed repeated varint field.
    fn packed(&mut self, field: u32, values: impl Iterator<Item = u64> + Clone) {
        let len: usize = values.clone().map(encoded_len_varint).sum();
        if len > 0 {
            self.key(field, WireType::LengthDelimited);
            self.varint(len as u64);
            values.for_each(|v| self.varint(v));
        }
    }
}

/// Zigzag encoding of sint32.
fn zigzag(v: i32) -> u64 {
    u64::from(((v << 1) ^ (v >> 31)) as u32)
}

impl EndedConnection {
    /// Appends the Connection record of this connection, length-delimited,
    /// with `community_id` (what [`EndedConnection::fill_connection`] leaves
    /// to the caller).
    pub fn encode_connection(&self, community_id: &str, buf: &mut Vec<u8>) {
        netcap_records::write_length_delimited(buf, LENGTH_GUESS, |buf| self.connection_fields(community_id, buf));
    }

    /// Appends the Flow record of the direction sent by the client
    /// (`from_client`) or the server; returns false, writing nothing, if that
    /// direction sent no packet.
    pub fn encode_flow(&self, from_client: bool, community_id: &str, buf: &mut Vec<u8>) -> bool {
        if self.conn.sides[if from_client { CLIENT } else { SERVER }].packets() == 0 {
            return false;
        }
        netcap_records::write_length_delimited(buf, LENGTH_GUESS, |buf| {
            self.flow_fields(from_client, community_id, buf);
        });
        true
    }

    fn connection_fields(&self, community_id: &str, buf: &mut Vec<u8>) {
        let c = &self.conn;
        let (cl, sv) = (&c.sides[CLIENT], &c.sides[SERVER]);
        let mut f = Fields::new(buf);
        self.common_fields(&mut f, c.first_ts, c.first_frame, c.last_ts, true, community_id);
        f.uint(18, cl.packets() + sv.packets());
        f.uint(19, cl.bytes + sv.bytes);
        f.uint(20, cl.packets());
        f.uint(21, cl.bytes);
        f.uint(22, sv.packets());
        f.uint(23, sv.bytes);
        f.uint(24, cl.payload.sum + sv.payload.sum);
        f.uint(25, cl.payload.sum);
        f.uint(26, sv.payload.sum);
        for (i, field) in (27..35).enumerate() {
            f.uint(field, cl.flag_count(i) + sv.flag_count(i));
        }
        let payload = cl.payload.merged(&sv.payload);
        let nonzero = cl.nonzero.merged(&sv.nonzero);
        f.double(37, payload.mean());
        f.double(38, payload.std());
        f.double(40, nonzero.mean());
        f.double(41, nonzero.std());
        f.double(44, c.gaps.mean_s());
        f.double(45, c.gaps.std_s());
        f.window(48, cl);
        f.window(56, sv);
        if !c.seq.is_empty() {
            let sizes = c.seq.iter().map(|e| {
                let size = i32::try_from(e.size).unwrap_or(i32::MAX);
                zigzag(if e.from_client { size } else { -size })
            });
            f.packed(62, sizes);
            f.packed(63, gaps_ns(c.seq.iter().map(|e| e.ts)));
            if c.key.ip_protocol == 6 {
                f.packed(64, c.seq.iter().map(|e| u64::from(e.window)));
            }
        }
        f.uint(65, u64::from(payload.min()));
        f.uint(66, u64::from(payload.max()));
        f.uint(67, u64::from(nonzero.min()));
        gap_extremes(&mut f, [68, 69], &c.gaps);
        f.uint(70, u64::from(cl.window.min()));
        f.uint(71, u64::from(cl.window.max()));
        f.uint(72, u64::from(sv.window.min()));
        f.uint(73, u64::from(sv.window.max()));
        f.bytes(74, self.conn_state().as_bytes());
        match self.extras.as_deref().map(|x| x.history.as_bytes()).filter(|h| !h.is_empty()) {
            Some(history) => f.bytes(75, history),
            None => {
                let (letters, n) = self.packet_history();
                f.bytes(75, &letters[..n]);
            }
        }
        if let Some(x) = self.extras.as_deref() {
            f.uint(76, x.missed_bytes[0]);
            f.uint(77, x.missed_bytes[1]);
            f.uint(78, x.retransmissions[0]);
            f.uint(79, x.retransmissions[1]);
            f.uint(80, x.overlaps_different_data);
            f.uint(81, u64::from(x.tls_version));
            f.uint(82, u64::from(x.tls_cipher));
            f.bytes(83, x.tls_server_name.as_bytes());
            f.boolean(84, x.tls_established);
            f.boolean(85, x.tls_resumed);
            f.uint(86, x.depth_exceeded_bytes[0]);
            f.uint(87, x.depth_exceeded_bytes[1]);
            for s in &x.client_software {
                f.bytes(88, s.as_bytes());
            }
            for s in &x.server_software {
                f.bytes(89, s.as_bytes());
            }
        }
        f.uint(90, nonzero.n);
        f.uint(91, cl.window.n);
        f.uint(92, sv.window.n);
    }

    fn flow_fields(&self, from_client: bool, community_id: &str, buf: &mut Vec<u8>) {
        let c = &self.conn;
        let side: &Side = &c.sides[if from_client { CLIENT } else { SERVER }];
        let mut f = Fields::new(buf);
        self.common_fields(&mut f, side.first_ts, side.first_frame, side.last_ts, from_client, community_id);
        f.boolean(18, from_client);
        f.uint(19, c.first_frame);
        f.uint(20, side.packets());
        f.uint(21, side.bytes);
        f.uint(22, side.payload.sum);
        for (i, field) in (23..31).enumerate() {
            f.uint(field, side.flag_count(i));
        }
        f.double(33, side.payload.mean());
        f.double(34, side.payload.std());
        f.double(36, side.nonzero.mean());
        f.double(37, side.nonzero.std());
        f.double(40, side.gaps.mean_s());
        f.double(41, side.gaps.std_s());
        f.window(44, side);
        if !c.seq.is_empty() {
            let own = || c.seq.iter().filter(move |e| e.from_client == from_client);
            f.packed(50, own().map(|e| u64::from(e.size)));
            f.packed(51, gaps_ns(own().map(|e| e.ts)));
            if c.key.ip_protocol == 6 {
                f.packed(52, own().map(|e| u64::from(e.window)));
            }
        }
        f.uint(53, u64::from(side.payload.min()));
        f.uint(54, u64::from(side.payload.max()));
        f.uint(55, u64::from(side.nonzero.min()));
        gap_extremes(&mut f, [56, 57], &side.gaps);
        f.uint(58, u64::from(side.window.min()));
        f.uint(59, u64::from(side.window.max()));
    }

    /// Fields 1 to 17, the same in both records: times, reason, names,
    /// addresses (`forward`: the client's first, as the Connection and the
    /// client's Flow have them) and the Community ID.
    #[inline(always)]
    fn common_fields(&self, f: &mut Fields<'_>, first_ts: i64, frame: u64, last_ts: i64, forward: bool, id: &str) {
        let c = &self.conn;
        f.sfixed64(1, first_ts);
        f.uint(2, frame);
        f.int(3, last_ts);
        f.int(4, last_ts.saturating_sub(first_ts));
        f.uint(5, self.reason as u64);
        let (link, network, transport) = self.names();
        f.bytes(6, link.as_bytes());
        f.bytes(7, network.as_bytes());
        f.bytes(8, transport.as_bytes());
        f.bytes(9, self.application_protocol().as_bytes());
        f.uint(10, u64::from(c.key.ip_protocol));
        let (src_mac, dst_mac) = if forward { (c.client_mac, c.server_mac) } else { (c.server_mac, c.client_mac) };
        f.mac(11, src_mac);
        f.mac(12, dst_mac);
        let ((sip, sport), (dip, dport)) =
            if forward { (self.client(), self.server()) } else { (self.server(), self.client()) };
        f.ip(13, sip);
        f.ip(14, dip);
        f.uint(15, u64::from(sport));
        f.uint(16, u64::from(dport));
        f.bytes(17, id.as_bytes());
    }
}

#[inline(always)]
fn gap_extremes(f: &mut Fields<'_>, [min, max]: [u32; 2], g: &GapStat) {
    f.uint(min, g.min_ns());
    f.uint(max, g.max_ns());
}

/// Gaps between consecutive timestamps in ns (the first is 0; a gap where
/// time went backwards is 0), as int64 varints.
fn gaps_ns(ts: impl Iterator<Item = i64> + Clone) -> impl Iterator<Item = u64> + Clone {
    ts.scan(None, |prev: &mut Option<i64>, t| {
        let gap = prev.map_or(0, |p| t.saturating_sub(p).max(0));
        *prev = Some(t);
        Some(gap as u64)
    })
}
