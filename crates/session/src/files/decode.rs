//! Undoing a file's Content-Encoding, incrementally and in bounded steps.
//!
//! A [`Pipeline`] holds one stage per content coding, in decoding order (the
//! reverse of the declared list: "gzip, br" was gzipped first, so brotli is
//! undone first). Bytes pushed into it run through the stages in steps of at
//! most [`CHUNK`] output bytes per stage; each step's output goes on to the
//! next stage, and the last stage's to a sink that can stop the pipeline
//! (the size limit). Nothing is buffered beyond the stages' own state and
//! their output buffers, so a file of any size decodes in bounded memory,
//! and a decompression bomb costs only the work up to the limit.
//!
//! - gzip (RFC 1952), with any number of members: the member headers are
//!   parsed here, skipping the optional name, comment and extra field
//!   without keeping them (flate2's own header parser keeps the name and
//!   comment in memory without a bound); the header CRC, the members'
//!   CRC-32 and size are checked. The deflate data goes to flate2's raw
//!   inflater.
//! - deflate: RFC 9110 says zlib-wrapped (RFC 1950); some servers send raw
//!   deflate (RFC 1951). The first two bytes decide: a valid zlib header
//!   (method 8, window at most 32 KiB, header check a multiple of 31) means
//!   zlib, anything else raw deflate.
//! - br (RFC 7932) through brotli-decompressor, in strict mode: large-window
//!   streams are refused, so the window, the biggest allocation, is at most
//!   16 MiB, and it grows only as the output needs it.
//!
//! Bytes after the end of a compressed stream (other than further gzip
//! members) are an error, as is a stream that has not ended when its
//! content has.

use brotli_decompressor::{
    BrotliDecompressStream, BrotliResult, BrotliState, HuffmanCode, SliceWrapper, StandardAlloc,
};
use flate2::{Crc, Decompress, FlushDecompress, Status};

/// Output bytes one stage produces per step: the size of each stage's
/// output buffer.
pub const CHUNK: usize = 32 << 10;

/// Content codings undone for one file at most ("gzip, br" is two); a
/// longer list is treated like an unknown coding.
pub const MAX_CODINGS: usize = 4;

/// Longest normalised Content-Encoding kept for the record, in bytes.
const MAX_ENCODING_NAME: usize = 128;

/// Heap estimate of a flate2 (miniz_oxide) inflater: its 32 KiB window and
/// Huffman tables.
const INFLATE_STATE_BYTES: usize = 44 << 10;

/// A content coding this module undoes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Gzip,
    Deflate,
    Brotli,
}

impl Coding {
    /// Name in records ("x-gzip" is recorded as "gzip").
    pub fn name(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
            Coding::Brotli => "br",
        }
    }
}

/// The content codings of a declared Content-Encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Codings {
    /// In declared order (the order they were applied). Empty: identity.
    /// `None` if a coding is unknown or there are more than
    /// [`MAX_CODINGS`]: nothing is undone.
    pub known: Option<Vec<Coding>>,
    /// The list normalised for the record: lower case, "x-gzip" as "gzip",
    /// "identity" and empty items left out, ", " between items; unknown
    /// items as sent (printable ASCII only), at most 128 bytes.
    pub normalised: String,
}

/// Parses a declared Content-Encoding ("gzip", "deflate, br", "x-gzip",
/// "identity", "").
pub fn parse_codings(declared: &str) -> Codings {
    let mut known = Some(Vec::new());
    let mut normalised = String::new();
    for item in declared.split(',') {
        let item = item.trim();
        let coding = match item.to_ascii_lowercase().as_str() {
            "" | "identity" => continue,
            "gzip" | "x-gzip" => Some(Coding::Gzip),
            "deflate" => Some(Coding::Deflate),
            "br" => Some(Coding::Brotli),
            _ => None,
        };
        match (coding, known.as_mut()) {
            (Some(c), Some(list)) if list.len() < MAX_CODINGS => list.push(c),
            _ => known = None,
        }
        if !normalised.is_empty() {
            normalised.push_str(", ");
        }
        match coding {
            Some(c) => normalised.push_str(c.name()),
            None => normalised
                .extend(item.chars().filter(|c| c.is_ascii_graphic() || *c == ' ').map(|c| c.to_ascii_lowercase())),
        }
        if normalised.len() > MAX_ENCODING_NAME {
            // Only ASCII was pushed, so any cut is a char boundary.
            normalised.truncate(MAX_ENCODING_NAME);
            known = None;
            break;
        }
    }
    Codings { known, normalised }
}

