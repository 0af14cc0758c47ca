//! Mail messages to records, shared by SMTP (DATA, BDAT), POP3 (RETR, TOP)
//! and IMAP (FETCH): one `Mail` record per message (its header fields with
//! RFC 2047 encoded words decoded, every MIME part, nested multiparts and
//! message/rfc822 attachments included) and a `File` record per attachment
//! (decoded content hashed and sniffed through [`crate::files`]).
//!
//! The protocol parser collects the message bytes as sent, transfer framing
//! undone (SMTP and POP3 dot-stuffing, BDAT chunks, IMAP literals), into a
//! [`MessageBuffer`], bounded by [`MAX_MESSAGE`]; at the message's end it
//! calls [`mail_records`], which parses it with the `mailparse` crate
//! (headers, RFC 2047 and RFC 2231, charsets, multiparts with a recursion
//! limit) and returns the header fields the protocol's own record carries
//! ([`MailSummary`]).
//!
//! # Attachments
//!
//! A leaf part becomes a File record when it is not text (its declared type
//! is not `text/*`), or it has a filename (Content-Disposition `filename`,
//! RFC 2231 and 2047 decoded, or Content-Type `name`), or its disposition is
//! `attachment`. Its content is the part's body with the transfer encoding
//! (base64, quoted-printable) undone. A part is complete unless the message
//! was cut ([`MAX_MESSAGE`], a gap, the connection's end) within it, or its
//! transfer encoding did not decode (then the bytes as sent are hashed and
//! the file is incomplete). File names are data: they are the records'
//! `filename`, never a path.
//!
//! # Bounds
//!
//! A message is kept up to [`MAX_MESSAGE`] bytes, and only while the
//! shard's stream memory cap has room ([`ParseContext::memory_room`]): the
//! rest is dropped, the message is `truncated`, and it is counted as a
//! protocol error; at most [`MAX_PARTS`]
//! parts and [`MAX_HEADERS`] header fields are recorded; message/rfc822
//! parts are opened [`MAX_NESTED_MESSAGES`] deep; the body text is cut at
//! [`MAX_BODY_TEXT`] bytes.

#[cfg(test)]
mod tests;

use crate::PacketTime;
use crate::emit::ConnRecord;
use crate::files::FileStart;
use crate::protocols::{Direction, ParseContext};
use mailparse::{DispositionType, MailAddr, MailHeader, MailHeaderMap, ParsedMail};
use netcap_records::{Mail, MailHeader as MailHeaderRecord, MailPart, RecordType};

/// Bytes of one message kept for parsing (8 MiB): beyond, the message is
/// parsed from its first `MAX_MESSAGE` bytes and marked `truncated`, and
/// attachments cut there are incomplete (no hashes).
pub const MAX_MESSAGE: usize = 8 << 20;
/// MIME parts recorded per message (depth first); further parts are
/// neither recorded nor turned into files.
pub const MAX_PARTS: usize = 256;
/// Header fields recorded per message.
pub const MAX_HEADERS: usize = 256;
/// How deep message/rfc822 parts are opened (a forwarded message inside a
/// forwarded message ...).
pub const MAX_NESTED_MESSAGES: u32 = 4;
/// Bytes of the first text/plain part kept as the Mail record's body.
pub const MAX_BODY_TEXT: usize = 16 << 10;

/// A message being received: its bytes as sent (framing undone), bounded
/// by [`MAX_MESSAGE`].
#[derive(Debug, Default)]
pub struct MessageBuffer {
    data: Vec<u8>,
    /// The packet of the first byte.
    pub at: Option<PacketTime>,
    /// More bytes came than were kept.
    pub truncated: bool,
    /// Bytes that came, kept or not.
    pub seen: u64,
}

impl MessageBuffer {
    /// Starts a message whose first byte came with `at` (if none started).
    pub fn start(&mut self, at: PacketTime) {
        self.at.get_or_insert(at);
    }

    /// Whether a message is being received.
    pub fn active(&self) -> bool {
        self.at.is_some()
    }

