//! Writing a file's decoded content under the extraction directory.
//!
//! Paths are made from the shard number, a counter, a SHA-256 in hex and
//! the file ID only; nothing from the traffic (file names, URIs) becomes
//! part of a path.

use std::fs;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Directory (under the extraction directory) of content being received.
pub const PARTIAL_DIR: &str = ".partial";
/// Directory (under the extraction directory) of incomplete content.
pub const INCOMPLETE_DIR: &str = "incomplete";
/// Write buffer of a file being extracted.
pub const WRITE_BUFFER: usize = 32 << 10;

/// Content being written to `DIR/.partial/<shard>-<n>`.
pub struct Extraction {
    temp: PathBuf,
    /// `None` once the file was moved or removed.
    writer: Option<BufWriter<fs::File>>,
}

impl Extraction {
    /// Creates the temporary file (and `dir/.partial` if needed).
    pub fn create(dir: &Path, shard: usize, n: u64) -> io::Result<Extraction> {
        let partial = dir.join(PARTIAL_DIR);
        fs::create_dir_all(&partial)?;
        let temp = partial.join(format!("{shard}-{n}"));
        let file = fs::File::create(&temp)?;
        Ok(Extraction { temp, writer: Some(BufWriter::with_capacity(WRITE_BUFFER, file)) })
    }

    pub fn write(&mut self, data: &[u8]) -> io::Result<()> {
        match self.writer.as_mut() {
            Some(w) => w.write_all(data),
            None => Err(io::ErrorKind::NotConnected.into()),
        }
    }

    /// Leaves a hole of `len` bytes (missing content reads as zeros).
    pub fn skip(&mut self, len: u64) -> io::Result<()> {
        let len = i64::try_from(len).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        match self.writer.as_mut() {
            Some(w) => w.seek(SeekFrom::Current(len)).map(|_| ()),
            None => Err(io::ErrorKind::NotConnected.into()),
        }
    }

    /// Moves the content to `dir/<name>` (`name` may hold one directory
    /// level, created if needed). With `dedup`, an existing `dir/<name>` is
    /// kept and this content dropped (the name is its hash, so it is the
    /// same content).
    pub fn finish(mut self, dir: &Path, name: &str, dedup: bool) -> io::Result<()> {
        let result = self.move_to(dir, name, dedup);
        if result.is_err() {
            self.remove();
        }
        result
    }

    fn move_to(&mut self, dir: &Path, name: &str, dedup: bool) -> io::Result<()> {
        self.flush_and_close()?;
        move_temp(&self.temp, dir, name, dedup)
    }

    /// Writes what is buffered and closes the file (a hole at the end is
    /// part of the content).
    fn flush_and_close(&mut self) -> io::Result<()> {
        let Some(writer) = self.writer.take() else { return Err(io::ErrorKind::NotConnected.into()) };
        let file = writer.into_inner().map_err(|e| e.into_error())?;
        let end = file.metadata()?.len().max(position(&file)?);
        file.set_len(end)
    }

    /// Closes the content and keeps it in its temporary file, for content
    /// whose name another thread decides (an FTP data connection's content
    /// is named once the writer has matched it to its command): no file
    /// descriptor or write buffer is held while it waits.
    pub fn close(mut self) -> io::Result<ClosedExtraction> {
        match self.flush_and_close() {
            Ok(()) => Ok(ClosedExtraction { temp: Some(std::mem::take(&mut self.temp)) }),
            Err(e) => {
                self.remove();
                Err(e)
            }
        }
    }

    /// Drops the content.
    pub fn remove(&mut self) {
        if self.writer.take().is_some() || self.temp.exists() {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// Moves `temp` to `dir/<name>` (see [`Extraction::finish`]).
fn move_temp(temp: &Path, dir: &Path, name: &str, dedup: bool) -> io::Result<()> {
    let target = dir.join(name);
    if dedup && fs::symlink_metadata(&target).is_ok() {
        return fs::remove_file(temp);
    }
    if let Some(parent) = target.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::rename(temp, &target)
}

/// Content written and closed, waiting in its temporary file for its name
/// ([`Extraction::close`]); removed if dropped before it is moved.
#[derive(Debug)]
pub struct ClosedExtraction {
    /// `None` once moved or removed.
    temp: Option<PathBuf>,
}

impl ClosedExtraction {
    /// Moves the content to `dir/<name>`, as [`Extraction::finish`] does.
    pub fn finish(mut self, dir: &Path, name: &str, dedup: bool) -> io::Result<()> {
        let Some(temp) = self.temp.take() else { return Err(io::ErrorKind::NotConnected.into()) };
        let result = move_temp(&temp, dir, name, dedup);
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result
    }
}

impl Drop for ClosedExtraction {
    /// Content never named (its data connection matched no command) leaves
    /// no temporary file behind.
    fn drop(&mut self) {
        if let Some(temp) = self.temp.take() {
            let _ = fs::remove_file(temp);
        }
    }
}

fn position(mut file: &fs::File) -> io::Result<u64> {
    file.stream_position()
}

impl Drop for Extraction {
    /// Content never finished (its file was dropped) leaves no temporary
    /// file behind.
    fn drop(&mut self) {
        if self.writer.is_some() {
            self.remove();
        }
    }
}

/// Whether `name` is safe as one path component: non-empty, only
/// `[A-Za-z0-9._-]`, not `.` or `..`.
pub fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_names() {
        assert!(safe_name("F12-0"));
        assert!(safe_name("a.b_c-d"));
        for bad in ["", ".", "..", "../x", "a/b", "a\\b", "a b", "é", "a\0"] {
            assert!(!safe_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn holes_and_moves() {
        let dir = tempfile::tempdir().unwrap();
        let mut e = Extraction::create(dir.path(), 3, 7).unwrap();
        let temp = dir.path().join(".partial/3-7");
        assert!(temp.exists());
        e.write(b"ab").unwrap();
        e.skip(3).unwrap();
        e.write(b"c").unwrap();
        e.skip(2).unwrap();
        e.finish(dir.path(), "incomplete/F1-0", false).unwrap();
        assert!(!temp.exists());
        assert_eq!(fs::read(dir.path().join("incomplete/F1-0")).unwrap(), b"ab\0\0\0c\0\0");
        // Closed, then moved by another owner; or dropped: removed.
        let mut e = Extraction::create(dir.path(), 3, 9).unwrap();
        e.write(b"xyz").unwrap();
        e.skip(1).unwrap();
        let closed = e.close().unwrap();
        assert_eq!(fs::read(dir.path().join(".partial/3-9")).unwrap(), b"xyz\0");
        closed.finish(dir.path(), "abc", true).unwrap();
        assert_eq!(fs::read(dir.path().join("abc")).unwrap(), b"xyz\0");
        let mut e = Extraction::create(dir.path(), 3, 10).unwrap();
        e.write(b"other").unwrap();
        // Same name with dedup: the existing content stays.
        e.close().unwrap().finish(dir.path(), "abc", true).unwrap();
        assert_eq!(fs::read(dir.path().join("abc")).unwrap(), b"xyz\0");
        assert!(!dir.path().join(".partial/3-10").exists());
        let mut e = Extraction::create(dir.path(), 3, 11).unwrap();
        e.write(b"x").unwrap();
        drop(e.close().unwrap());
        assert!(!dir.path().join(".partial/3-11").exists());
        // Dropped unfinished: no temporary file left.
        let mut e = Extraction::create(dir.path(), 3, 8).unwrap();
        e.write(b"x").unwrap();
        drop(e);
        assert!(!dir.path().join(".partial/3-8").exists());
    }
}
