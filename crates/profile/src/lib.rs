//! Host and device profiles: who is on the network and what it does
//! (docs/profiles.md).
//!
//! A capture's profiles are built in two steps, like its statistics. Each
//! decode worker folds its batch's packet summaries into conversations
//! (one hash-table update per packet, into a table reused batch after
//! batch) and reads the few records that name hosts and devices (DNS,
//! DHCP, mDNS, LLMNR, NetBIOS, SSDP): a [`BatchProfile`]. The ordered writer
//! merges the batches in batch order into one bounded [`Profiles`] table,
//! together with the session stage's TLS and HTTP records, and writes
//! `Host` and `DeviceProfile` records at the end of the capture (and, live,
//! every interval for what changed). Because the merge follows batch order,
//! and batch boundaries depend only on the input, the records are the same
//! whatever the number of workers, evictions included.

mod batch;
mod device;
mod geo;
mod host;
mod observe;
mod table;
pub mod vendor;

pub use batch::{BatchProfile, BatchProfiler};
pub use geo::{GeoError, MaxMind};
pub use table::{GeoLookup, ProfileCounters, Profiles};

use netcap_records::RecordType;

/// Hosts (and, separately, devices) tracked at most by default.
pub const DEFAULT_MAX_PROFILES: usize = 65_536;

/// Peers listed per direction in a Host record by default.
pub const DEFAULT_TOP_N: usize = 10;

/// Peers tracked per host and direction, ports per host and role: the
/// lists the top N are chosen from.
pub const TRACKED_PEERS: usize = 32;
pub const TRACKED_PORTS: usize = 32;
/// Bytes of names, fingerprints and other strings kept per host or device
/// (each value at most [`MAX_VALUE_BYTES`]; a browsing client asks for a
/// few hundred server names), and values at most; values beyond are counted
/// as dropped.
pub const MAX_STRING_BYTES: usize = 16 * 1024;
pub const MAX_STRING_VALUES: usize = 512;
pub const MAX_VALUE_BYTES: usize = 255;
/// Strings of all hosts and devices together take at most this many bytes
/// per `-profile-max` (each value counted with [`STRING_OVERHEAD_BYTES`]):
/// most hosts have none, a few have many.
pub const STRING_BUDGET_PER_PROFILE: usize = 4 * 1024;
/// What one kept string costs beyond its bytes: its list slot (at most
/// twice, as lists grow by doubling) and its allocation's header.
pub const STRING_OVERHEAD_BYTES: usize = 64;
/// Community IDs kept per host: those of its first conversations.
pub const FIRST_CONVERSATIONS: usize = 4;
/// MAC addresses kept per host, and source addresses per device.
pub const TRACKED_MACS: usize = 4;
pub const TRACKED_DEVICE_IPS: usize = 16;

/// Upper bound of the memory one tracked host takes apart from its
/// strings, in bytes (its fixed part, the tracked peers, ports and MACs,
/// and its hash table slot at the table's lowest load):
/// [`Profiles::memory_bound_bytes`] is `-profile-max` times this, the
/// device bound and [`STRING_BUDGET_PER_PROFILE`].
pub const HOST_BYTES_BOUND: usize = 6 * 1024;
/// The same for one device.
pub const DEVICE_BYTES_BOUND: usize = 1024;

/// How profiles are kept.
#[derive(Debug, Clone)]
pub struct ProfileConfig {
    /// Hosts tracked at most, and devices tracked at most (`-profile-max`).
    /// Beyond, the least recently seen are evicted (an eighth of the table
    /// at a time) and counted.
    pub max_profiles: usize,
    /// Peers listed per direction in each Host record.
    pub top_n: usize,
    /// Live captures: write the hosts and devices that changed this often
    /// (wall clock, nanoseconds; `-profile-interval`).
    pub interval_ns: i64,
}

impl Default for ProfileConfig {
    fn default() -> Self {
        ProfileConfig { max_profiles: DEFAULT_MAX_PROFILES, top_n: DEFAULT_TOP_N, interval_ns: 60_000_000_000 }
    }
}

/// Record types of the session stage the writer shows [`Profiles`]
/// ([`Profiles::observe_records`]): TLS hellos and HTTP transactions.
pub const SESSION_RECORD_TYPES: [RecordType; 3] =
    [RecordType::Tlsclienthello, RecordType::Tlsserverhello, RecordType::Http];

/// Record types of the packet decoders the workers read
/// ([`BatchProfiler::batch`]).
pub const PACKET_RECORD_TYPES: [RecordType; 6] = [
    RecordType::Dns,
    RecordType::Mdns,
    RecordType::Llmnr,
    RecordType::Netbiosnameservice,
    RecordType::Dhcpv4,
    RecordType::Ssdp,
];

/// Exercises the record readers on arbitrary bytes, as every record type
/// the profiles read, for fuzzing: nothing may panic.
pub fn fuzz_entry(data: &[u8]) {
    let mut profiler = BatchProfiler::new();
    for record_type in PACKET_RECORD_TYPES {
        let part = profiler.batch(&[], |t| (t == record_type).then_some(data));
        let mut profiles = Profiles::new(ProfileConfig { max_profiles: 4, ..ProfileConfig::default() });
        profiles.merge(part);
        for session_type in SESSION_RECORD_TYPES {
            profiles.observe_records(session_type, data);
        }
        let (mut hosts, mut devices) = (Vec::new(), Vec::new());
        profiles.write_all(&mut hosts, &mut devices);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fuzz_entry_takes_any_bytes() {
        let mut state = 0x1234_5678u32;
        for len in [0usize, 1, 2, 5, 17, 64, 300, 4096] {
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    state as u8
                })
                .collect();
            super::fuzz_entry(&data);
        }
        // Valid length prefixes followed by garbage messages.
        super::fuzz_entry(&[3, 0x1a, 1, 0xff, 2, 0x0a, 0x80]);
    }
}
