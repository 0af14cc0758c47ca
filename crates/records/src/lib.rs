//! netcap's record types and the `.ncap.zst` file format.
//!
//! The types are generated from `proto/netcap.proto`. A record file is a zstd
//! stream (possibly several concatenated frames) of varint-length-delimited
//! protobuf messages: a [`Header`] first, then records of one type
//! (docs/format.md).

pub mod civil;
mod docs;
mod reader;
pub mod varint;
mod writer;

use prost_reflect::{DescriptorPool, MessageDescriptor};
use std::sync::LazyLock;

pub use docs::{record_description, records_markdown};
pub use reader::{MAX_FRAME_CONTENT, MAX_RECORD_LEN, ReadError, ReadStats, RecordReader};
pub use writer::{
    FrameCompressor, RecordFileWriter, WriteError, check_frame, encode_length_delimited, write_length_delimited,
};

#[allow(clippy::all, missing_docs)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/netcap.rs"));
}
pub use generated::*;

// prost derives Rust names from the proto names mechanically ("ICMPv4" becomes
// `IcmPv4`); these aliases give every record the name of its `RecordType`.
pub type Dot1q = Dot1Q;
pub type Ipv4 = IPv4;
pub type Ipv4Option = IPv4Option;
pub type Ipv6 = IPv6;
pub type Ipv6ExtensionHeader = IPv6ExtensionHeader;
pub type Icmpv4 = IcmPv4;
pub type Icmpv6 = IcmPv6;
pub type Icmpv6Ndp = IcmPv6Ndp;
pub type Pppoe = PpPoE;

/// Version of `proto/netcap.proto` this build writes; bumped when a field's
/// meaning changes.
pub const SCHEMA_VERSION: u32 = 1;

/// Extension of record files: `<Type>.ncap.zst`.
pub const FILE_EXTENSION: &str = ".ncap.zst";

/// Descriptors of every message in the schema, for generic (reflective) access.
pub static DESCRIPTOR_POOL: LazyLock<DescriptorPool> = LazyLock::new(|| {
    DescriptorPool::decode(include_bytes!(concat!(env!("OUT_DIR"), "/descriptor_set.bin")).as_ref())
        // The bytes were produced by our own build script from our own schema.
        .expect("embedded descriptor set is valid")
});

/// Record types with their message names, in enum order. Built from the
/// schema so that adding a record type to the proto is all it takes.
static RECORD_TYPES: LazyLock<Vec<(RecordType, MessageDescriptor)>> = LazyLock::new(|| {
    let enum_desc = DESCRIPTOR_POOL.get_enum_by_name("netcap.RecordType").expect("schema defines netcap.RecordType");
    let mut types = Vec::new();
    for value in enum_desc.values() {
        let Some(suffix) = value.name().strip_prefix("RECORD_TYPE_") else {
            continue;
        };
        let Ok(record_type) = RecordType::try_from(value.number()) else {
            continue;
        };
        if record_type == RecordType::Unspecified {
            continue;
        }
        let message = DESCRIPTOR_POOL
            .all_messages()
            .find(|m| m.package_name() == "netcap" && m.name().to_ascii_uppercase() == suffix)
            .unwrap_or_else(|| panic!("schema has no message for {}", value.name()));
        types.push((record_type, message));
    }
    types
});

/// Position in [`RECORD_TYPES`] by enum value.
static RECORD_INDEX: LazyLock<Vec<u16>> = LazyLock::new(|| {
    let max = RECORD_TYPES.iter().map(|(t, _)| *t as usize).max().unwrap_or(0);
    let mut index = vec![0u16; max + 1];
    for (i, (t, _)) in RECORD_TYPES.iter().enumerate() {
        index[*t as usize] = i as u16;
    }
    index
});

impl RecordType {
    /// Every record type (not `Unspecified`), in schema order.
    pub fn all() -> impl Iterator<Item = RecordType> {
        RECORD_TYPES.iter().map(|(t, _)| *t)
    }

    /// The message name of this record type, e.g. "TCP" or "IPv4".
    pub fn name(self) -> &'static str {
        self.descriptor().map(|d| d.name()).unwrap_or("Unspecified")
    }

    /// Descriptor of the message this record type's files hold.
    pub fn descriptor(self) -> Option<&'static MessageDescriptor> {
        RECORD_TYPES.iter().find(|(t, _)| *t == self).map(|(_, d)| d)
    }

    /// Looks a record type up by its message name, ignoring case.
    pub fn from_name(name: &str) -> Option<RecordType> {
        RECORD_TYPES.iter().find(|(_, d)| d.name().eq_ignore_ascii_case(name)).map(|(t, _)| *t)
    }

    /// File name of this record type's stream: `<Type>.ncap.zst`.
    pub fn file_name(self) -> String {
        format!("{}{}", self.name(), FILE_EXTENSION)
    }

    /// Position in [`RecordType::all`], for per-type arrays. O(1) through a
    /// table by enum value: it runs for every record written, and families of
    /// record types are numbered in ranges with gaps between them.
    pub fn index(self) -> usize {
        RECORD_INDEX.get(self as usize).copied().unwrap_or(0) as usize
    }

    /// Number of record types.
    pub fn count() -> usize {
        RECORD_TYPES.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost_reflect::ReflectMessage;

    #[test]
    fn one_pass_length_prefix_matches_prost() {
        use prost::Message;
        for len in [0usize, 1, 120, 125, 126, 127, 128, 300, 16_380, 16_381, 16_382, 16_383, 16_384, 20_000, 2_100_000]
        {
            let header = Header { producer: "x".repeat(len), ..Header::default() };
            let expected = header.encode_length_delimited_to_vec();
            for guess in 1..=3 {
                let mut buf = vec![7u8; 3];
                encode_length_delimited(&header, &mut buf, guess);
                assert_eq!(&buf[..3], &[7, 7, 7]);
                assert_eq!(&buf[3..], &expected[..], "len {len}, guess {guess}");
            }
        }
    }

    #[test]
    fn every_record_type_has_a_message_with_timestamp_and_frame() {
        // Issue 3's bar: at least 60 record types.
        assert!(RecordType::count() >= 60, "{}", RecordType::count());
        for t in RecordType::all() {
            let d = t.descriptor().unwrap();
            assert!(d.get_field_by_name("timestamp_ns").is_some(), "{}", d.name());
            assert!(d.get_field_by_name("frame").is_some(), "{}", d.name());
            assert_eq!(RecordType::from_name(&t.name().to_lowercase()), Some(t));
        }
        for (i, t) in RecordType::all().enumerate() {
            assert_eq!(t.index(), i);
        }
        assert_eq!(RecordType::Ipv4.name(), "IPv4");
        assert_eq!(RecordType::Tcp.file_name(), "TCP.ncap.zst");
        assert_eq!(Tcp::default().descriptor().full_name(), "netcap.TCP");
    }
}
