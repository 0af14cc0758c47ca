//! Batches: the unit of work between the source, the workers and the writer.

use netcap_decoder::PacketMeta;
use std::sync::Arc;

/// Packets per batch, and captured bytes per batch; whichever fills first.
/// Both are fixed so that batch boundaries depend only on the input.
pub(crate) const BATCH_PACKETS: usize = 4096;
pub(crate) const BATCH_BYTES: usize = 4 << 20;

/// What the source knows about its interfaces when a batch is cut; record
/// file headers are made from the first batch that has records of a type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceInfo {
    pub link_types: Vec<u32>,
    pub snaplen: u32,
}

/// Consecutive packets, their bytes stored back to back.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub seq: u64,
    pub data: Vec<u8>,
    pub packets: Vec<(PacketMeta, usize, usize)>,
    pub info: Arc<SourceInfo>,
}

impl Batch {
    pub fn push(&mut self, meta: PacketMeta, bytes: &[u8]) {
        let start = self.data.len();
        self.data.extend_from_slice(bytes);
        self.packets.push((meta, start, bytes.len()));
    }

    pub fn is_full(&self) -> bool {
        self.packets.len() >= BATCH_PACKETS || self.data.len() >= BATCH_BYTES
    }

    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&PacketMeta, &[u8])> {
        self.packets.iter().map(|(meta, start, len)| (meta, &self.data[*start..*start + *len]))
    }

    pub fn clear(&mut self) {
        self.data.clear();
        self.packets.clear();
    }
}
