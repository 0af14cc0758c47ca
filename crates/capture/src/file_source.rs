//! pcap and pcapng input, format detected by magic number, from any reader.

use crate::Progress;
use crate::batch::SourceInfo;
use netcap_decoder::PacketMeta;
use pcap_parser::pcapng::Block;
use pcap_parser::traits::{PcapNGPacketBlock, PcapReaderIterator};
use pcap_parser::{PcapBlockOwned, PcapError};
use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Read buffer; grown for larger records up to [`MAX_RECORD`].
const INITIAL_BUFFER: usize = 1 << 20;
/// Largest packet record accepted. libpcap rejects records above 256 KiB in
/// pcap files; pcapng has no limit, so allow generous jumbo/TSO captures and
/// treat anything larger as corruption.
const MAX_RECORD: usize = 16 << 20;
/// The largest caplen libpcap accepts in a pcap file when the header's
/// snaplen is smaller (its MAXIMUM_SNAPLEN).
const PCAP_MAX_CAPLEN: u32 = 262_144;
/// libpcap's mask for the link type in a pcap header; the upper bits carry
/// FCS information.
const LINKTYPE_MASK: u32 = 0x0000_ffff;
/// Marks packets whose pcapng interface is undefined: no decoder has it.
const UNDEFINED_INTERFACE: u32 = u32::MAX;

/// The input could not be read, or ended in damage.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{name}: {source}")]
    Open { name: String, source: io::Error },
    #[error("{name}: not a pcap or pcapng file ({detail})")]
    NotCapture { name: String, detail: String },
    #[error(
        "{name}: truncated at byte {offset}: the input ends inside the record of frame {frame}; the {complete} packets before it were decoded",
        complete = .frame - 1
    )]
    Truncated { name: String, offset: u64, frame: u64 },
    #[error(
        "{name}: corrupt at byte {offset} (frame {frame}): {reason}; the {complete} packets before it were decoded",
        complete = .frame - 1
    )]
    Corrupt { name: String, offset: u64, frame: u64, reason: String },
}

/// Counts bytes as they are read, for progress.
pub(crate) struct CountingReader<'p, R> {
    pub inner: R,
    pub progress: &'p Progress,
}

