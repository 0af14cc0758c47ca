//! `-bpf` on capture files and stdin: libpcap compiles the expression for
//! each link type the input uses and runs it on every packet before anything
//! else sees the packet. Live captures filter in the kernel instead
//! ([`crate::LiveOptions::bpf`]).

use crate::CaptureError;

/// libpcap's file link types (LINKTYPE_*) that differ from the DLT_* value
/// its filter compiler expects (Linux values; pcap-common.c's
/// `linktype_to_dlt` maps them the same way).
const LINKTYPE_TO_DLT: &[(u32, i32)] = &[
    // LINKTYPE_RAW -> DLT_RAW
    (101, 12),
    // LINKTYPE_ATM_RFC1483 -> DLT_ATM_RFC1483
    (100, 11),
];

/// A link type used while checking an expression's syntax before the input
/// says which link types it has: Ethernet, then raw IP.
const SYNTAX_CHECK_LINK_TYPES: [u32; 2] = [1, 101];

/// A BPF program compiled by libpcap.
struct Program(pcap::BpfProgram);

// SAFETY: a compiled program is a heap array of instructions that libpcap
// only reads (pcap_offline_filter) and frees (pcap_freecode); nothing in it
// is tied to the thread that compiled it.
unsafe impl Send for Program {}

/// The expression, compiled once per link type met.
pub(crate) struct OfflineFilter {
    expression: String,
    /// Per link type: the program, or `None` when the expression does not
    /// compile for that link type (its packets are then left out).
    programs: Vec<(u32, Option<Program>)>,
    /// Packets the filter left out.
    pub(crate) filtered: u64,
    /// Link types the expression could not be compiled for, with libpcap's
    /// reason, in the order met.
    pub(crate) unfilterable: Vec<(u32, String)>,
}

impl OfflineFilter {
    /// Checks that `expression` compiles (for Ethernet or raw IP) so that a
    /// typo fails before any output is made.
    pub(crate) fn new(expression: &str) -> Result<Self, CaptureError> {
        let mut first_error = None;
        for link_type in SYNTAX_CHECK_LINK_TYPES {
            match compile(expression, link_type) {
                Ok(_) => {
                    first_error = None;
                    break;
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        if let Some(e) = first_error {
            return Err(CaptureError::Config(format!("-bpf {expression:?}: {e}")));
        }
        Ok(OfflineFilter {
            expression: expression.to_owned(),
            programs: Vec::new(),
            filtered: 0,
            unfilterable: Vec::new(),
        })
    }

    /// Whether the packet passes the filter; counts it in
    /// [`OfflineFilter::filtered`] when it does not.
    pub(crate) fn matches(&mut self, link_type: u32, data: &[u8]) -> bool {
        let index = match self.programs.iter().position(|(t, _)| *t == link_type) {
            Some(index) => index,
            None => {
                let program = match compile(&self.expression, link_type) {
                    Ok(program) => Some(program),
                    Err(reason) => {
                        self.unfilterable.push((link_type, reason));
                        None
                    }
                };
                self.programs.push((link_type, program));
                self.programs.len() - 1
            }
        };
        // The program sees the captured length as the wire length too
        // (`greater`/`less` on packets cut by the snaplen compare what was
        // captured).
        let pass = self.programs.get(index).and_then(|(_, p)| p.as_ref()).is_some_and(|p| p.0.filter(data));
        if !pass {
            self.filtered += 1;
        }
        pass
    }
}

fn compile(expression: &str, link_type: u32) -> Result<Program, String> {
    let dlt = LINKTYPE_TO_DLT
        .iter()
        .find(|(l, _)| *l == link_type)
        .map(|(_, d)| *d)
        .unwrap_or_else(|| i32::try_from(link_type).unwrap_or(i32::MAX));
    let dead = pcap::Capture::dead(pcap::Linktype(dlt)).map_err(|e| e.to_string())?;
    dead.compile(expression, true).map(Program).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Ethernet/IPv4/UDP packet from 10.0.0.1:5353 to 10.0.0.2:53.
    fn udp_packet() -> Vec<u8> {
        let mut p = vec![0u8; 14 + 20 + 8];
        p[12] = 0x08; // IPv4
        p[14] = 0x45;
        p[16..18].copy_from_slice(&28u16.to_be_bytes());
        p[22] = 64;
        p[23] = 17; // UDP
        p[26..30].copy_from_slice(&[10, 0, 0, 1]);
        p[30..34].copy_from_slice(&[10, 0, 0, 2]);
        p[34..36].copy_from_slice(&5353u16.to_be_bytes());
        p[36..38].copy_from_slice(&53u16.to_be_bytes());
        p[38..40].copy_from_slice(&8u16.to_be_bytes());
        p
    }

    #[test]
    fn packets_are_kept_or_counted_as_filtered() {
        let mut filter = OfflineFilter::new("udp port 53").expect("valid filter");
        let packet = udp_packet();
        assert!(filter.matches(1, &packet));
        let mut filter_tcp = OfflineFilter::new("tcp").expect("valid filter");
        assert!(!filter_tcp.matches(1, &packet));
        assert_eq!(filter_tcp.filtered, 1);
        // The same datagram as raw IP (LINKTYPE_RAW).
        assert!(filter.matches(101, &packet[14..]));
        assert!(filter.unfilterable.is_empty());
    }

    #[test]
    fn a_typo_fails_up_front() {
        let Err(CaptureError::Config(message)) = OfflineFilter::new("tcp prot 80") else {
            panic!("a bad expression must be refused")
        };
        assert!(message.contains("tcp prot 80"), "{message}");
    }

    #[test]
    fn link_types_the_expression_does_not_fit_are_left_out_and_named() {
        let mut filter = OfflineFilter::new("ether host 00:11:22:33:44:55").expect("valid on Ethernet");
        // Raw IP has no Ethernet header: libpcap refuses the expression.
        assert!(!filter.matches(101, &udp_packet()[14..]));
        assert_eq!(filter.unfilterable.len(), 1);
        assert_eq!(filter.unfilterable[0].0, 101);
    }
}
