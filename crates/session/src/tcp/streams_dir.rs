//! `capture -streams DIR`: each direction's reassembled bytes in a file of
//! its own, named
//! `<first frame, 8 digits>-<client ip>.<client port>-<server ip>.<server port>.<c2s|s2c>`
//! (tcpflow's and Netcap's `-conns` idea; the way reassembly is checked
//! against tshark's `follow,tcp,raw`). Bytes missing from the stream (gaps)
//! are left out, as tshark leaves them out. Names are built from numbers and
//! addresses only.
//!
//! Writes are buffered per direction ([`BUFFER`] bytes) and appended to the
//! file when the buffer fills and when the connection ends, so an open
//! connection holds no file descriptor and at most two buffers.

use crate::ConnInfo;
use crate::protocols::Direction;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Bytes buffered per direction before they are appended to the file.
pub const BUFFER: usize = 64 << 10;

/// One connection's two stream files.
#[derive(Debug, Default)]
pub struct StreamFiles {
    buffers: [Vec<u8>; 2],
}

/// What writing stream files did in one shard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamFileCounters {
    pub bytes: u64,
    pub errors: u64,
}

/// The file name of one direction of a connection.
pub fn file_name(conn: &ConnInfo, dir: Direction) -> String {
    let suffix = match dir {
        Direction::ToServer => "c2s",
        Direction::ToClient => "s2c",
    };
    format!(
        "{:08}-{}.{}-{}.{}.{suffix}",
        conn.first.frame, conn.client_ip, conn.client_port, conn.server_ip, conn.server_port
    )
}

impl StreamFiles {
    /// Bytes held in buffers.
    pub fn memory(&self) -> usize {
        self.buffers.iter().map(Vec::capacity).sum()
    }

    /// Adds bytes of `dir`; appends the buffer to the file when it is full.
    pub fn write(
        &mut self,
        dir_path: &Path,
        conn: &ConnInfo,
        dir: Direction,
        bytes: &[u8],
        c: &mut StreamFileCounters,
    ) {
        let buffer = &mut self.buffers[dir.index()];
        if buffer.len() + bytes.len() > BUFFER {
            flush(dir_path, conn, dir, buffer, c);
        }
        if bytes.len() >= BUFFER {
            append(dir_path, conn, dir, bytes, c);
        } else {
            if buffer.capacity() == 0 {
                buffer.reserve_exact(BUFFER.min(bytes.len().next_power_of_two().max(4096)));
            }
            buffer.extend_from_slice(bytes);
        }
    }

    /// Appends what is buffered; frees the buffers.
    pub fn finish(&mut self, dir_path: &Path, conn: &ConnInfo, c: &mut StreamFileCounters) {
        for dir in [Direction::ToServer, Direction::ToClient] {
            let buffer = &mut self.buffers[dir.index()];
            flush(dir_path, conn, dir, buffer, c);
            *buffer = Vec::new();
        }
    }
}

fn flush(dir_path: &Path, conn: &ConnInfo, dir: Direction, buffer: &mut Vec<u8>, c: &mut StreamFileCounters) {
    if !buffer.is_empty() {
        append(dir_path, conn, dir, buffer, c);
        buffer.clear();
    }
}

fn append(dir_path: &Path, conn: &ConnInfo, dir: Direction, bytes: &[u8], c: &mut StreamFileCounters) {
    let path: PathBuf = dir_path.join(file_name(conn, dir));
    let written =
        std::fs::OpenOptions::new().create(true).append(true).open(&path).and_then(|mut f| f.write_all(bytes));
    match written {
        Ok(()) => c.bytes += bytes.len() as u64,
        Err(_) => c.errors += 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PacketTime;

    #[test]
    fn names_and_appends() {
        let dir = tempfile::tempdir().unwrap();
        let conn = ConnInfo {
            client_ip: "2001:db8::1".parse().unwrap(),
            client_port: 5000,
            server_ip: "2001:db8::2".parse().unwrap(),
            server_port: 80,
            first: PacketTime { timestamp_ns: 0, frame: 42 },
            community_id: String::new(),
        };
        assert_eq!(file_name(&conn, Direction::ToClient), "00000042-2001:db8::1.5000-2001:db8::2.80.s2c");
        let mut files = StreamFiles::default();
        let mut c = StreamFileCounters::default();
        files.write(dir.path(), &conn, Direction::ToServer, b"GET / ", &mut c);
        files.write(dir.path(), &conn, Direction::ToServer, &vec![b'x'; BUFFER], &mut c);
        files.write(dir.path(), &conn, Direction::ToServer, b"!", &mut c);
        files.finish(dir.path(), &conn, &mut c);
        let written = std::fs::read(dir.path().join(file_name(&conn, Direction::ToServer))).unwrap();
        assert_eq!(written.len(), 6 + BUFFER + 1);
        assert!(written.starts_with(b"GET / x") && written.ends_with(b"x!"));
        assert!(!dir.path().join(file_name(&conn, Direction::ToClient)).exists(), "no bytes, no file");
        assert_eq!(c, StreamFileCounters { bytes: written.len() as u64, errors: 0 });
        // An unwritable directory is counted, not fatal.
        let mut c = StreamFileCounters::default();
        let mut files = StreamFiles::default();
        files.write(&dir.path().join("missing"), &conn, Direction::ToServer, b"x", &mut c);
        files.finish(&dir.path().join("missing"), &conn, &mut c);
        assert_eq!(c.errors, 1);
    }
}