impl<R: Read> Read for CountingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.input_bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Magic numbers of the formats read: pcap (microsecond and nanosecond, both
/// byte orders) and pcapng (section header block type, the same both ways).
const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
const MAGICS: [[u8; 4]; 5] = [
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0x4d, 0x3c, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
    PCAPNG_MAGIC,
];

/// Bytes read ahead before parsing: pcap-parser parses the file header from
/// its first read, which on a pipe may otherwise return only a few bytes.
const PREFIX_LEN: usize = 64 << 10;

/// Length of the file header (pcap header or pcapng section header block)
/// at the start of `prefix`, if it is complete.
fn file_header_len(prefix: &[u8]) -> Option<usize> {
    let rest = if prefix.starts_with(&PCAPNG_MAGIC) {
        pcap_parser::pcapng::parse_sectionheaderblock(prefix).ok()?.0
    } else {
        pcap_parser::pcap::parse_pcap_header(prefix).ok()?.0
    };
    Some(prefix.len() - rest.len())
}

/// Reads the start of the input and checks its magic number and file header,
/// so that a file of another kind is named as such before anything else
/// happens.
fn read_prefix(name: &str, input: &mut impl Read) -> Result<Vec<u8>, InputError> {
    let mut prefix = vec![0u8; PREFIX_LEN];
    let mut filled = 0;
    while filled < PREFIX_LEN {
        match input.read(&mut prefix[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if matches!(e.kind(), io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock) => {
                // A slow producer: go on once the file header is complete.
                if e.kind() == io::ErrorKind::WouldBlock && file_header_len(&prefix[..filled]).is_some() {
                    break;
                }
            }
            Err(source) => return Err(InputError::Open { name: name.into(), source }),
        }
    }
    prefix.truncate(filled);
    check_in_memory(name, &prefix)?;
    Ok(prefix)
}

/// A pcapng interface: link type and timestamp units.
#[derive(Clone, Copy)]
struct Interface {
    link_type: u32,
    /// Largest captured length (0: no limit).
    snaplen: u32,
    /// Timestamp units per second (10^6 by default).
    units_per_second: u64,
    offset_seconds: i64,
}

/// Receives the packets of a capture as the reader finds them.
pub(crate) trait PacketSink {
    fn packet(&mut self, meta: PacketMeta, data: &[u8]);
    /// Interfaces seen so far (link types, snaplen).
    fn info(&self) -> &SourceInfo;
    fn set_info(&mut self, info: SourceInfo);
    /// True once reading should end early.
    fn stopped(&self) -> bool;
    /// The input has had nothing new for a while: hand on what is pending.
    fn input_stalled(&mut self) {}
    /// The input is this mapped file: packet slices passed to
    /// [`PacketSink::packet`] point into it and stay valid as long as it.
    fn set_mapping(&mut self, _mapping: Arc<memmap2::Mmap>) {}
}

/// Adapts a closure to [`PacketSink`] for the public packet iterators.
struct Callback<F> {
    f: F,
    info: SourceInfo,
    packets: u64,
}
impl<F: FnMut(&PacketMeta, &[u8])> PacketSink for Callback<F> {
    fn packet(&mut self, meta: PacketMeta, data: &[u8]) {
        self.packets += 1;
        (self.f)(&meta, data);
    }
    fn info(&self) -> &SourceInfo {
        &self.info
    }
    fn set_info(&mut self, info: SourceInfo) {
        self.info = info;
    }
    fn stopped(&self) -> bool {
        false
    }
}

/// Calls `f` for every packet of a pcap or pcapng stream, in order. Returns
/// the number of packets, or the damage that ended the input early (after
/// every complete packet before it was passed to `f`).
pub fn read_packets<R: Read + Send>(
    name: &str,
    input: R,
    f: impl FnMut(&PacketMeta, &[u8]),
) -> Result<(u64, Option<InputError>), InputError> {
    let mut sink = Callback { f, info: SourceInfo::default(), packets: 0 };
    let damage = read_capture(name, check_input(name, input, Arc::default())?, &mut sink, &Progress::default())?;
    Ok((sink.packets, damage))
}

/// An input whose first bytes were read and found to be a pcap or pcapng
/// file; reading continues from the start.
pub(crate) enum CheckedInput<'r> {
    /// A stream (stdin, pipes), parsed through pcap-parser's refilling buffer;
    /// the signal is raised by a [`StallingReader`] when its input stalls.
    Stream(Box<dyn PcapReaderIterator + Send + 'r>, Arc<StallSignal>),
    /// A regular file, mapped into memory and parsed in place: no copies
    /// through the kernel or an intermediate buffer.
    Mapped(Arc<memmap2::Mmap>),
}

/// Maps a regular file and checks its format. `Ok(None)` if the file cannot
/// be mapped (then it is read as a stream).
pub(crate) fn check_mapped(name: &str, file: &std::fs::File) -> Result<Option<CheckedInput<'static>>, InputError> {
    if !file.metadata().is_ok_and(|m| m.is_file() && m.len() > 0) {
        return Ok(None);
    }
    // SAFETY: the map is read-only and private to this process. A capture
    // file truncated by another process while it is read would fault, as
    // with any mapped input (ripgrep accepts the same trade-off).
    let Ok(map) = (unsafe { memmap2::Mmap::map(file) }) else { return Ok(None) };
    check_in_memory(name, &map)?;
    Ok(Some(CheckedInput::Mapped(Arc::new(map))))
}

/// Checks that `input` is a capture by its magic number and file header,
/// before any output is made.
pub(crate) fn check_input<'r, R: Read + Send + 'r>(
    name: &str,
    mut input: R,
    stall: Arc<StallSignal>,
) -> Result<CheckedInput<'r>, InputError> {
    stall.armed.store(true, Ordering::Relaxed);
    let prefix = read_prefix(name, &mut input);
    // pcap-parser reads again while it sets up and must not see a stall.
    stall.armed.store(false, Ordering::Relaxed);
    // pcap-parser parses the file header from its first read and reads once
    // more before it returns; serving those two reads from the prefix (the
    // header, then the rest) keeps a slow stream from blocking set-up.
    let mut prefix = prefix?;
    let rest = prefix.split_off(file_header_len(&prefix).unwrap_or(prefix.len()));
    let input = io::Cursor::new(prefix).chain(io::Cursor::new(rest)).chain(input);
    let reader = match pcap_parser::create_reader(INITIAL_BUFFER, input) {
        Ok(r) => r,
        Err(PcapError::Incomplete(_) | PcapError::UnexpectedEof | PcapError::Eof) => {
            return Err(InputError::NotCapture { name: name.into(), detail: "the file header is incomplete".into() });
        }
        Err(PcapError::ReadError) => {
            return Err(InputError::Open { name: name.into(), source: io::Error::other("read failed") });
        }
        Err(e) => {
            return Err(InputError::NotCapture { name: name.into(), detail: format!("bad file header: {e:?}") });
        }
    };
    stall.armed.store(true, Ordering::Relaxed);
    Ok(CheckedInput::Stream(reader, stall))
}