/// Why content could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("not a gzip member header")]
    GzipHeader,
    #[error("gzip member CRC-32 or size does not match its content")]
    GzipTrailer,
    #[error("corrupt deflate data")]
    Deflate,
    #[error("corrupt brotli data")]
    Brotli,
    #[error("bytes after the end of the compressed stream")]
    TrailingData,
    #[error("the compressed stream did not end")]
    Unfinished,
}

/// What the sink wants after a piece of output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// Decode nothing more (the size limit was reached).
    Stop,
}

/// The decoders of one file's content codings.
pub struct Pipeline {
    /// In decoding order, each with its output buffer of [`CHUNK`] bytes.
    stages: Vec<(Stage, Box<[u8]>)>,
}

impl Pipeline {
    /// Decoders for `codings` in declared order (the pipeline undoes the
    /// last one first).
    pub fn new(codings: &[Coding]) -> Pipeline {
        let stages = codings
            .iter()
            .rev()
            .map(|&c| {
                let stage = match c {
                    Coding::Gzip => Stage::Gzip(Box::new(Gzip::new())),
                    Coding::Deflate => Stage::Deflate(Box::default()),
                    Coding::Brotli => Stage::Brotli(Box::new(Brotli::new())),
                };
                (stage, vec![0u8; CHUNK].into_boxed_slice())
            })
            .collect();
        Pipeline { stages }
    }

    /// Decodes `input`, handing each piece of output (at most [`CHUNK`]
    /// bytes) to `sink` as it comes. Returns [`Flow::Stop`] if the sink
    /// said so (the rest of `input` is then not decoded).
    pub fn push(&mut self, input: &[u8], sink: &mut dyn FnMut(&[u8]) -> Flow) -> Result<Flow, DecodeError> {
        run(&mut self.stages, input, sink)
    }

    /// Checks, once the content has ended, that every stream ended too.
    pub fn finish(&self) -> Result<(), DecodeError> {
        if self.stages.iter().all(|(s, _)| s.ended()) { Ok(()) } else { Err(DecodeError::Unfinished) }
    }

    /// Heap bytes held: output buffers and decoder states.
    pub fn memory(&self) -> usize {
        self.stages.iter().map(|(s, buf)| buf.len() + s.memory()).sum::<usize>()
            + self.stages.capacity() * std::mem::size_of::<(Stage, Box<[u8]>)>()
    }
}

/// Runs `input` through `stages` (first stage first) into `sink`.
fn run(
    stages: &mut [(Stage, Box<[u8]>)],
    mut input: &[u8],
    sink: &mut dyn FnMut(&[u8]) -> Flow,
) -> Result<Flow, DecodeError> {
    let Some(((stage, out), rest)) = stages.split_first_mut() else {
        return Ok(if input.is_empty() { Flow::Continue } else { sink(input) });
    };
    loop {
        let (consumed, produced) = stage.step(input, out)?;
        input = input.get(consumed..).unwrap_or_default();
        if produced > 0 {
            let piece = out.get(..produced).unwrap_or_default();
            if run(rest, piece, sink)? == Flow::Stop {
                return Ok(Flow::Stop);
            }
        }
        // No progress: the stage needs more input. A full output buffer may
        // leave more output pending, so the stage is asked again even when
        // the input is used up.
        if (consumed == 0 && produced == 0) || (input.is_empty() && produced < out.len()) {
            return Ok(Flow::Continue);
        }
    }
}

enum Stage {
    Gzip(Box<Gzip>),
    Deflate(Box<Deflate>),
    Brotli(Box<Brotli>),
}

impl Stage {
    /// Consumes a prefix of `input` and writes output to the start of
    /// `out`: (consumed, produced). (0, 0) means it needs more input.
    fn step(&mut self, input: &[u8], out: &mut [u8]) -> Result<(usize, usize), DecodeError> {
        match self {
            Stage::Gzip(g) => g.step(input, out),
            Stage::Deflate(d) => d.step(input, out),
            Stage::Brotli(b) => b.step(input, out),
        }
    }