    /// Appends message bytes, growing the buffer by at most
    /// `memory_room` ([`ParseContext::memory_room`]: the shard's memory cap
    /// applies to kept messages too), which it lowers by what it grew;
    /// returns false when some were dropped (the first time a bound is hit,
    /// for the caller's error counter).
    pub fn push(&mut self, bytes: &[u8], memory_room: &mut usize) -> bool {
        let capacity = self.data.capacity();
        let kept = self.push_within(bytes, *memory_room);
        *memory_room = memory_room.saturating_sub(self.data.capacity() - capacity);
        kept
    }

    fn push_within(&mut self, bytes: &[u8], memory_room: usize) -> bool {
        self.seen += bytes.len() as u64;
        let mut keep = MAX_MESSAGE.saturating_sub(self.data.len()).min(bytes.len());
        let spare = self.data.capacity() - self.data.len();
        if keep > spare {
            keep = keep.min(spare.saturating_add(memory_room));
            if memory_room >= self.data.capacity().max(keep - spare) {
                // Room for the usual doubling.
                self.data.reserve(keep);
            } else {
                self.data.reserve_exact(keep);
            }
        }
        self.data.extend_from_slice(&bytes[..keep]);
        if keep < bytes.len() && !self.truncated {
            self.truncated = true;
            return false;
        }
        true
    }

    /// The bytes kept.
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// Ends the message: the buffer is empty and inactive again (its
    /// allocation is kept for the next message unless it was large).
    pub fn reset(&mut self) {
        self.data.clear();
        if self.data.capacity() > 64 << 10 {
            self.data = Vec::new();
        }
        self.at = None;
        self.truncated = false;
        self.seen = 0;
    }

    /// Heap bytes held.
    pub fn memory(&self) -> usize {
        self.data.capacity()
    }
}

/// Where a message came from.
#[derive(Debug, Clone, Copy)]
pub struct MailSource {
    /// "SMTP", "POP3", "IMAP".
    pub protocol: &'static str,
    /// The command that carried it: "DATA", "BDAT", "RETR", "TOP", "FETCH".
    pub command: &'static str,
    /// The way the message went.
    pub direction: Direction,
    /// The packet of its first byte.
    pub at: PacketTime,
    /// The File records' `trans_depth` (SMTP's transaction).
    pub trans_depth: u32,
}

/// Per-connection numbering of Mail records (`M<first frame>-<n>`) and of
/// File records (`F<first frame>-<n>`, shared with nothing else in the
/// connection).
#[derive(Debug, Default, Clone, Copy)]
pub struct MailCounters {
    pub mails: u32,
    pub files: u32,
}

/// What a protocol's own record takes from the message (Zeek's smtp.log
/// header fields).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MailSummary {
    pub mail_id: String,
    pub from: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub reply_to: String,
    pub subject: String,
    pub msg_id: String,
    pub in_reply_to: String,
    pub date: String,
    pub x_originating_ip: String,
    /// Received header values, in message order.
    pub path: Vec<String>,
    pub user_agent: String,
    /// File IDs of the attachments.
    pub fuids: Vec<String>,
}

/// Addresses of an address header, one string each (`Name <addr>` or
/// `addr`), group members flattened; the header's decoded value if it does
/// not parse as addresses.
fn addresses(header: &MailHeader<'_>) -> Vec<String> {
    match mailparse::addrparse_header(header) {
        Ok(list) if !list.is_empty() => {
            let mut out = Vec::new();
            for addr in list.iter() {
                let singles = match addr {
                    MailAddr::Single(single) => std::slice::from_ref(single),
                    MailAddr::Group(group) => group.addrs.as_slice(),
                };
                for s in singles {
                    out.push(match &s.display_name {
                        Some(name) => format!("{name} <{}>", s.addr),
                        None => s.addr.clone(),
                    });
                }
            }
            out
        }
        _ => {
            let value = header.get_value();
            if value.trim().is_empty() { Vec::new() } else { vec![value.trim().to_owned()] }
        }
    }
}