/// Shared between a [`StallingReader`] and the loop parsing its input.
#[derive(Debug, Default)]
pub(crate) struct StallSignal {
    /// Report stalls as `WouldBlock` (else keep waiting).
    armed: AtomicBool,
    /// Raised when a read gave up waiting.
    stalled: AtomicBool,
}

/// How long a stream may be silent before what was read is handed on, so
/// that records of a slow producer (`tcpdump -w - | netcap capture -read -`)
/// reach the files within a second.
const STALL: Duration = Duration::from_millis(250);

/// Reads a blocking input on a thread of its own, so that a stalled input is
/// noticed: `read` then fails with `WouldBlock` and sets the stall flag.
pub(crate) struct StallingReader {
    chunks: crossbeam_channel::Receiver<io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    pos: usize,
    done: bool,
    stall: Arc<StallSignal>,
}

impl StallingReader {
    pub fn spawn(mut input: impl Read + Send + 'static, stall: Arc<StallSignal>) -> Self {
        let (tx, chunks) = crossbeam_channel::bounded(16);
        std::thread::spawn(move || {
            loop {
                let mut buf = vec![0u8; 256 << 10];
                let chunk = match input.read(&mut buf) {
                    Ok(n) => {
                        buf.truncate(n);
                        Ok(buf)
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => Err(e),
                };
                let last = !matches!(&chunk, Ok(c) if !c.is_empty());
                if tx.send(chunk).is_err() || last {
                    break;
                }
            }
        });
        StallingReader { chunks, chunk: Vec::new(), pos: 0, done: false, stall }
    }
}

impl Read for StallingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.chunk.len() {
            if self.done {
                return Ok(0);
            }
            match self.chunks.recv_timeout(STALL) {
                Ok(Ok(chunk)) if chunk.is_empty() => self.done = true,
                Ok(Ok(chunk)) => (self.chunk, self.pos) = (chunk, 0),
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                    if self.stall.armed.load(Ordering::Relaxed) {
                        self.stall.stalled.store(true, Ordering::Relaxed);
                        return Err(io::ErrorKind::WouldBlock.into());
                    }
                }
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => self.done = true,
            }
        }
        let n = buf.len().min(self.chunk.len() - self.pos);
        buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Checks the magic number and file header of a capture held in memory.
fn check_in_memory(name: &str, data: &[u8]) -> Result<(), InputError> {
    let detail = match data.get(..4) {
        Some(magic) if MAGICS.iter().any(|m| m == magic) => {
            if file_header_len(data).is_some() {
                return Ok(());
            }
            "the file header is incomplete or invalid".to_string()
        }
        Some(m) => format!("unknown magic number {:02x}{:02x}{:02x}{:02x}", m[0], m[1], m[2], m[3]),
        None if data.is_empty() => "empty input".to_string(),
        None => format!("input ends after {} bytes", data.len()),
    };
    Err(InputError::NotCapture { name: name.into(), detail })
}