    /// Whether the stream ended where it may (gzip: after a whole member).
    fn ended(&self) -> bool {
        match self {
            Stage::Gzip(g) => matches!(g.phase, GzipPhase::Between),
            Stage::Deflate(d) => d.ended,
            Stage::Brotli(b) => b.ended,
        }
    }

    fn memory(&self) -> usize {
        match self {
            Stage::Gzip(_) => std::mem::size_of::<Gzip>() + INFLATE_STATE_BYTES,
            Stage::Deflate(_) => std::mem::size_of::<Deflate>() + INFLATE_STATE_BYTES,
            Stage::Brotli(b) => b.memory(),
        }
    }
}

/// One inflate step: (consumed, produced, stream ended).
fn inflate(d: &mut Decompress, input: &[u8], out: &mut [u8]) -> Result<(usize, usize, bool), DecodeError> {
    let (in_before, out_before) = (d.total_in(), d.total_out());
    let status = d.decompress(input, out, FlushDecompress::None).map_err(|_| DecodeError::Deflate)?;
    // Both differences are bounded by the slices' lengths.
    let consumed = (d.total_in() - in_before) as usize;
    let produced = (d.total_out() - out_before) as usize;
    Ok((consumed, produced, status == Status::StreamEnd))
}

/// deflate, zlib-wrapped or raw.
#[derive(Default)]
struct Deflate {
    /// The first byte while the second (which decides the framing) has not
    /// come.
    first: Option<u8>,
    inflate: Option<Decompress>,
    ended: bool,
}

/// Whether two bytes are a zlib header (RFC 1950): method 8 (deflate), a
/// window of at most 32 KiB, and a header check that makes them a multiple
/// of 31.
fn is_zlib_header(b0: u8, b1: u8) -> bool {
    b0 & 0x0f == 8 && b0 >> 4 <= 7 && (u16::from(b0) << 8 | u16::from(b1)) % 31 == 0
}

impl Deflate {
    fn step(&mut self, input: &[u8], out: &mut [u8]) -> Result<(usize, usize), DecodeError> {
        if self.ended {
            return if input.is_empty() { Ok((0, 0)) } else { Err(DecodeError::TrailingData) };
        }
        if let Some(d) = self.inflate.as_mut() {
            let (consumed, produced, end) = inflate(d, input, out)?;
            self.ended = end;
            return Ok((consumed, produced));
        }
        // The framing is not known yet.
        let (b0, b1, used) = match (self.first, input) {
            (_, []) => return Ok((0, 0)),
            (None, [b0]) => {
                self.first = Some(*b0);
                return Ok((1, 0));
            }
            (None, [b0, b1, ..]) => (*b0, *b1, 0),
            (Some(b0), [b1, ..]) => (b0, *b1, 1),
        };
        let mut d = Decompress::new(is_zlib_header(b0, b1));
        let mut produced = 0;
        if used == 1 {
            // The byte kept from before goes first. One byte ends no
            // deflate stream and cannot fill `out`.
            let (consumed, p, end) = inflate(&mut d, &[b0], out)?;
            if consumed != 1 || end {
                return Err(DecodeError::Deflate);
            }
            produced = p;
            self.first = None;
        }
        let (consumed, p, end) = inflate(&mut d, input, out.get_mut(produced..).unwrap_or_default())?;
        self.inflate = Some(d);
        self.ended = end;
        Ok((consumed, produced + p))
    }
}

/// gzip header flags (RFC 1952 2.3.1).
const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;
const FRESERVED: u8 = 0xe0;

/// gzip, any number of members.
struct Gzip {
    phase: GzipPhase,
    /// Raw inflater of the current member, reset for each.
    inflate: Decompress,
    /// CRC-32 and size of the current member's output.
    crc: Crc,
}

enum GzipPhase {
    Header(GzipHeader),
    Body,
    Trailer {
        bytes: [u8; 8],
        len: usize,
    },
    /// After a whole member: more bytes start another member.
    Between,
}

impl Gzip {
    fn new() -> Gzip {
        Gzip { phase: GzipPhase::Header(GzipHeader::default()), inflate: Decompress::new(false), crc: Crc::new() }
    }

