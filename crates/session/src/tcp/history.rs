//! Zeek's TCP connection history and state, from the packets' flags and
//! what reassembly found (retransmissions, gaps).
//!
//! History letters (upper case for the client, lower case for the server):
//! S a SYN without ACK, H a SYN+ACK, A a pure ACK, D data, F FIN, R RST,
//! G a content gap, T a retransmission, W a zero window, I an inconsistent
//! packet (FIN+RST), Q a multi-flag packet (SYN+FIN or SYN+RST), and '^'
//! first when the first packet came from the server. As in Zeek: A, D, I
//! and Q are recorded once per direction; S, H, F and R again when their
//! sequence number differs from the last one of that letter; G, T and W
//! logarithmically (at the 1st, 10th, 100th ... occurrence).
//!
//! conn_state follows Zeek's `conn_state()` over per-endpoint states
//! (inactive, SYN sent, SYN-ACK sent, partial, established, closed, reset).

use crate::protocols::Direction;
use netcap_decoder::tcp_flag;

/// What an endpoint has done, as Zeek's TCP analyzer tracks it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Endpoint {
    #[default]
    Inactive,
    SynSent,
    SynAckSent,
    /// Sent something without a SYN first (picked up mid-stream).
    Partial,
    Established,
    Closed,
    Reset,
}

/// Letters recorded once per direction or by sequence number, per
/// direction.
#[derive(Debug, Default)]
struct Seen {
    once: u8,
    last_syn: Option<u32>,
    last_synack: Option<u32>,
    last_fin: Option<u32>,
    last_rst: Option<u32>,
    gaps: u64,
    retransmissions: u64,
    zero_windows: u64,
}

const ONCE_A: u8 = 1;
const ONCE_D: u8 = 2;
const ONCE_I: u8 = 4;
const ONCE_Q: u8 = 8;

/// A TCP connection's history string and endpoint states.
#[derive(Debug, Default)]
pub struct History {
    letters: String,
    seen: [Seen; 2],
    pub endpoints: [Endpoint; 2],
    /// Payload bytes each side sent (Zeek's orig/resp size, for REJ).
    sizes: [u64; 2],
}

/// Whether `n` is 1, 10, 100, ...: when Zeek records a counted letter.
fn power_of_ten(n: u64) -> bool {
    let mut p = 1;
    while p < n {
        p = p.saturating_mul(10);
    }
    p == n
}

impl History {
    /// Starts the history of a connection whose first packet came from the
    /// server (`flipped`).
    pub fn new(flipped: bool) -> History {
        let mut h = History::default();
        if flipped {
            h.letters.push('^');
        }
        h
    }

    pub fn as_str(&self) -> &str {
        &self.letters
    }

    fn letter(&mut self, dir: Direction, lower: char) {
        self.letters.push(if dir == Direction::ToServer { lower.to_ascii_uppercase() } else { lower });
    }

    fn once(&mut self, dir: Direction, bit: u8, lower: char) {
        let seen = &mut self.seen[dir.index()];
        if seen.once & bit == 0 {
            seen.once |= bit;
            self.letter(dir, lower);
        }
    }

    /// One packet sent in `dir`.
    pub fn packet(&mut self, dir: Direction, flags: u16, seq: u32, payload: usize, window: u16) {
        let (syn, ack, fin, rst) = (
            flags & tcp_flag::SYN != 0,
            flags & tcp_flag::ACK != 0,
            flags & tcp_flag::FIN != 0,
            flags & tcp_flag::RST != 0,
        );
        let i = dir.index();
        if syn && (fin || rst) {
            self.once(dir, ONCE_Q, 'q');
        } else if fin && rst {
            self.once(dir, ONCE_I, 'i');
        }
        if syn {
            let (last, letter) =
                if ack { (&mut self.seen[i].last_synack, 'h') } else { (&mut self.seen[i].last_syn, 's') };
            if *last != Some(seq) {
                *last = Some(seq);
                self.letter(dir, letter);
            }
        }
        if fin && self.seen[i].last_fin != Some(seq) {
            self.seen[i].last_fin = Some(seq);
            self.letter(dir, 'f');
        }
        if rst && self.seen[i].last_rst != Some(seq) {
            self.seen[i].last_rst = Some(seq);
            self.letter(dir, 'r');
        }
        if payload > 0 {
            self.once(dir, ONCE_D, 'd');
        } else if ack && !syn && !fin && !rst {
            self.once(dir, ONCE_A, 'a');
        }
        if window == 0 && !syn && !rst && ack {
            self.seen[i].zero_windows += 1;
            if power_of_ten(self.seen[i].zero_windows) {
                self.letter(dir, 'w');
            }
        }
        self.sizes[i] += payload as u64;
        self.endpoint(dir, syn, ack, fin, rst, payload > 0);
    }