/// Like [`read_packets`], for a capture already in memory: the parser used
/// for memory-mapped files, with no copy into a read buffer.
pub fn read_packets_in_memory(
    name: &str,
    data: &[u8],
    f: impl FnMut(&PacketMeta, &[u8]),
) -> Result<(u64, Option<InputError>), InputError> {
    check_in_memory(name, data)?;
    let mut sink = Callback { f, info: SourceInfo::default(), packets: 0 };
    let damage = read_mapped(name, data, &mut sink, &Progress::default(), &mut |_| {});
    Ok((sink.packets, damage))
}

/// Reads every packet of `input` into `sender`. Returns `Ok(Some(e))` when
/// the input ends in damage after some packets, `Err` when it cannot be
/// read as a capture at all.
pub(crate) fn read_capture(
    name: &str,
    input: CheckedInput<'_>,
    sender: &mut impl PacketSink,
    progress: &Progress,
) -> Result<Option<InputError>, InputError> {
    match input {
        CheckedInput::Stream(reader, stall) => read_stream(name, reader, sender, &stall.stalled),
        CheckedInput::Mapped(map) => {
            let _ = map.advise(memmap2::Advice::Sequential);
            sender.set_mapping(map.clone());
            let mut release = |upto: usize| release_mapped(&map, upto);
            Ok(read_mapped(name, &map, sender, progress, &mut release))
        }
    }
}

/// Mapped pages are given back every this many bytes read, so resident
/// memory stays flat however long the capture is.
const RELEASE_EVERY: usize = 32 << 20;

/// Drops the pages of `map` before `upto` from this process's memory (they
/// stay in the page cache).
fn release_mapped(map: &memmap2::Mmap, upto: usize) {
    const PAGE: usize = 4096;
    // Batches still being decoded may refer to the last few MiB: leave them.
    let len = upto.saturating_sub(RELEASE_EVERY) / PAGE * PAGE;
    // SAFETY: the map is private and read-only: dropping its pages only makes
    // a later read of the range fault the same file bytes back in, so slices
    // into it (batches in flight) still read the same data.
    unsafe {
        let _ = map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, 0, len);
    }
}

/// Parses a whole capture held in memory; `release(n)` is called as the
/// first `n` bytes are no longer needed.
fn read_mapped(
    name: &str,
    data: &[u8],
    sender: &mut impl PacketSink,
    progress: &Progress,
    release: &mut dyn FnMut(usize),
) -> Option<InputError> {
    let mut released = 0usize;
    use pcap_parser::nom::Err as NomErr;
    let mut state = ReadState::new(name);
    let pcapng = data.get(..4) == Some(&PCAPNG_MAGIC[..]);
    let mut big_endian = false;
    let mut legacy_parser: Option<LegacyParser> = None;
    while (state.offset as usize) < data.len() {
        if sender.stopped() {
            return None;
        }
        let rest = &data[state.offset as usize..];
        let parsed = if pcapng {
            let parse =
                if big_endian { pcap_parser::pcapng::parse_block_be } else { pcap_parser::pcapng::parse_block_le };
            parse(rest).map(|(rem, block)| {
                if let Block::SectionHeader(shb) = &block {
                    big_endian = shb.big_endian();
                }
                (rem, PcapBlockOwned::NG(block))
            })
        } else if let Some(parse) = legacy_parser {
            parse(rest).map(|(rem, block)| (rem, PcapBlockOwned::Legacy(block)))
        } else {
            pcap_parser::pcap::parse_pcap_header(rest).map(|(rem, header)| {
                legacy_parser = Some(if header.is_modified_format() {
                    pcap_parser::pcap::parse_pcap_frame_modified
                } else if header.is_bigendian() {
                    pcap_parser::pcap::parse_pcap_frame_be
                } else {
                    pcap_parser::pcap::parse_pcap_frame
                });
                (rem, PcapBlockOwned::LegacyHeader(header))
            })
        };
        match parsed {
            Ok((rem, block)) => {
                let len = rest.len() - rem.len();
                if let Err(damage) = state.block(block, sender) {
                    return Some(damage);
                }
                state.offset += len as u64;
                progress.input_bytes.store(state.offset, Ordering::Relaxed);
                if state.offset as usize - released >= RELEASE_EVERY {
                    released = state.offset as usize;
                    release(released);
                }
            }
            Err(NomErr::Incomplete(_)) => return Some(state.truncated()),
            Err(NomErr::Error(e) | NomErr::Failure(e)) => return Some(state.corrupt(&unparsable(e))),
        }
    }
    None
}