    fn step(&mut self, input: &[u8], out: &mut [u8]) -> Result<(usize, usize), DecodeError> {
        let mut consumed = 0;
        loop {
            let rest = input.get(consumed..).unwrap_or_default();
            match &mut self.phase {
                GzipPhase::Header(h) => {
                    let (n, done) = h.step(rest)?;
                    consumed += n;
                    if !done {
                        return Ok((consumed, 0));
                    }
                    self.phase = GzipPhase::Body;
                }
                GzipPhase::Body => {
                    let (n, produced, end) = inflate(&mut self.inflate, rest, out)?;
                    consumed += n;
                    let piece = out.get(..produced).unwrap_or_default();
                    self.crc.update(piece);
                    if end {
                        self.phase = GzipPhase::Trailer { bytes: [0; 8], len: 0 };
                    }
                    if produced > 0 || !end {
                        return Ok((consumed, produced));
                    }
                }
                GzipPhase::Trailer { bytes, len } => {
                    let n = rest.len().min(8 - *len);
                    bytes[*len..*len + n].copy_from_slice(&rest[..n]);
                    *len += n;
                    consumed += n;
                    if *len < 8 {
                        return Ok((consumed, 0));
                    }
                    let crc = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
                    let size = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
                    if crc != self.crc.sum() || size != self.crc.amount() {
                        return Err(DecodeError::GzipTrailer);
                    }
                    self.inflate.reset(false);
                    self.crc.reset();
                    self.phase = GzipPhase::Between;
                }
                GzipPhase::Between => {
                    if rest.is_empty() {
                        return Ok((consumed, 0));
                    }
                    self.phase = GzipPhase::Header(GzipHeader::default());
                }
            }
        }
    }
}

/// A gzip member header being read.
struct GzipHeader {
    part: HeaderPart,
    fixed: [u8; 10],
    fixed_len: usize,
    flags: u8,
    /// Two-byte fields (XLEN, the header CRC).
    pair: [u8; 2],
    pair_len: usize,
    /// CRC-32 of the header so far (its low 16 bits are FHCRC's value).
    crc: Crc,
}

