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

/// Where a packet's bytes are: copied into the batch, or in place in the
/// memory-mapped input file (no copy).
#[derive(Debug, Clone, Copy)]
enum Bytes {
    Copied { start: usize, len: usize },
    Mapped { start: usize, len: usize },
}

/// Consecutive packets.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub seq: u64,
    data: Vec<u8>,
    packets: Vec<(PacketMeta, Bytes)>,
    /// Captured bytes of all packets.
    captured: usize,
    /// The mapped input, when packets refer to it.
    mapping: Option<Arc<memmap2::Mmap>>,
    pub info: Arc<SourceInfo>,
}

impl Batch {
    /// Adds a packet; its bytes are referenced in place if they lie in
    /// `mapping`, else copied.
    pub fn push(&mut self, meta: PacketMeta, bytes: &[u8], mapping: Option<&Arc<memmap2::Mmap>>) {
        let place = match mapping.and_then(|map| offset_within(map, bytes)) {
            Some(start) => {
                if self.mapping.is_none() {
                    self.mapping = mapping.cloned();
                }
                Bytes::Mapped { start, len: bytes.len() }
            }
            None => {
                let start = self.data.len();
                self.data.extend_from_slice(bytes);
                Bytes::Copied { start, len: bytes.len() }
            }
        };
        self.captured += bytes.len();
        self.packets.push((meta, place));
    }

    pub fn is_full(&self) -> bool {
        self.packets.len() >= BATCH_PACKETS || self.captured >= BATCH_BYTES
    }

    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    pub fn len(&self) -> usize {
        self.packets.len()
    }

    /// Each packet.
    pub fn iter(&self) -> impl Iterator<Item = (&PacketMeta, &[u8])> {
        self.packets.iter().map(|(meta, place)| (meta, self.bytes(place)))
    }

    /// The bytes of packet `index` (in push order).
    pub fn packet(&self, index: usize) -> Option<&[u8]> {
        self.packets.get(index).map(|(_, place)| self.bytes(place))
    }

    fn bytes(&self, place: &Bytes) -> &[u8] {
        match *place {
            Bytes::Copied { start, len } => self.data.get(start..start + len).unwrap_or_default(),
            Bytes::Mapped { start, len } => match &self.mapping {
                Some(map) => map.get(start..start + len).unwrap_or_default(),
                None => &[],
            },
        }
    }

    pub fn clear(&mut self) {
        self.data.clear();
        self.packets.clear();
        self.captured = 0;
        self.mapping = None;
    }
}

/// Offset of `part` in `map` if `part` is a sub-slice of it.
fn offset_within(map: &memmap2::Mmap, part: &[u8]) -> Option<usize> {
    let base = map.as_ptr() as usize;
    let start = (part.as_ptr() as usize).checked_sub(base)?;
    (start + part.len() <= map.len()).then_some(start)
}