type LegacyParser =
    for<'a> fn(&'a [u8]) -> pcap_parser::nom::IResult<&'a [u8], pcap_parser::LegacyPcapBlock<'a>, PcapError<&'a [u8]>>;

/// Reads a capture through pcap-parser's refilling buffer.
fn read_stream(
    name: &str,
    mut reader: Box<dyn PcapReaderIterator + Send + '_>,
    sender: &mut impl PacketSink,
    stalled: &AtomicBool,
) -> Result<Option<InputError>, InputError> {
    let mut state = ReadState::new(name);
    loop {
        if sender.stopped() {
            return Ok(None);
        }
        match reader.next() {
            Ok((len, block)) => {
                if let Err(damage) = state.block(block, sender) {
                    return Ok(Some(damage));
                }
                state.offset += len as u64;
                reader.consume(len);
            }
            Err(PcapError::Eof) => return Ok(None),
            Err(PcapError::Incomplete(_)) => {
                if reader.refill().is_err() {
                    if stalled.swap(false, Ordering::Relaxed) {
                        sender.input_stalled();
                        continue;
                    }
                    return Ok(Some(state.corrupt("read error")));
                }
            }
            Err(PcapError::BufferTooSmall) => {
                if state.buffer >= MAX_RECORD || !reader.grow(state.buffer * 2) {
                    return Ok(Some(state.corrupt(&format!("record larger than {} MiB", MAX_RECORD >> 20))));
                }
                state.buffer *= 2;
                if reader.refill().is_err() {
                    return Ok(Some(state.corrupt("read error")));
                }
            }
            Err(PcapError::UnexpectedEof) => return Ok(Some(state.truncated())),
            Err(e) => return Ok(Some(state.corrupt(&unparsable(e)))),
        }
    }
}

/// Why pcap-parser could not parse a block.
fn unparsable(e: PcapError<&[u8]>) -> String {
    match e {
        PcapError::NomError(_, kind) | PcapError::OwnedNomError(_, kind) => format!("unparsable block ({kind:?})"),
        other => format!("{:?}", other.to_owned_vec()),
    }
}

struct ReadState<'n> {
    name: &'n str,
    /// Byte offset of the next block in the input.
    offset: u64,
    /// Frames seen so far (the 1-based number of the last one).
    frame: u64,
    buffer: usize,
    /// Legacy pcap: link type, nanosecond timestamps, snaplen.
    pcap: Option<(u32, bool, u32)>,
    /// pcapng: interfaces of the current section.
    interfaces: Vec<Interface>,
}

impl<'n> ReadState<'n> {
    fn new(name: &'n str) -> Self {
        ReadState { name, offset: 0, frame: 0, buffer: INITIAL_BUFFER, pcap: None, interfaces: Vec::new() }
    }

    /// The input ends inside the next frame's record.
    fn truncated(&self) -> InputError {
        InputError::Truncated { name: self.name.into(), offset: self.offset, frame: self.frame + 1 }
    }

    fn corrupt(&self, reason: &str) -> InputError {
        InputError::Corrupt {
            name: self.name.into(),
            offset: self.offset,
            frame: self.frame + 1,
            reason: reason.into(),
        }
    }