    /// Zeek's endpoint state changes for one packet.
    fn endpoint(&mut self, dir: Direction, syn: bool, ack: bool, fin: bool, rst: bool, data: bool) {
        let (me, peer) = (dir.index(), dir.other().index());
        let state = self.endpoints[me];
        if rst {
            self.endpoints[me] = Endpoint::Reset;
            return;
        }
        if matches!(state, Endpoint::Reset) {
            return;
        }
        if syn {
            if matches!(state, Endpoint::Inactive | Endpoint::SynSent) {
                self.endpoints[me] = if ack { Endpoint::SynAckSent } else { Endpoint::SynSent };
            }
        } else if ack || data {
            match state {
                Endpoint::Inactive => self.endpoints[me] = Endpoint::Partial,
                Endpoint::SynSent | Endpoint::SynAckSent => {
                    let peer_state = self.endpoints[peer];
                    if matches!(
                        peer_state,
                        Endpoint::SynSent | Endpoint::SynAckSent | Endpoint::Established | Endpoint::Partial
                    ) {
                        self.endpoints[me] = Endpoint::Established;
                        if matches!(peer_state, Endpoint::SynSent | Endpoint::SynAckSent) {
                            self.endpoints[peer] = Endpoint::Established;
                        }
                    }
                }
                _ => {}
            }
        }
        if fin {
            self.endpoints[me] = Endpoint::Closed;
        }
    }

    /// Reassembly found a retransmission in `dir`.
    pub fn retransmission(&mut self, dir: Direction) {
        let seen = &mut self.seen[dir.index()];
        seen.retransmissions += 1;
        if power_of_ten(seen.retransmissions) {
            self.letter(dir, 't');
        }
    }

    /// Reassembly skipped a content gap in `dir`.
    pub fn gap(&mut self, dir: Direction) {
        let seen = &mut self.seen[dir.index()];
        seen.gaps += 1;
        if power_of_ten(seen.gaps) {
            self.letter(dir, 'g');
        }
    }

