//! Live capture from a network interface through libpcap.

use crate::CaptureError;
use crate::batch::SourceInfo;
use crate::file_source::PacketSink;
use crate::pipeline::BatchSender;
use netcap_decoder::PacketMeta;
use std::time::{Duration, Instant};

/// How to open an interface.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    pub interface: String,
    /// BPF filter expression, empty for none.
    pub bpf: String,
    pub promiscuous: bool,
    pub snaplen: u32,
    /// Kernel buffer size in bytes.
    pub buffer_size: u32,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            interface: String::new(),
            bpf: String::new(),
            promiscuous: true,
            snaplen: 262_144,
            buffer_size: 64 << 20,
        }
    }
}

/// How long one wait for packets may last, so a stop request or a quiet
/// interface never leaves records waiting. libpcap's own read timeout does
/// not expire on Linux (TPACKET_V3) while no packet arrives, so the capture
/// is non-blocking and netcap waits on its descriptor itself.
const READ_TIMEOUT_MS: i32 = 100;
/// A partial batch is handed on after this long, so records reach the files
/// (as complete zstd frames) well within a second even on a quiet link.
const MAX_BATCH_AGE: Duration = Duration::from_millis(250);

/// Opens the interface; errors here are reported before any output is made.
pub(crate) fn open(options: &LiveOptions) -> Result<pcap::Capture<pcap::Active>, CaptureError> {
    let live = |e: pcap::Error| CaptureError::Live(format!("{}: {e}", options.interface));
    let inactive = pcap::Capture::from_device(options.interface.as_str())
        .map_err(live)?
        .promisc(options.promiscuous)
        .snaplen(i32::try_from(options.snaplen).unwrap_or(i32::MAX))
        .timeout(READ_TIMEOUT_MS)
        .buffer_size(i32::try_from(options.buffer_size).unwrap_or(i32::MAX))
        .precision(pcap::Precision::Nano);
    let mut capture = inactive.open().map_err(live)?.setnonblock().map_err(live)?;
    if !options.bpf.is_empty() {
        capture
            .filter(&options.bpf, true)
            .map_err(|e| CaptureError::Live(format!("{}: filter {:?}: {e}", options.interface, options.bpf)))?;
    }
    Ok(capture)
}

/// Reads packets until the stop flag is set or the capture ends. Returns the
/// number of packets libpcap dropped, if it knows.
pub(crate) fn read_live(
    mut capture: pcap::Capture<pcap::Active>,
    options: &LiveOptions,
    sender: &mut BatchSender,
) -> Result<Option<u64>, CaptureError> {
    let link_type = capture.get_datalink().0 as u32;
    sender.set_info(SourceInfo { link_types: vec![link_type], snaplen: options.snaplen });
    let mut frame = 0u64;
    let mut batch_started = Instant::now();
    while !sender.stopped() {
        match capture.next_packet() {
            Ok(packet) => {
                frame += 1;
                let ts = packet.header.ts;
                // Opened with nanosecond precision: tv_usec holds nanoseconds.
                let meta = PacketMeta {
                    frame,
                    timestamp_ns: ts.tv_sec * 1_000_000_000 + ts.tv_usec,
                    link_type,
                    wire_length: packet.header.len,
                    reassembled: false,
                };
                if sender.pending() == 0 {
                    batch_started = Instant::now();
                }
                sender.push(meta, packet.data);
            }
            Err(pcap::Error::TimeoutExpired) => wait_readable(&capture, READ_TIMEOUT_MS),
            Err(pcap::Error::NoMorePackets) => break,
            Err(e) => return Err(CaptureError::Live(format!("{}: {e}", options.interface))),
        }
        if sender.pending() > 0 && batch_started.elapsed() >= MAX_BATCH_AGE {
            sender.flush();
        }
    }
    Ok(capture.stats().ok().map(|s| u64::from(s.dropped) + u64::from(s.if_dropped)))
}

/// Waits until the capture has packets or `timeout_ms` passes.
fn wait_readable(capture: &pcap::Capture<pcap::Active>, timeout_ms: i32) {
    use std::os::fd::AsRawFd;
    let mut fd = libc::pollfd { fd: capture.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd, owned by this frame, for the whole call.
    // Errors (EINTR from a signal) just end the wait early.
    unsafe {
        libc::poll(&mut fd, 1, timeout_ms);
    }
}
