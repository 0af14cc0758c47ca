//! The MIME type of a file from its first bytes.
//!
//! Binary formats by their signatures (the `infer` crate: images, archives,
//! documents, executables, audio, video, fonts; also HTML and XML by the
//! WHATWG rules, and `#!` scripts). For what has no signature, cheap rules
//! on the same bytes, after a UTF-8 byte order mark and leading whitespace:
//!
//! - `image/svg+xml`: starts with `<svg`, or is XML that mentions `<svg`;
//! - `application/json`: text that starts with `{` followed by `"` or `}`,
//!   or with `[` followed by `{`, `[`, `"`, `]`, a digit, `-`, `t`, `f` or
//!   `n` (whitespace allowed between);
//! - `text/plain`: valid UTF-8 (a sequence cut by the end of the sniffed
//!   bytes allowed) without control characters other than tab, line feed,
//!   form feed, carriage return and escape.
//!
//! Anything else is unknown (empty). JavaScript and CSS are text/plain.

/// Bytes of the content the type is sniffed from; formats whose signature
/// lies beyond them are not recognised.
pub const SNIFF_BYTES: usize = 4096;

/// The MIME type of content that starts with `head`; `cut`: the content
/// goes on after `head` (a multi-byte character may be cut at its end).
/// Empty when unknown.
pub fn sniff(head: &[u8], cut: bool) -> &'static str {
    if head.is_empty() {
        return "";
    }
    let text = skip_bom_and_whitespace(head);
    if let Some(kind) = infer::get(head) {
        let mime = kind.mime_type();
        if mime == "text/xml" && contains(text, b"<svg") {
            return "image/svg+xml";
        }
        return mime;
    }
    if starts_with_ignore_case(text, b"<svg") {
        return "image/svg+xml";
    }
    if !is_text(head, cut) {
        return "";
    }
    if is_json(text) {
        return "application/json";
    }
    "text/plain"
}

fn skip_bom_and_whitespace(buf: &[u8]) -> &[u8] {
    let buf = buf.strip_prefix(b"\xef\xbb\xbf").unwrap_or(buf);
    let start = buf.iter().position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')).unwrap_or(buf.len());
    buf.get(start..).unwrap_or_default()
}

fn starts_with_ignore_case(buf: &[u8], prefix: &[u8]) -> bool {
    buf.get(..prefix.len()).is_some_and(|b| b.eq_ignore_ascii_case(prefix))
}

fn contains(buf: &[u8], needle: &[u8]) -> bool {
    buf.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

/// UTF-8 without control characters other than \t \n \x0c \r and ESC.
fn is_text(buf: &[u8], cut: bool) -> bool {
    let valid = match std::str::from_utf8(buf) {
        Ok(s) => s,
        // An incomplete sequence at the very end of cut content is fine.
        Err(e) if cut && e.error_len().is_none() => {
            std::str::from_utf8(buf.get(..e.valid_up_to()).unwrap_or_default()).unwrap_or_default()
        }
        Err(_) => return false,
    };
    !valid.is_empty() && valid.chars().all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\x0c' | '\r' | '\x1b'))
}

fn is_json(text: &[u8]) -> bool {
    let (first, rest) = match text.split_first() {
        Some((&b, rest)) if b == b'{' || b == b'[' => (b, rest),
        _ => return false,
    };
    let next = rest.iter().copied().find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
    matches!(
        (first, next),
        (b'{', Some(b'"' | b'}')) | (b'[', Some(b'{' | b'[' | b'"' | b']' | b'0'..=b'9' | b'-' | b't' | b'f' | b'n'))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_signatures() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";
        assert_eq!(sniff(png, true), "image/png");
        assert_eq!(sniff(b"GIF89a\x01\x00\x01\x00\x80\x00\x00", true), "image/gif");
        assert_eq!(sniff(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", true), "image/jpeg");
        assert_eq!(sniff(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", true), "application/pdf");
        assert_eq!(sniff(b"PK\x03\x04\x14\x00\x00\x00\x08\x00", true), "application/zip");
        assert_eq!(sniff(b"\x1f\x8b\x08\x00\x00\x00\x00\x00", true), "application/gzip");
        assert_eq!(sniff(b"MZ\x90\x00\x03\x00\x00\x00", true), "application/vnd.microsoft.portable-executable");
    }

    #[test]
    fn text_rules() {
        assert_eq!(sniff(b"\n  <!DOCTYPE html>\n<html>", true), "text/html");
        assert_eq!(sniff(b"<html lang=en>", false), "text/html");
        assert_eq!(sniff(b"<?xml version=\"1.0\"?><feed/>", false), "text/xml");
        assert_eq!(sniff(b"<?xml version=\"1.0\"?>\n<svg xmlns=\"x\"/>", false), "image/svg+xml");
        assert_eq!(sniff(b"<svg width=\"1\"/>", false), "image/svg+xml");
        assert_eq!(sniff(b"{\n  \"origin\": \"10.0.0.1\"}", false), "application/json");
        assert_eq!(sniff(b"\xef\xbb\xbf[1, 2]", false), "application/json");
        assert_eq!(sniff(b"[ {\"a\":1} ]", false), "application/json");
        assert_eq!(sniff(b"{}", false), "application/json");
        // Not JSON: text.
        assert_eq!(sniff(b"{ not json", false), "text/plain");
        assert_eq!(sniff(b")]}'\n{\"update\":{}}", false), "text/plain");
        assert_eq!(sniff(b"var a = 1;\r\n\tfoo(a);\n", false), "text/plain");
        assert_eq!(sniff("grüße, 日本".as_bytes(), false), "text/plain");
        // A character cut by the end of the sniffed bytes.
        let cut = &"日本".as_bytes()[..4];
        assert_eq!(sniff(cut, true), "text/plain");
        assert_eq!(sniff(cut, false), "");
        // Binary.
        assert_eq!(sniff(b"abc\0def", false), "");
        assert_eq!(sniff(b"\xff\xfe\xfd", false), "");
        assert_eq!(sniff(b"", false), "");
        assert_eq!(sniff(b"   ", false), "text/plain");
    }
}