    /// Zeek's conn_state of the connection as it ended.
    pub fn conn_state(&self) -> &'static str {
        use Endpoint::*;
        let (os, rs) = (self.endpoints[0], self.endpoints[1]);
        let o_inactive = matches!(os, Inactive | Partial);
        let r_inactive = matches!(rs, Inactive | Partial);
        if rs == Reset {
            if matches!(os, SynSent | SynAckSent) || (os == Reset && self.sizes == [0, 0]) {
                "REJ"
            } else if o_inactive {
                "RSTRH"
            } else {
                "RSTR"
            }
        } else if os == Reset {
            if r_inactive { if self.syn_then_reset() { "RSTOS0" } else { "OTH" } } else { "RSTO" }
        } else if rs == Closed && os == Closed {
            "SF"
        } else if os == Closed {
            if r_inactive { "SH" } else { "S2" }
        } else if rs == Closed {
            if o_inactive { "SHR" } else { "S3" }
        } else if os == SynSent && rs == Inactive {
            "S0"
        } else if os == Established && rs == Established {
            "S1"
        } else {
            "OTH"
        }
    }

    /// Zeek's `/\^?S[^HAFGIQ]*R.*/` on the history: the client sent a SYN,
    /// then a RST, with no handshake, ACK, FIN, gap, inconsistency or
    /// multi-flag packet of its own between.
    fn syn_then_reset(&self) -> bool {
        let h = self.letters.strip_prefix('^').unwrap_or(&self.letters);
        let Some(rest) = h.strip_prefix('S') else { return false };
        match rest.find(['H', 'A', 'F', 'G', 'I', 'Q', 'R']) {
            Some(i) => rest[i..].starts_with('R'),
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Direction::{ToClient as S, ToServer as C};
    const SYN: u16 = tcp_flag::SYN;
    const ACK: u16 = tcp_flag::ACK;
    const FIN: u16 = tcp_flag::FIN;
    const RST: u16 = tcp_flag::RST;
    const PSH: u16 = tcp_flag::PSH;

    fn run(flipped: bool, packets: &[(Direction, u16, u32, usize)]) -> (String, &'static str) {
        let mut h = History::new(flipped);
        for &(dir, flags, seq, len) in packets {
            h.packet(dir, flags, seq, len, 1000);
        }
        (h.as_str().to_owned(), h.conn_state())
    }

    #[test]
    fn normal_connection_is_sf() {
        let (h, s) = run(
            false,
            &[
                (C, SYN, 0, 0),
                (S, SYN | ACK, 0, 0),
                (C, ACK, 1, 0),
                (C, PSH | ACK, 1, 10),
                (S, PSH | ACK, 1, 20),
                (C, FIN | ACK, 11, 0),
                (S, FIN | ACK, 21, 0),
                (C, ACK, 12, 0),
            ],
        );
        assert_eq!((h.as_str(), s), ("ShADdFf", "SF"));
    }

    #[test]
    fn attempts_rejections_and_resets() {
        assert_eq!(run(false, &[(C, SYN, 0, 0)]), ("S".into(), "S0"));
        assert_eq!(run(false, &[(C, SYN, 0, 0), (C, SYN, 0, 0)]), ("S".into(), "S0"), "same seq: once");
        assert_eq!(run(false, &[(C, SYN, 0, 0), (S, RST | ACK, 0, 0)]), ("Sr".into(), "REJ"));
        assert_eq!(run(false, &[(C, SYN, 0, 0), (C, RST, 1, 0)]), ("SR".into(), "RSTOS0"));
        let established = [(C, SYN, 0, 0), (S, SYN | ACK, 0, 0), (C, ACK, 1, 0)];
        let mut rsto = established.to_vec();
        rsto.push((C, RST, 1, 0));
        assert_eq!(run(false, &rsto), ("ShAR".into(), "RSTO"));
        let mut rstr = established.to_vec();
        rstr.push((S, RST, 1, 0));
        assert_eq!(run(false, &rstr).1, "RSTR");
        assert_eq!(run(false, &established).1, "S1");
        let mut s2 = established.to_vec();
        s2.push((C, FIN | ACK, 1, 0));
        assert_eq!(run(false, &s2).1, "S2");
        let mut s3 = established.to_vec();
        s3.push((S, FIN | ACK, 1, 0));
        assert_eq!(run(false, &s3).1, "S3");
        assert_eq!(run(false, &[(C, SYN, 0, 0), (C, FIN, 1, 0)]).1, "SH");
        assert_eq!(run(true, &[(S, SYN | ACK, 0, 0), (S, RST, 1, 0)]), ("^hr".into(), "RSTRH"));
        assert_eq!(run(true, &[(S, SYN | ACK, 0, 0), (S, FIN, 1, 0)]).1, "SHR");
    }

    #[test]
    fn midstream_and_odd_flags() {
        let (h, s) = run(false, &[(C, ACK, 5, 10), (S, ACK, 9, 0)]);
        assert_eq!((h.as_str(), s), ("Da", "OTH"));
        let (h, _) = run(false, &[(C, SYN | FIN, 0, 0), (C, FIN | RST, 3, 0)]);
        assert_eq!(h, "QSFIFR");
    }

    #[test]
    fn counted_letters_are_logarithmic() {
        let mut h = History::new(false);
        for _ in 0..150 {
            h.retransmission(Direction::ToServer);
        }
        h.gap(Direction::ToClient);
        assert_eq!(h.as_str(), "TTTg");
        assert!(power_of_ten(1) && power_of_ten(1000) && !power_of_ten(0) && !power_of_ten(11));
    }
}