    fn block(&mut self, block: PcapBlockOwned<'_>, sender: &mut impl PacketSink) -> Result<(), InputError> {
        match block {
            PcapBlockOwned::LegacyHeader(header) => {
                let link_type = (header.network.0 as u32) & LINKTYPE_MASK;
                self.pcap = Some((link_type, header.is_nanosecond_precision(), header.snaplen));
                sender.set_info(SourceInfo { link_types: vec![link_type], snaplen: header.snaplen });
            }
            PcapBlockOwned::Legacy(packet) => {
                let (link_type, nanos, snaplen) = self.pcap.unwrap_or((0, false, 0));
                if packet.caplen > snaplen.max(PCAP_MAX_CAPLEN) {
                    return Err(self.corrupt(&format!(
                        "record declares {} captured bytes, more than the snaplen {snaplen} allows",
                        packet.caplen
                    )));
                }
                self.frame += 1;
                let frac_ns = if nanos { i64::from(packet.ts_usec) } else { i64::from(packet.ts_usec) * 1000 };
                let meta = PacketMeta {
                    frame: self.frame,
                    timestamp_ns: i64::from(packet.ts_sec) * 1_000_000_000 + frac_ns,
                    link_type,
                    wire_length: packet.origlen,
                    reassembled: false,
                };
                sender.packet(meta, packet.data);
            }
            PcapBlockOwned::NG(Block::SectionHeader(_)) => self.interfaces.clear(),
            PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                self.interfaces.push(Interface {
                    link_type: (idb.linktype.0 as u32) & LINKTYPE_MASK,
                    snaplen: idb.snaplen,
                    units_per_second: idb.ts_resolution().unwrap_or(1_000_000),
                    offset_seconds: idb.ts_offset(),
                });
                let mut info = sender.info().clone();
                info.link_types.push((idb.linktype.0 as u32) & LINKTYPE_MASK);
                info.snaplen = info.snaplen.max(idb.snaplen);
                sender.set_info(info);
            }
            PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                self.frame += 1;
                let interface = self.interfaces.get(epb.if_id as usize).copied();
                let ts = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                let meta = PacketMeta {
                    frame: self.frame,
                    timestamp_ns: interface.map(|i| timestamp_ns(ts, i)).unwrap_or(0),
                    link_type: interface.map(|i| i.link_type).unwrap_or(UNDEFINED_INTERFACE),
                    wire_length: epb.origlen,
                    reassembled: false,
                };
                sender.packet(meta, epb.packet_data());
            }
            PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                self.frame += 1;
                // A simple packet block belongs to the first interface and has no time.
                let interface = self.interfaces.first().copied();
                let meta = PacketMeta {
                    frame: self.frame,
                    timestamp_ns: 0,
                    link_type: interface.map(|i| i.link_type).unwrap_or(UNDEFINED_INTERFACE),
                    wire_length: spb.origlen,
                    reassembled: false,
                };
                // The block holds min(original length, snaplen) bytes plus padding.
                let snaplen = interface.map(|i| i.snaplen).filter(|s| *s > 0).unwrap_or(u32::MAX);
                let captured = spb.origlen.min(snaplen) as usize;
                let data = spb.packet_data();
                sender.packet(meta, &data[..captured.min(data.len())]);
            }
            // Wireshark numbers these records as frames too; counting them
            // keeps `frame` equal to Wireshark's frame.number.
            PcapBlockOwned::NG(Block::Custom(_) | Block::SystemdJournalExport(_)) => self.frame += 1,
            PcapBlockOwned::NG(_) => {}
        }
        Ok(())
    }
}

/// Converts a pcapng timestamp in interface units to Unix nanoseconds,
/// saturating instead of overflowing on absurd values.
fn timestamp_ns(ts: u64, interface: Interface) -> i64 {
    let units = u128::from(interface.units_per_second.max(1));
    let nanos = u128::from(ts) * 1_000_000_000 / units;
    let offset = i128::from(interface.offset_seconds) * 1_000_000_000;
    (nanos as i128 + offset).clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcapng_timestamps_in_any_resolution() {
        let micro = Interface { link_type: 1, snaplen: 0, units_per_second: 1_000_000, offset_seconds: 0 };
        assert_eq!(timestamp_ns(1_500_000, micro), 1_500_000_000);
        let nano = Interface { units_per_second: 1_000_000_000, ..micro };
        assert_eq!(timestamp_ns(42, nano), 42);
        let binary = Interface { units_per_second: 1 << 10, offset_seconds: 10, ..micro };
        assert_eq!(timestamp_ns(512, binary), 10_500_000_000);
        let absurd = Interface { units_per_second: 1, ..micro };
        assert_eq!(timestamp_ns(u64::MAX, absurd), i64::MAX);
    }
}
