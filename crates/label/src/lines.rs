//! Line-by-line reading of ground-truth files with a bound on line length,
//! so a file without line breaks cannot take all memory.

use crate::error::LabelError;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Longest line accepted (eve.json events with large payloads stay well
/// below; a longer line is reported as an error).
pub const MAX_LINE: usize = 16 << 20;

/// Calls `each(line_number, line)` for every line of `input` (without its
/// `\n` or `\r\n`), numbering from 1. Lines must be UTF-8 unless `lossy`.
pub fn for_each_line<R: Read>(
    file: &Path,
    input: R,
    lossy: bool,
    mut each: impl FnMut(u64, &str) -> Result<(), LabelError>,
) -> Result<(), LabelError> {
    let mut reader = BufReader::with_capacity(256 << 10, input);
    let mut buf = Vec::new();
    let mut number = 0u64;
    loop {
        buf.clear();
        number += 1;
        let read = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|e| LabelError::input(file, number, format!("read error: {e}")))?;
        if read == 0 {
            return Ok(());
        }
        if buf.len() > MAX_LINE {
            return Err(LabelError::input(file, number, format!("line longer than {} MiB", MAX_LINE >> 20)));
        }
        let mut line = buf.as_slice();
        line = line.strip_suffix(b"\n").unwrap_or(line);
        line = line.strip_suffix(b"\r").unwrap_or(line);
        if lossy {
            each(number, &String::from_utf8_lossy(line))?;
        } else {
            let text = std::str::from_utf8(line)
                .map_err(|e| LabelError::input(file, number, format!("not UTF-8 text ({e})")))?;
            each(number, text)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_numbered_and_stripped() {
        let mut seen = Vec::new();
        for_each_line(Path::new("x"), &b"a\r\nb\n\nc"[..], false, |n, l| {
            seen.push((n, l.to_owned()));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, [(1, "a".into()), (2, "b".into()), (3, "".into()), (4, "c".into())]);
        let err = for_each_line(Path::new("x"), &b"ok\n\xff\n"[..], false, |_, _| Ok(())).unwrap_err();
        assert!(err.to_string().starts_with("x:2: not UTF-8"), "{err}");
    }
}