/// Every address of every `name` header field.
fn all_addresses(headers: &[MailHeader<'_>], name: &str) -> Vec<String> {
    headers.get_all_headers(name).into_iter().flat_map(addresses).collect()
}

fn first(headers: &[MailHeader<'_>], name: &str) -> String {
    headers.get_first_value(name).map(|v| v.trim().to_owned()).unwrap_or_default()
}

/// The summary fields of a top-level header.
fn summary(headers: &[MailHeader<'_>]) -> MailSummary {
    let user_agent = match first(headers, "User-Agent") {
        ua if ua.is_empty() => first(headers, "X-Mailer"),
        ua => ua,
    };
    MailSummary {
        from: first(headers, "From"),
        to: all_addresses(headers, "To"),
        cc: all_addresses(headers, "Cc"),
        reply_to: first(headers, "Reply-To"),
        subject: first(headers, "Subject"),
        msg_id: first(headers, "Message-ID"),
        in_reply_to: first(headers, "In-Reply-To"),
        date: first(headers, "Date"),
        x_originating_ip: first(headers, "X-Originating-IP"),
        path: headers.get_all_values("Received").into_iter().map(|v| v.trim().to_owned()).collect(),
        user_agent,
        ..Default::default()
    }
}

/// A part's body as sent (transfer encoding not undone).
fn raw_body<'a>(part: &'a ParsedMail<'a>) -> &'a [u8] {
    match part.get_body_encoded() {
        mailparse::body::Body::Base64(b) | mailparse::body::Body::QuotedPrintable(b) => b.get_raw(),
        mailparse::body::Body::SevenBit(b) | mailparse::body::Body::EightBit(b) => b.get_raw(),
        mailparse::body::Body::Binary(b) => b.get_raw(),
    }
}

/// Walks the MIME tree depth first, recording parts and opening files.
struct Walk<'c, 'a> {
    cx: &'c mut ParseContext<'a>,
    source: MailSource,
    counters: &'c mut MailCounters,
    /// The message bytes handed to [`mail_records`] and whether they were cut.
    message: &'c [u8],
    truncated: bool,
    parts: Vec<MailPart>,
    fuids: Vec<String>,
    body: Option<String>,
    /// Mail records of attached messages (message/rfc822 parts), written
    /// after the message's own.
    attached: Vec<Mail>,
    /// The Mail ID of the message being walked.
    mail_id: String,
}

impl Walk<'_, '_> {
    /// Whether `part` runs to the end of the bytes kept (a cut message cuts
    /// it).
    fn reaches_end(&self, part: &ParsedMail<'_>) -> bool {
        let start = part.raw_bytes.as_ptr() as usize;
        let end = start + part.raw_bytes.len();
        let message_end = self.message.as_ptr() as usize + self.message.len();
        end >= message_end
    }

    fn part(&mut self, part: &ParsedMail<'_>, path: String, nested: u32, cut: bool) {
        if self.parts.len() >= MAX_PARTS {
            return;
        }
        let disposition = part.get_content_disposition();
        let disposition_name = match disposition.disposition {
            DispositionType::Inline => "inline",
            DispositionType::Attachment => "attachment",
            DispositionType::FormData => "form-data",
            DispositionType::Extension(_) => "other",
        };
        let declared_disposition = part.headers.get_first_header("Content-Disposition").is_some();
        let filename = disposition
            .params
            .get("filename")
            .or_else(|| part.ctype.params.get("name"))
            .map(|name| name.trim().to_owned())
            .unwrap_or_default();
        let mut record = MailPart {
            path: path.clone(),
            content_type: part.ctype.mimetype.clone(),
            charset: part.ctype.params.get("charset").cloned().unwrap_or_default(),
            transfer_encoding: first(&part.headers, "Content-Transfer-Encoding").to_ascii_lowercase(),
            disposition: if declared_disposition { disposition_name.to_owned() } else { String::new() },
            filename,
            ..Default::default()
        };
        let index = self.parts.len();
        self.parts.push(MailPart::default());
        let cut = cut || (self.truncated && self.reaches_end(part));
        let mimetype = part.ctype.mimetype.as_str();
        if !part.subparts.is_empty() {
            for (i, sub) in part.subparts.iter().enumerate() {
                let sub_path = if path.is_empty() { format!("{}", i + 1) } else { format!("{path}.{}", i + 1) };
                self.part(sub, sub_path, nested, cut);
            }
        } else {
            let (content, decoded) = match part.get_body_raw() {
                Ok(content) => (content, true),
                Err(_) => (raw_body(part).to_vec(), false),
            };
            record.size = content.len() as u64;
            let is_text = mimetype.starts_with("text/") || mimetype.starts_with("multipart/");
            let attachment = !is_text
                || !record.filename.is_empty()
                || matches!(disposition.disposition, DispositionType::Attachment) && declared_disposition;
            if attachment {
                let outcome = self.file(&record, &content, decoded && !cut);
                record.file_id = outcome.file_id;
                record.mime_type = outcome.mime_type;
                record.sha256 = outcome.sha256;
                self.fuids.push(record.file_id.clone());
            } else if mimetype == "text/plain" && self.body.is_none() {
                let mut text = part.get_body().unwrap_or_else(|_| String::from_utf8_lossy(&content).into_owned());
                if text.len() > MAX_BODY_TEXT {
                    let mut end = MAX_BODY_TEXT;
                    while !text.is_char_boundary(end) {
                        end -= 1;
                    }
                    text.truncate(end);
                }
                self.body = Some(text);
            }
            if mimetype == "message/rfc822"
                && nested < MAX_NESTED_MESSAGES
                && decoded
                && let Ok(inner) = mailparse::parse_mail(&content)
            {
                // The attached message's own parts, under this part's path.
                let inner_path = if path.is_empty() { "1".to_owned() } else { format!("{path}.1") };
                let saved = std::mem::take(&mut self.message);
                let saved_truncated = std::mem::replace(&mut self.truncated, false);
                let saved_body = self.body.take();
                let inner_id = format!("M{}-{}", self.cx.conn.first.frame, self.counters.mails);
                self.counters.mails = self.counters.mails.wrapping_add(1);
                let parent_id = std::mem::replace(&mut self.mail_id, inner_id.clone());
                self.part(&inner, inner_path, nested + 1, cut);
                let inner_body = std::mem::replace(&mut self.body, saved_body);
                self.mail_id = parent_id.clone();
                self.message = saved;
                self.truncated = saved_truncated;
                if self.attached.len() < MAX_PARTS {
                    let mut summary = summary(&inner.headers);
                    summary.mail_id = inner_id;
                    let mut r = mail_record(&summary, &inner.headers, self.source, content.len() as u64, cut);
                    r.body = inner_body.unwrap_or_default();
                    r.parent_mail_id = parent_id;
                    r.set_conn(self.cx.conn, self.source.at, self.source.direction);
                    self.attached.push(r);
                }
            }
        }
        self.parts[index] = record;
    }

    fn file(&mut self, part: &MailPart, content: &[u8], complete: bool) -> crate::files::FileOutcome {
        let start = FileStart {
            source: self.source.protocol,
            direction: Some(self.source.direction),
            trans_depth: self.source.trans_depth,
            index: self.counters.files,
            filename: part.filename.clone(),
            declared_mime_type: part.content_type.clone(),
            total_bytes: None,
            content_encoding: String::new(),
        };
        self.counters.files = self.counters.files.wrapping_add(1);
        let at = self.source.at;
        let mut file = self.cx.files.open(self.cx.conn, at, start);
        for chunk in content.chunks(64 << 10) {
            file.write(self.cx.files, at, chunk);
        }
        file.finish(self.cx, complete)
    }
}

/// A Mail record's fields from a summary and a header (no parts, no body).
fn mail_record(
    summary: &MailSummary,
    headers: &[MailHeader<'_>],
    source: MailSource,
    size: u64,
    truncated: bool,
) -> Mail {
    Mail {
        protocol: source.protocol.into(),
        mail_id: summary.mail_id.clone(),
        from: summary.from.clone(),
        to: summary.to.clone(),
        cc: summary.cc.clone(),
        reply_to: summary.reply_to.clone(),
        subject: summary.subject.clone(),
        date: summary.date.clone(),
        msg_id: summary.msg_id.clone(),
        in_reply_to: summary.in_reply_to.clone(),
        user_agent: summary.user_agent.clone(),
        headers: headers
            .iter()
            .take(MAX_HEADERS)
            .map(|h| MailHeaderRecord { name: h.get_key(), value: h.get_value().trim().to_owned() })
            .collect(),
        size,
        truncated,
        command: source.command.into(),
        ..Default::default()
    }
}

/// Parses one message and writes its `Mail` record and its attachments'
/// `File` records; returns the header fields for the protocol's record.
/// `truncated`: bytes of the message were not kept (the bound, a gap, the
/// connection ended before its end).
pub fn mail_records(
    cx: &mut ParseContext<'_>,
    source: MailSource,
    message: &[u8],
    truncated: bool,
    counters: &mut MailCounters,
) -> MailSummary {
    let mail_id = format!("M{}-{}", cx.conn.first.frame, counters.mails);
    counters.mails = counters.mails.wrapping_add(1);
    let wants_files = cx.emit.wants(RecordType::File) || cx.files.config.extract_dir.is_some();
    let wants_mail = cx.emit.wants(RecordType::Mail);
    let Ok(parsed) = mailparse::parse_mail(message) else {
        // mailparse fails only on a header it cannot split (no colon in a
        // line of the header block): the record says what is known.
        cx.error();
        if wants_mail {
            let mut r = Mail {
                protocol: source.protocol.into(),
                mail_id: mail_id.clone(),
                size: message.len() as u64,
                truncated,
                command: source.command.into(),
                ..Default::default()
            };
            r.set_conn(cx.conn, source.at, source.direction);
            cx.emit.emit(RecordType::Mail, &r);
        }
        return MailSummary { mail_id, ..Default::default() };
    };
    let mut summary = summary(&parsed.headers);
    summary.mail_id = mail_id;
    let (parts, body, attached) = if wants_files || wants_mail {
        let mut walk = Walk {
            cx,
            source,
            counters,
            message,
            truncated,
            parts: Vec::new(),
            fuids: Vec::new(),
            body: None,
            attached: Vec::new(),
            mail_id: summary.mail_id.clone(),
        };
        walk.part(&parsed, String::new(), 0, false);
        summary.fuids = std::mem::take(&mut walk.fuids);
        (walk.parts, walk.body, walk.attached)
    } else {
        (Vec::new(), None, Vec::new())
    };
    if wants_mail {
        let mut r = mail_record(&summary, &parsed.headers, source, message.len() as u64, truncated);
        r.parts = parts;
        r.body = body.unwrap_or_default();
        r.set_conn(cx.conn, source.at, source.direction);
        cx.emit.emit(RecordType::Mail, &r);
        for r in &attached {
            cx.emit.emit(RecordType::Mail, r);
        }
    }
    summary
}

/// Runs [`mail_records`] on arbitrary bytes as a message, then on the same
/// bytes cut in half (truncated), for fuzzing.
pub fn fuzz_entry(data: &[u8]) {
    let mut h = crate::protocols::TestHarness::default();
    let mut counters = MailCounters::default();
    let source =
        MailSource { protocol: "SMTP", command: "DATA", direction: Direction::ToServer, at: h.now, trans_depth: 1 };
    let data = &data[..data.len().min(MAX_MESSAGE)];
    mail_records(&mut h.cx(), source, data, false, &mut counters);
    mail_records(&mut h.cx(), source, &data[..data.len() / 2], true, &mut counters);
}