impl Default for GzipHeader {
    fn default() -> Self {
        GzipHeader {
            part: HeaderPart::Fixed,
            fixed: [0; 10],
            fixed_len: 0,
            flags: 0,
            pair: [0; 2],
            pair_len: 0,
            crc: Crc::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeaderPart {
    Fixed,
    ExtraLen,
    Extra { left: u16 },
    Name,
    Comment,
    HeaderCrc,
    Done,
}

impl GzipHeader {
    /// The part after `part` that this header's flags ask for.
    fn next(&self, part: HeaderPart) -> HeaderPart {
        let order = [
            (HeaderPart::ExtraLen, FEXTRA),
            (HeaderPart::Name, FNAME),
            (HeaderPart::Comment, FCOMMENT),
            (HeaderPart::HeaderCrc, FHCRC),
        ];
        let rank = |p: HeaderPart| match p {
            HeaderPart::Fixed => 0,
            HeaderPart::ExtraLen | HeaderPart::Extra { .. } => 1,
            HeaderPart::Name => 2,
            HeaderPart::Comment => 3,
            HeaderPart::HeaderCrc => 4,
            HeaderPart::Done => 5,
        };
        order.iter().skip(rank(part)).find(|(_, flag)| self.flags & flag != 0).map_or(HeaderPart::Done, |&(p, _)| p)
    }

    /// Reads header bytes from `input`: (consumed, header done).
    fn step(&mut self, input: &[u8]) -> Result<(usize, bool), DecodeError> {
        let mut i = 0;
        loop {
            let rest = input.get(i..).unwrap_or_default();
            match self.part {
                HeaderPart::Fixed => {
                    let n = rest.len().min(10 - self.fixed_len);
                    self.fixed[self.fixed_len..self.fixed_len + n].copy_from_slice(&rest[..n]);
                    self.fixed_len += n;
                    i += n;
                    // Refuse as soon as the bytes say it is not gzip.
                    let f = &self.fixed[..self.fixed_len];
                    let bad = f.first().is_some_and(|&b| b != 0x1f)
                        || f.get(1).is_some_and(|&b| b != 0x8b)
                        || f.get(2).is_some_and(|&b| b != 8)
                        || f.get(3).is_some_and(|&b| b & FRESERVED != 0);
                    if bad {
                        return Err(DecodeError::GzipHeader);
                    }
                    if self.fixed_len < 10 {
                        return Ok((i, false));
                    }
                    self.flags = self.fixed[3];
                    self.crc.update(&self.fixed);
                    self.part = self.next(HeaderPart::Fixed);
                }
                HeaderPart::ExtraLen | HeaderPart::HeaderCrc => {
                    let n = rest.len().min(2 - self.pair_len);
                    self.pair[self.pair_len..self.pair_len + n].copy_from_slice(&rest[..n]);
                    self.pair_len += n;
                    i += n;
                    if self.pair_len < 2 {
                        return Ok((i, false));
                    }
                    self.pair_len = 0;
                    let value = u16::from_le_bytes(self.pair);
                    if self.part == HeaderPart::ExtraLen {
                        self.crc.update(&self.pair);
                        self.part = HeaderPart::Extra { left: value };
                    } else if value != (self.crc.sum() & 0xffff) as u16 {
                        return Err(DecodeError::GzipHeader);
                    } else {
                        self.part = HeaderPart::Done;
                    }
                }
                HeaderPart::Extra { left } => {
                    let n = rest.len().min(usize::from(left));
                    self.crc.update(&rest[..n]);
                    i += n;
                    // n <= left, a u16.
                    let left = left - n as u16;
                    if left > 0 {
                        self.part = HeaderPart::Extra { left };
                        return Ok((i, false));
                    }
                    self.part = self.next(HeaderPart::Extra { left });
                }
                HeaderPart::Name | HeaderPart::Comment => match rest.iter().position(|&b| b == 0) {
                    Some(end) => {
                        self.crc.update(&rest[..=end]);
                        i += end + 1;
                        self.part = self.next(self.part);
                    }
                    None => {
                        self.crc.update(rest);
                        return Ok((input.len(), false));
                    }
                },
                HeaderPart::Done => return Ok((i, true)),
            }
        }
    }
}

type BrotliDecoder = BrotliState<StandardAlloc, StandardAlloc, StandardAlloc>;

/// br.
struct Brotli {
    state: BrotliDecoder,
    ended: bool,
}

impl Brotli {
    fn new() -> Brotli {
        // Strict: no large-window streams (windows beyond 16 MiB).
        let state =
            BrotliState::new_strict(StandardAlloc::default(), StandardAlloc::default(), StandardAlloc::default());
        Brotli { state, ended: false }
    }

    fn step(&mut self, input: &[u8], out: &mut [u8]) -> Result<(usize, usize), DecodeError> {
        if self.ended {
            return if input.is_empty() { Ok((0, 0)) } else { Err(DecodeError::TrailingData) };
        }
        let (mut available_in, mut input_offset) = (input.len(), 0);
        let (mut available_out, mut output_offset, mut total_out) = (out.len(), 0, 0);
        let result = BrotliDecompressStream(
            &mut available_in,
            &mut input_offset,
            input,
            &mut available_out,
            &mut output_offset,
            out,
            &mut total_out,
            &mut self.state,
        );
        match result {
            BrotliResult::ResultFailure => return Err(DecodeError::Brotli),
            BrotliResult::ResultSuccess => self.ended = true,
            BrotliResult::NeedsMoreInput | BrotliResult::NeedsMoreOutput => {}
        }
        Ok((input_offset.min(input.len()), output_offset.min(out.len())))
    }

    /// The decoder's allocations: the ring buffer (the window, at most 16
    /// MiB), Huffman tables and context maps.
    fn memory(&self) -> usize {
        let s = &self.state;
        let hc = std::mem::size_of::<HuffmanCode>();
        let group = |g: &brotli_decompressor::HuffmanTreeGroup<StandardAlloc, StandardAlloc>| {
            std::mem::size_of_val(g.htrees.slice()) + std::mem::size_of_val(g.codes.slice())
        };
        std::mem::size_of::<Brotli>()
            + s.ringbuffer.slice().len()
            + group(&s.literal_hgroup)
            + group(&s.insert_copy_hgroup)
            + group(&s.distance_hgroup)
            + s.context_map.slice().len()
            + s.dist_context_map.slice().len()
            + s.context_modes.slice().len()
            + (s.block_type_length_state.block_type_trees.slice().len()
                + s.block_type_length_state.block_len_trees.slice().len()
                + s.context_map_table.slice().len())
                * hc
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use std::io::Write;

    /// Decodes `input` pushed in pieces of `piece` bytes.
    fn decode(codings: &[Coding], input: &[u8], piece: usize) -> Result<Vec<u8>, DecodeError> {
        let mut p = Pipeline::new(codings);
        let mut out = Vec::new();
        for part in input.chunks(piece.max(1)) {
            p.push(part, &mut |b| {
                assert!(b.len() <= CHUNK);
                out.extend_from_slice(b);
                Flow::Continue
            })?;
        }
        p.finish()?;
        Ok(out)
    }

    fn text() -> Vec<u8> {
        (0..3000).flat_map(|i| format!("{i} bottles of beer on the wall\n").into_bytes()).collect()
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn codings_are_parsed_and_normalised() {
        let c = parse_codings(" X-GZip , identity,BR");
        assert_eq!(c.known, Some(vec![Coding::Gzip, Coding::Brotli]));
        assert_eq!(c.normalised, "gzip, br");
        let c = parse_codings("");
        assert_eq!(c.known, Some(vec![]));
        assert_eq!(c.normalised, "");
        let c = parse_codings("compress, gzip");
        assert_eq!(c.known, None);
        assert_eq!(c.normalised, "compress, gzip");
        let c = parse_codings("gzip,gzip,gzip,gzip,gzip");
        assert_eq!(c.known, None);
        let c = parse_codings(&"z".repeat(1000));
        assert_eq!(c.known, None);
        assert_eq!(c.normalised.len(), 128);
        assert_eq!(parse_codings("zst\u{7}d\u{e9}").normalised, "zstd");
    }

    #[test]
    fn zlib_header_detection() {
        assert!(is_zlib_header(0x78, 0x9c));
        assert!(is_zlib_header(0x78, 0x01));
        assert!(is_zlib_header(0x78, 0xda));
        assert!(!is_zlib_header(0x78, 0x00));
        // The raw deflate of the zeek fixture.
        assert!(!is_zlib_header(0xed, 0xbd));
    }

    #[test]
    fn gzip_with_header_fields_in_every_piece_size() {
        let data = text();
        let mut e = flate2::GzBuilder::new()
            .filename("a.txt")
            .comment("a comment")
            .extra(vec![1, 2, 3, 4])
            .write(Vec::new(), Compression::fast());
        e.write_all(&data).unwrap();
        let mut gz = e.finish().unwrap();
        // FHCRC, which GzBuilder does not write: set the flag and insert
        // the CRC-32's low 16 bits of the header before the deflate data.
        let header_len = 10 + 2 + 4 + 6 + 10;
        gz[3] |= FHCRC;
        let mut crc = Crc::new();
        crc.update(&gz[..header_len]);
        let check = (crc.sum() as u16).to_le_bytes();
        gz.splice(header_len..header_len, check);
        for piece in [1, 2, 3, 7, 100, gz.len()] {
            assert_eq!(decode(&[Coding::Gzip], &gz, piece).unwrap(), data, "piece {piece}");
        }
        gz[header_len] ^= 1;
        assert_eq!(decode(&[Coding::Gzip], &gz, 5), Err(DecodeError::GzipHeader));
    }

    #[test]
    fn gzip_errors() {
        let data = text();
        let gz = gzip(&data);
        // Not gzip at all: refused at the first byte.
        assert_eq!(decode(&[Coding::Gzip], b"<html>", 1), Err(DecodeError::GzipHeader));
        // Reserved flag.
        let mut bad = gz.clone();
        bad[3] = 0x20;
        assert_eq!(decode(&[Coding::Gzip], &bad, 64), Err(DecodeError::GzipHeader));
        // Wrong CRC-32, wrong size.
        for at in [gz.len() - 8, gz.len() - 1] {
            let mut bad = gz.clone();
            bad[at] ^= 0x40;
            assert_eq!(decode(&[Coding::Gzip], &bad, 64), Err(DecodeError::GzipTrailer));
        }
        // Cut in the middle, cut in the trailer.
        assert_eq!(decode(&[Coding::Gzip], &gz[..gz.len() / 2], 64), Err(DecodeError::Unfinished));
        assert_eq!(decode(&[Coding::Gzip], &gz[..gz.len() - 3], 64), Err(DecodeError::Unfinished));
        // Garbage after a member.
        let mut trailing = gz.clone();
        trailing.extend_from_slice(b"\0\0");
        assert_eq!(decode(&[Coding::Gzip], &trailing, 64), Err(DecodeError::GzipHeader));
    }

    #[test]
    fn deflate_both_framings_and_errors() {
        let data = text();
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), Compression::default());
        z.write_all(&data).unwrap();
        let zlib = z.finish().unwrap();
        let mut r = flate2::write::DeflateEncoder::new(Vec::new(), Compression::default());
        r.write_all(&data).unwrap();
        let raw = r.finish().unwrap();
        for piece in [1, 2, 3, 1000, usize::MAX] {
            assert_eq!(decode(&[Coding::Deflate], &zlib, piece).unwrap(), data, "zlib piece {piece}");
            assert_eq!(decode(&[Coding::Deflate], &raw, piece).unwrap(), data, "raw piece {piece}");
        }
        let mut trailing = zlib.clone();
        trailing.push(0);
        assert_eq!(decode(&[Coding::Deflate], &trailing, 1), Err(DecodeError::TrailingData));
        assert_eq!(decode(&[Coding::Deflate], &zlib[..zlib.len() - 1], 1), Err(DecodeError::Unfinished));
        // A zlib stream whose Adler-32 is wrong.
        let mut bad = zlib.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert_eq!(decode(&[Coding::Deflate], &bad, 1), Err(DecodeError::Deflate));
        // Block type 3 is invalid in raw deflate.
        assert_eq!(decode(&[Coding::Deflate], &[0x07, 0x00, 0x00], 1), Err(DecodeError::Deflate));
        // Only one byte: not ended.
        assert_eq!(decode(&[Coding::Deflate], &[0x78], 1), Err(DecodeError::Unfinished));
    }

    #[test]
    fn brotli_errors() {
        let br = include_bytes!("../../testdata/files/lines.br");
        let mut trailing = br.to_vec();
        trailing.push(0);
        assert_eq!(decode(&[Coding::Brotli], &trailing, 100), Err(DecodeError::TrailingData));
        assert_eq!(decode(&[Coding::Brotli], &br[..br.len() - 10], 100), Err(DecodeError::Unfinished));
        assert_eq!(decode(&[Coding::Brotli], b"\xff\xff\xff\xff\xff\xff", 1), Err(DecodeError::Brotli));
    }

    #[test]
    fn stacked_codings_undo_the_last_first() {
        let data = text();
        // gzip then deflate applied: "gzip, deflate".
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), Compression::default());
        z.write_all(&gzip(&data)).unwrap();
        let stacked = z.finish().unwrap();
        assert_eq!(decode(&[Coding::Gzip, Coding::Deflate], &stacked, 3).unwrap(), data);
        assert_eq!(decode(&[Coding::Deflate, Coding::Gzip], &stacked, 3), Err(DecodeError::GzipHeader));
        let br_of_gzip = include_bytes!("../../testdata/files/lines.gz.br");
        let lines = decode(&[Coding::Gzip, Coding::Brotli], br_of_gzip, 1).unwrap();
        assert_eq!(lines.len(), 273890);
    }

    #[test]
    fn a_stop_from_the_sink_ends_decoding_at_once() {
        let bomb = include_bytes!("../../testdata/files/zeros-64mib.br");
        let mut p = Pipeline::new(&[Coding::Brotli]);
        let mut seen = 0;
        let flow = p
            .push(bomb, &mut |b| {
                seen += b.len();
                if seen >= 1 << 20 { Flow::Stop } else { Flow::Continue }
            })
            .unwrap();
        assert_eq!(flow, Flow::Stop);
        assert_eq!(seen, 1 << 20);
        // The window (16 MiB here, as the stream says) and small tables.
        let memory = p.memory();
        assert!(memory > 16 << 20 && memory < 17 << 20, "{memory}");
    }
}
