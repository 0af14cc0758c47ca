//! Crafted transactions through the parser, cut at every chunk size.

use super::*;
use crate::PacketTime;
use crate::protocols::ParseContext;
use netcap_records::Http as HttpRecord;

use Direction::{ToClient, ToServer};

/// One step of a connection as reassembly would deliver it.
#[derive(Debug, Clone, Copy)]
pub(super) enum Step<'a> {
    /// The bytes of one packet in a direction.
    Data(Direction, &'a [u8]),
    Gap(Direction, u64),
    End(Direction),
}
use Step::{Data, End, Gap};

/// The time of the packet of the `n`th data step (frame `n`, from 1).
pub(super) fn packet(n: u64) -> PacketTime {
    PacketTime { timestamp_ns: 1_000_000_000 + n as i64 * 1_000_000, frame: n }
}

/// What a connection's steps produced.
#[derive(Debug, PartialEq)]
pub(super) struct Outcome {
    pub records: Vec<HttpRecord>,
    pub errors: u64,
    /// Directions that returned `Parsed::Done`.
    pub done: [bool; 2],
}

/// Feeds a connection the way reassembly does: each direction's unconsumed
/// rest is kept with the packet times of its bytes and handed back with
/// the next bytes; each data step is one packet (frame = its position
/// among the data steps), cut into pieces of at most `chunk` bytes that
/// are each parsed at once (whatever `needed` said, as
/// `TestHarness::feed` does). At a gap the unconsumed rest is dropped.
pub(super) fn run(steps: &[Step<'_>], chunk: usize) -> Outcome {
    run_framed(steps, chunk, &[])
}

/// [`run`], with the frame number of each data step given (`frames[k]` for
/// the `k`th; its position from 1 where not given).
pub(super) fn run_framed(steps: &[Step<'_>], chunk: usize, frames: &[u64]) -> Outcome {
    let mut h = TestHarness::default();
    let mut parser = Http::default();
    let mut pending: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    let mut times: [Vec<(usize, PacketTime)>; 2] = [Vec::new(), Vec::new()];
    let mut done = [false; 2];
    let mut frame = 0;
    for step in steps {
        match *step {
            Data(dir, bytes) => {
                let now = packet(frames.get(frame).copied().unwrap_or(frame as u64 + 1));
                frame += 1;
                let d = dir.index();
                for piece in bytes.chunks(chunk.max(1)) {
                    if done[d] {
                        break;
                    }
                    if times[d].last().is_none_or(|&(_, t)| t != now) {
                        times[d].push((pending[d].len(), now));
                    }
                    pending[d].extend_from_slice(piece);
                    let mut cx = ParseContext {
                        memory_room: usize::MAX,
                        conn: &h.conn,
                        emit: &mut h.emit,
                        files: &mut h.files,
                        now,
                        times: &times[d],
                        protocol: 0,
                        errors: &mut h.errors,
                    };
                    match parser.parse(&mut cx, dir, &pending[d]) {
                        Parsed::Continue { consumed, needed } => {
                            assert!(consumed <= pending[d].len());
                            assert!(needed > 0 || consumed == pending[d].len(), "needed 0 with a rest");
                            pending[d].drain(..consumed);
                            let keep = times[d].partition_point(|&(s, _)| s <= consumed).saturating_sub(1);
                            times[d].drain(..keep);
                            for t in &mut times[d] {
                                t.0 = t.0.saturating_sub(consumed);
                            }
                            if pending[d].is_empty() {
                                times[d].clear();
                            }
                        }
                        Parsed::Done => {
                            pending[d].clear();
                            times[d].clear();
                            done[d] = true;
                        }
                    }
                }
            }
            Gap(dir, len) => {
                pending[dir.index()].clear();
                times[dir.index()].clear();
                parser.gap(&mut h.cx(), dir, len);
            }
            End(dir) => {
                let d = dir.index();
                let rest = std::mem::take(&mut pending[d]);
                let t = std::mem::take(&mut times[d]);
                let mut cx = ParseContext {
                    memory_room: usize::MAX,
                    conn: &h.conn,
                    emit: &mut h.emit,
                    files: &mut h.files,
                    now: packet(frame as u64),
                    times: &t,
                    protocol: 0,
                    errors: &mut h.errors,
                };
                parser.end(&mut cx, dir, &rest);
            }
        }
        assert!(parser.memory() < 8 << 20);
    }
    h.now = packet(frame as u64);
    parser.finish(&mut h.cx());
    Outcome { records: h.emit.decoded(RecordType::Http), errors: h.errors.errors.first().copied().unwrap_or(0), done }
}

/// Runs `steps` at every chunk size from 1 to the longest step (and
/// whole), asserting the same outcome each time; returns it.
pub(super) fn run_all_chunkings(steps: &[Step<'_>]) -> Outcome {
    let longest = steps.iter().map(|s| if let Data(_, b) = s { b.len() } else { 0 }).max().unwrap_or(1);
    run_chunkings(steps, 1..=longest.max(1))
}

/// Runs `steps` whole and at each of `chunks`, asserting the same outcome.
pub(super) fn run_chunkings(steps: &[Step<'_>], chunks: impl IntoIterator<Item = usize>) -> Outcome {
    let whole = run(steps, usize::MAX);
    for chunk in chunks {
        let cut = run(steps, chunk);
        assert_eq!(cut, whole, "chunk size {chunk}");
    }
    whole
}

fn headers(pairs: &[(&str, &str)]) -> Vec<HttpHeader> {
    pairs.iter().map(|&(n, v)| HttpHeader { name: n.into(), value: v.into() }).collect()
}

use netcap_records::HttpHeader;

#[test]
fn simple_get_with_content_length() {
    let req = b"GET /dir/index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.0\r\n\
Referer: http://ref.example/\r\nOrigin: http://origin.example\r\nCookie: a=b; c=d\r\n\
X-Forwarded-For: 192.0.2.7\r\nVia: 1.1 proxy\r\nAuthorization: Basic dXNlcjpzZWNyZXQ=\r\n\r\n";
    let head = b"HTTP/1.1 200 OK\r\nServer: nginx/1.2\r\nContent-Type: text/html; charset=utf-8\r\n\
Content-Length: 11\r\nSet-Cookie: s=1\r\nSet-Cookie: t=2\r\n\r\nhello";
    let out = run_all_chunkings(&[
        Data(ToServer, req),
        Data(ToClient, head),
        Data(ToClient, b" world"),
        End(ToServer),
        End(ToClient),
    ]);
    assert_eq!(out.errors, 0);
    assert_eq!(out.records.len(), 1);
    let r = &out.records[0];
    assert_eq!(r.trans_depth, 1);
    assert_eq!((r.timestamp_ns, r.frame), (packet(1).timestamp_ns, 1));
    assert_eq!(
        (r.src_ip.as_slice(), r.src_port, r.dst_ip.as_slice(), r.dst_port),
        (&[10, 0, 0, 1][..], 40000, &[10, 0, 0, 2][..], 80)
    );
    assert_eq!(r.community_id, "1:test");
    assert_eq!(
        (r.method.as_str(), r.request_uri.as_str(), r.version.as_str()),
        ("GET", "/dir/index.html?q=1", "HTTP/1.1")
    );
    assert_eq!((r.host.as_str(), r.user_agent.as_str()), ("example.com", "curl/8.0"));
    assert_eq!((r.referrer.as_str(), r.origin.as_str()), ("http://ref.example/", "http://origin.example"));
    assert_eq!(r.cookie, "a=b; c=d");
    assert_eq!(r.username, "user");
    assert_eq!(r.proxied, ["X-FORWARDED-FOR -> 192.0.2.7", "VIA -> 1.1 proxy"]);
    assert_eq!((r.status_code, r.status_msg.as_str(), r.response_version.as_str()), (200, "OK", "HTTP/1.1"));
    assert_eq!(r.server, "nginx/1.2");
    assert_eq!(r.request_content_type, "");
    assert_eq!(r.response_content_type, "text/html; charset=utf-8");
    assert_eq!(r.set_cookies, ["s=1", "t=2"]);
    assert_eq!((r.request_body_len, r.response_body_len), (0, 11));
    assert!(r.orig_fuids.is_empty());
    assert_eq!(r.resp_fuids, ["F1-1"]);
    assert_eq!(r.resp_filenames, ["index.html"]);
    // Sniffed from the bytes, not taken from Content-Type.
    assert_eq!(r.resp_mime_types, ["text/plain"]);
    assert_eq!(r.request_headers.len(), 8);
    assert_eq!(r.request_headers[0], headers(&[("Host", "example.com")])[0]);
    assert_eq!(
        r.response_headers,
        headers(&[
            ("Server", "nginx/1.2"),
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", "11"),
            ("Set-Cookie", "s=1"),
            ("Set-Cookie", "t=2"),
        ])
    );
    assert!(!r.missing_request && !r.missing_response);
    assert_eq!((r.request_first_frame, r.request_last_frame), (1, 1));
    assert_eq!((r.response_first_frame, r.response_last_frame), (2, 3));
    assert_eq!(r.request_first_timestamp_ns, packet(1).timestamp_ns);
    assert_eq!(r.response_last_timestamp_ns, packet(3).timestamp_ns);
    assert_eq!((r.response_transfer_encoding.as_str(), r.response_content_encoding.as_str()), ("", ""));
    assert_eq!((r.request_missing_bytes, r.response_missing_bytes), (0, 0));
    assert_eq!((r.info_code, r.info_msg.as_str()), (0, ""));
}

#[test]
fn chunked_response_with_trailers_then_next_transaction() {
    let out = run_all_chunkings(&[
        Data(ToServer, b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n"),
        Data(
            ToClient,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 999\r\n\r\n\
5\r\nhello\r\n6;name=value\r\n world\r\n0\r\nX-Checksum: 1\r\nX-More: 2\r\n\r\n\
HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        ),
    ]);
    assert_eq!(out.errors, 0);
    let [a, b] = &out.records[..] else { panic!("{:?}", out.records) };
    assert_eq!((a.trans_depth, a.request_uri.as_str(), a.response_body_len), (1, "/a", 11));
    assert_eq!(a.response_transfer_encoding, "chunked");
    assert_eq!(a.resp_fuids, ["F1-1"]);
    assert_eq!(a.response_headers.len(), 2, "trailers are not header lines of the head");
    // An empty chunked body is no file.
    assert_eq!((b.trans_depth, b.request_uri.as_str(), b.response_body_len), (2, "/b", 0));
    assert!(b.resp_fuids.is_empty());
    assert!(!b.missing_response);
}

#[test]
fn gzip_body_is_declared() {
    let body = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xcbH\xcd\xc9\xc9\x07\x00\x86\xa6\x106\x05\x00\x00\x00";
    let head = format!("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n", body.len());
    let resp = [head.as_bytes(), body].concat();
    let out = run_all_chunkings(&[Data(ToServer, b"GET /data.json HTTP/1.1\r\n\r\n"), Data(ToClient, &resp)]);
    let [r] = &out.records[..] else { panic!() };
    assert_eq!(r.response_content_encoding, "gzip");
    // The body length is the decoded one ("hello").
    assert_eq!(r.response_body_len, 5);
    assert_eq!(r.resp_filenames, ["data.json"]);
}

#[test]
fn pipelined_requests_pair_in_order() {
    let out = run_all_chunkings(&[
        Data(
            ToServer,
            b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\nGET /3 HTTP/1.1\r\nHost: h\r\n\r\n",
        ),
        Data(
            ToClient,
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nbb\
HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nccc",
        ),
    ]);
    assert_eq!(out.errors, 0);
    let got: Vec<_> = out
        .records
        .iter()
        .map(|r| (r.trans_depth, r.request_uri.as_str(), r.status_code, r.response_body_len, r.resp_fuids.clone()))
        .collect();
    assert_eq!(
        got,
        [
            (1, "/1", 200, 1, vec!["F1-1".to_string()]),
            (2, "/2", 404, 2, vec!["F1-2".to_string()]),
            (3, "/3", 200, 3, vec!["F1-3".to_string()])
        ]
    );
    assert!(out.records.iter().all(|r| r.request_first_frame == 1 && r.response_first_frame == 2));
}

#[test]
fn head_response_has_no_body() {
    let out = run_all_chunkings(&[
        Data(ToServer, b"HEAD /big HTTP/1.1\r\n\r\nGET /small HTTP/1.1\r\n\r\n"),
        Data(
            ToClient,
            b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        ),
    ]);
    assert_eq!(out.errors, 0);
    let [head, get] = &out.records[..] else { panic!() };
    assert_eq!((head.method.as_str(), head.status_code, head.response_body_len), ("HEAD", 200, 0));
    assert!(head.resp_fuids.is_empty());
    assert_eq!((get.method.as_str(), get.status_code, get.response_body_len), ("GET", 200, 2));
}

#[test]
fn no_body_for_204_and_304() {
    let out = run_all_chunkings(&[
        Data(ToServer, b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n"),
        Data(
            ToClient,
            b"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n\
HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx",
        ),
    ]);
    assert_eq!(out.errors, 0);
    let got: Vec<_> = out.records.iter().map(|r| (r.status_code, r.status_msg.as_str(), r.response_body_len)).collect();
    assert_eq!(got, [(204, "No Content", 0), (304, "Not Modified", 0), (200, "OK", 1)]);
    assert_eq!(out.records[2].response_version, "HTTP/1.0");
}

#[test]
fn expect_100_continue() {
    let out = run_all_chunkings(&[
        Data(
            ToServer,
            b"POST /upload HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n",
        ),
        Data(ToClient, b"HTTP/1.1 100 Continue\r\n\r\n"),
        Data(ToServer, b"data"),
        Data(ToClient, b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"),
    ]);
    assert_eq!(out.errors, 0);
    let [r] = &out.records[..] else { panic!() };
    assert_eq!((r.info_code, r.info_msg.as_str()), (100, "Continue"));
    assert_eq!((r.status_code, r.status_msg.as_str()), (201, "Created"));
    assert_eq!(r.request_content_type, "text/plain");
    assert_eq!((r.request_body_len, r.orig_fuids.as_slice()), (4, &["F1-1".to_string()][..]));
    assert_eq!(r.orig_filenames, ["upload"]);
    assert_eq!((r.request_first_frame, r.request_last_frame), (1, 3));
    assert_eq!((r.response_first_frame, r.response_last_frame), (2, 4));
    assert_eq!(r.response_headers, headers(&[("Content-Length", "0")]));
}

#[test]
fn connect_then_tunnel() {
    let connect = b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nProxy-Connection: keep-alive\r\n\r\n";
    // What the tunnel carries here is not TLS (TLS would go to the TLS
    // parser: tests/stream_oracle.rs, `tls_inside_a_connect_tunnel`, checks
    // that on a capture): nothing more of either direction is read.
    let hello = b"SSH-2.0-OpenSSH_9.6\r\n";
    let established = b"HTTP/1.1 200 Connection established\r\n\r\n";
    let check = |out: &Outcome| {
        assert_eq!(out.errors, 0);
        let [r] = &out.records[..] else { panic!("{:?}", out.records) };
        assert_eq!((r.method.as_str(), r.request_uri.as_str()), ("CONNECT", "example.com:443"));
        assert_eq!((r.status_code, r.status_msg.as_str()), (200, "Connection established"));
        assert_eq!(r.proxied, ["PROXY-CONNECTION -> keep-alive"]);
        assert!(r.resp_fuids.is_empty() && !r.missing_response);
    };
    let out = run_all_chunkings(&[
        Data(ToServer, connect),
        Data(ToClient, established),
        Data(ToServer, hello),
        Data(ToClient, b"SSH-2.0-dropbear\r\n"),
        End(ToServer),
        End(ToClient),
    ]);
    check(&out);
    assert_eq!(out.done, [true, true]);
    // The client does not wait for the 200: its tunnel bytes are held.
    let both = [connect.as_slice(), hello].concat();
    let out = run_all_chunkings(&[
        Data(ToServer, &both),
        Data(ToClient, established),
        Data(ToServer, b"GET / HTTP/1.1\r\n\r\n"),
        End(ToServer),
        End(ToClient),
    ]);
    check(&out);
    // The server's side waits for the tunnel's first bytes (TLS or not).
    assert_eq!(out.done, [true, false]);
    // A refused CONNECT: the connection stays HTTP.
    let out = run_all_chunkings(&[
        Data(ToServer, connect),
        Data(ToClient, b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"),
        Data(ToServer, b"GET http://example.com/x HTTP/1.1\r\n\r\n"),
        Data(ToClient, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ]);
    assert_eq!(out.errors, 0);
    let got: Vec<_> = out.records.iter().map(|r| (r.method.as_str(), r.status_code)).collect();
    assert_eq!(got, [("CONNECT", 407), ("GET", 200)]);
}

#[test]
fn switching_protocols() {
    let out = run_all_chunkings(&[
        Data(ToServer, b"GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
        Data(ToClient, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello"),
        Data(ToServer, b"\x81\x85abcd\x01\x02\x03\x04\x05"),
        End(ToServer),
        End(ToClient),
    ]);
    assert_eq!(out.errors, 0);
    assert_eq!(out.done, [true, true]);
    let [r] = &out.records[..] else { panic!() };
    assert_eq!((r.status_code, r.status_msg.as_str(), r.info_code), (101, "Switching Protocols", 0));
    assert!(r.resp_fuids.is_empty());
}

#[test]
fn response_without_request() {
    let out = run_all_chunkings(&[Data(ToClient, b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"), End(ToClient)]);
    assert_eq!(out.errors, 0);
    let [r] = &out.records[..] else { panic!() };
    assert!(r.missing_request && !r.missing_response);
    assert_eq!((r.trans_depth, r.method.as_str(), r.status_code, r.response_body_len), (1, "", 200, 3));
    assert_eq!((r.frame, r.request_first_frame, r.response_first_frame), (1, 0, 1));
    assert!(r.resp_filenames.is_empty());
}

#[test]
fn request_without_response_is_emitted_at_finish() {
    let out = run_all_chunkings(&[Data(ToServer, b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n"), End(ToServer)]);
    assert_eq!(out.errors, 0);
    let [r] = &out.records[..] else { panic!() };
    assert!(r.missing_response && !r.missing_request);
    assert_eq!((r.request_uri.as_str(), r.status_code, r.request_first_frame, r.response_first_frame), ("/a", 0, 1, 0));
}

#[test]
fn http_09_simple_request() {
    let out = run_all_chunkings(&[
        Data(ToServer, b"GET /old/page.html\r\n"),
        Data(ToClient, b"<html>raw</html>\r\n"),
        End(ToServer),
        End(ToClient),
    ]);
    assert_eq!(out.errors, 0);
    let [r] = &out.records[..] else { panic!() };
    assert_eq!((r.method.as_str(), r.request_uri.as_str(), r.version.as_str()), ("GET", "/old/page.html", "HTTP/0.9"));
    assert_eq!((r.status_code, r.response_version.as_str(), r.response_body_len), (0, "HTTP/0.9", 18));
    assert_eq!(r.resp_filenames, ["page.html"]);
    assert!(r.request_headers.is_empty() && !r.missing_response);
    // A response shorter than "HTTP/1." is a simple response too.
    let out = run_all_chunkings(&[Data(ToServer, b"GET /x\r\n"), Data(ToClient, b"HTTP"), End(ToClient)]);
    let [r] = &out.records[..] else { panic!() };
    assert_eq!((r.response_body_len, out.errors), (4, 0));
    // A server may answer a simple request with a full response.
    let out = run_all_chunkings(&[
        Data(ToServer, b"GET /x\r\n"),
        Data(ToClient, b"HTTP/1.0 400 Bad Request\r\n\r\nno"),
        End(ToClient),
    ]);
    let [r] = &out.records[..] else { panic!() };
    assert_eq!((r.status_code, r.response_version.as_str(), r.response_body_len), (400, "HTTP/1.0", 2));
}

#[test]
fn close_delimited_body() {
    let steps = [
        Data(ToServer, b"GET / HTTP/1.0\r\n\r\n"),
        Data(ToClient, b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil "),
        Data(ToClient, b"close"),
        End(ToClient),
    ];
    let out = run_all_chunkings(&steps);
    assert_eq!(out.errors, 0);
    let [r] = &out.records[..] else { panic!() };
    assert_eq!((r.response_body_len, r.response_last_frame), (11, 3));
    assert!(r.resp_filenames.is_empty(), "no name in \"/\"");
    // Without the end of the direction the record still comes at finish.
    let out = run_all_chunkings(&steps[..3]);
    assert_eq!(out.records.len(), 1);
    assert_eq!(out.records[0].response_body_len, 11);
}

#[test]
fn gap_inside_content_length_body() {
    let out = run_all_chunkings(&[
        Data(ToServer, b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n"),
        Data(ToClient, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"),
        Gap(ToClient, 4),
        Data(ToClient, b"hijHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    ]);
    assert_eq!(out.errors, 0);
    let [a, b] = &out.records[..] else { panic!() };
    assert_eq!((a.response_body_len, a.response_missing_bytes), (6, 4));
    assert_eq!((b.request_uri.as_str(), b.response_body_len, b.response_missing_bytes), ("/b", 2, 0));
    // A gap past the body's end: the next head is damaged; resync finds the
    // one after it.
    let out = run_all_chunkings(&[
        Data(ToServer, b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n"),
        Data(ToClient, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"),
        Gap(ToClient, 20),
        Data(ToClient, b"Date: x\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nc"),
    ]);
    let got: Vec<_> = out.records.iter().map(|r| (r.request_uri.as_str(), r.response_body_len)).collect();
    // The gap took /b's response head: the head found after it answers /c
    // (sent before it came), /b's response is missing.
    assert_eq!(got, [("/a", 3), ("/b", 0), ("/c", 1)]);
    assert_eq!(out.records[0].response_missing_bytes, 7);
    assert!(out.records[1].missing_response && !out.records[2].missing_response);
}

#[test]
fn gap_inside_chunked_body_then_resync() {
    let out = run_all_chunkings(&[
        Data(ToServer, b"POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"),
        Gap(ToServer, 30),
        Data(ToServer, b"ld\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n"),
        Data(ToClient, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nn"),
    ]);
    assert_eq!(out.errors, 0);
    let [up, next] = &out.records[..] else { panic!() };
    assert_eq!((up.method.as_str(), up.request_body_len, up.request_missing_bytes), ("POST", 3, 30));
    assert_eq!(up.orig_fuids, ["F1-1"]);
    assert_eq!((next.trans_depth, next.request_uri.as_str(), next.response_body_len), (2, "/next", 1));
    assert_eq!(next.request_first_frame, 2);
    // A gap inside one chunk's data keeps the framing.
    let out = run_all_chunkings(&[
        Data(ToServer, b"GET / HTTP/1.1\r\n\r\n"),
        Data(ToClient, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\nabc"),
        Gap(ToClient, 4),
        Data(ToClient, b"hij\r\n0\r\n\r\n"),
    ]);
    let [r] = &out.records[..] else { panic!() };
    assert_eq!((r.response_body_len, r.response_missing_bytes, out.errors), (6, 4, 0));
}

#[test]
fn malformed_heads_are_skipped() {
    let out = run_all_chunkings(&[
        Data(
            ToServer,
            b"GARBAGE\x01\x02 stuff\r\nmore garbage\r\nGET /ok HTTP/1.1\r\nHost: h\r\nBad Header Line\r\n\r\n",
        ),
        Data(ToClient, b"HTTP/1.1 abc OK\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ]);
    assert_eq!(out.errors, 2);
    let [r] = &out.records[..] else { panic!("{:?}", out.records) };
    assert_eq!((r.request_uri.as_str(), r.status_code), ("/ok", 200));
    assert_eq!(r.request_headers, headers(&[("Host", "h")]), "an invalid header line is ignored");
    // Bad framing headers: an error, no body.
    let out = run_all_chunkings(&[
        Data(ToServer, b"POST /a HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\nGET /b HTTP/1.1\r\n\r\n"),
        Data(ToClient, b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\nuntil close"),
        End(ToClient),
    ]);
    assert_eq!(out.errors, 2);
    let got: Vec<_> =
        out.records.iter().map(|r| (r.request_uri.as_str(), r.request_body_len, r.response_body_len)).collect();
    assert_eq!(got, [("/a", 0, 11), ("/b", 0, 0)]);
    // A head cut by the end of its direction.
    let out = run_all_chunkings(&[Data(ToServer, b"GET /cut HTTP/1.1\r\nHost: h"), End(ToServer)]);
    assert_eq!((out.errors, out.records.len()), (1, 0));
}

#[test]
fn oversized_heads_are_errors() {
    let mut big = b"GET /big HTTP/1.1\r\nX-Big: ".to_vec();
    big.resize(big.len() + MAX_HEAD_BYTES, b'a');
    big.extend_from_slice(b"\r\n\r\nGET /after HTTP/1.1\r\n\r\n");
    let out = run_chunkings(&[Data(ToServer, &big)], [1, 2, 7, 1000, 1460, 65536, 70000]);
    assert_eq!(out.errors, 1);
    let [r] = &out.records[..] else { panic!() };
    assert_eq!((r.request_uri.as_str(), r.missing_response), ("/after", true));
    let mut many = b"GET /many HTTP/1.1\r\n".to_vec();
    for i in 0..=MAX_HEADERS {
        many.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    many.extend_from_slice(b"\r\nGET /after HTTP/1.1\r\n\r\n");
    let out = run_all_chunkings(&[Data(ToServer, &many)]);
    assert_eq!(out.errors, 1);
    assert_eq!(out.records.iter().map(|r| r.request_uri.as_str()).collect::<Vec<_>>(), ["/after"]);
    // A long header value is cut in the header list, not in its field.
    let long = "v".repeat(MAX_HEADER_VALUE + 10);
    let req = format!("GET / HTTP/1.1\r\nUser-Agent: {long}\r\n\r\n");
    let out = run(&[Data(ToServer, req.as_bytes())], usize::MAX);
    let [r] = &out.records[..] else { panic!() };
    assert_eq!(r.user_agent.len(), MAX_HEADER_VALUE + 10);
    assert_eq!(r.request_headers[0].value.len(), MAX_HEADER_VALUE);
}

#[test]
fn too_many_pipelined_requests() {
    let n = MAX_PENDING + 6;
    let requests: Vec<u8> = (1..=n).flat_map(|i| format!("GET /{i} HTTP/1.1\r\n\r\n").into_bytes()).collect();
    let responses: Vec<u8> =
        (1..=n).flat_map(|i| format!("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n{}", i % 10).into_bytes()).collect();
    let out = run_chunkings(&[Data(ToServer, &requests), Data(ToClient, &responses)], [1, 5, 39, 100, 1000]);
    assert_eq!(out.errors, 6, "six requests evicted");
    assert_eq!(out.records.len(), 6 + 6 + MAX_PENDING);
    // The evicted requests come first, without their responses ...
    for (i, r) in out.records[..6].iter().enumerate() {
        assert_eq!((r.trans_depth as usize, r.request_uri.clone()), (i + 1, format!("/{}", i + 1)));
        assert!(r.missing_response && !r.missing_request && r.status_code == 0);
    }
    // ... their responses keep their depths ...
    for (i, r) in out.records[6..12].iter().enumerate() {
        assert_eq!(r.trans_depth as usize, i + 1);
        assert!(r.missing_request && !r.missing_response && r.status_code == 200 && r.method.is_empty());
    }
    // ... and the others pair as sent.
    for (i, r) in out.records[12..].iter().enumerate() {
        assert_eq!((r.trans_depth as usize, r.request_uri.clone()), (i + 7, format!("/{}", i + 7)));
        assert!(!r.missing_request && !r.missing_response && r.status_code == 200 && r.response_body_len == 1);
    }
}

#[test]
fn file_names_sizes_and_types() {
    use crate::files::FileStart;
    let h = |pairs: &[(&'static str, &'static [u8])]| -> Vec<httparse::Header<'static>> {
        pairs.iter().map(|&(name, value)| httparse::Header { name, value }).collect()
    };
    let start: FileStart = state::file_start(
        ToClient,
        3,
        &h(&[
            ("Content-Type", b"application/pdf; name=x"),
            ("Content-Disposition", b"attachment; filename=\"report.pdf\""),
            ("Content-Range", b"bytes 100-199/5000"),
            ("Content-Encoding", b"x-gzip"),
        ]),
        b"/get?id=1",
        Some(206),
        state::BodyFraming::Length(100),
    );
    assert_eq!((start.source, start.direction, start.trans_depth), ("HTTP", Some(ToClient), 3));
    assert_eq!((start.filename.as_str(), start.declared_mime_type.as_str()), ("report.pdf", "application/pdf"));
    assert_eq!((start.total_bytes, start.content_encoding.as_str()), (Some(5000), "x-gzip"));
    let start = state::file_start(ToServer, 1, &[], b"/up/a%20b.txt", None, state::BodyFraming::UntilClose);
    assert_eq!((start.filename.as_str(), start.total_bytes), ("a b.txt", None));
    let start =
        state::file_start(ToClient, 1, &h(&[("Content-Length", b"7")]), b"/", Some(200), state::BodyFraming::Length(7));
    assert_eq!((start.filename.as_str(), start.total_bytes), ("", Some(7)));
}

#[test]
fn fuzz_entry_survives_crafted_and_mutated_inputs() {
    // Steps of the fuzz input format: control (bit 0 direction, bits 1-2
    // step), length, bytes.
    let mut seed = Vec::new();
    let mut step = |control: u8, bytes: &[u8]| {
        for piece in bytes.chunks(255) {
            seed.push(control);
            seed.push(piece.len() as u8);
            seed.extend_from_slice(piece);
        }
    };
    step(0, b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n");
    step(1, b"HTTP/1.1 100 Continue\r\n\r\n");
    step(0, b"4\r\nabcd\r\n0\r\n\r\nGET /b HTTP/1.1\r\n\r\nCONNECT h:1 HTTP/1.1\r\n\r\n");
    step(
        1,
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc",
    );
    step(4, &[9]);
    step(1, b"\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n");
    step(6, b"");
    fuzz_entry(&seed);
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    // HTTP_FUZZ_ITERATIONS runs more of them (a longer local check).
    let iterations = std::env::var("HTTP_FUZZ_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    for _ in 0..iterations {
        let mut input = seed.clone();
        for _ in 0..1 + next() % 8 {
            let at = (next() % input.len() as u64) as usize;
            match next() % 3 {
                0 => input[at] = next() as u8,
                1 => input.insert(at, next() as u8),
                _ => {
                    input.remove(at);
                }
            }
        }
        fuzz_entry(&input);
    }
    fuzz_entry(&[]);
    fuzz_entry(&[0, 255]);
}

#[test]
fn resync_gives_up_after_its_bound() {
    // A malformed head, then more than MAX_RESYNC_BYTES without a line that
    // starts a request: the direction is no longer HTTP.
    let mut junk = b"BAD\x01 request\r\n".to_vec();
    junk.resize(MAX_RESYNC_BYTES as usize + 100, b'x');
    junk.extend_from_slice(b"\nGET /late HTTP/1.1\r\n\r\n");
    let out = run_chunkings(&[Data(ToServer, &junk), Data(ToServer, b"GET /later HTTP/1.1\r\n\r\n")], [4096, 65536]);
    assert_eq!((out.errors, out.done, out.records.len()), (2, [true, false], 0));
    // Below the bound it finds the next request.
    junk.truncate(1000);
    junk.extend_from_slice(b"\nGET /late HTTP/1.1\r\n\r\n");
    let out = run_chunkings(&[Data(ToServer, &junk)], [1, 7, 4096]);
    assert_eq!((out.errors, out.done, out.records.len()), (1, [false, false], 1));
    assert_eq!(out.records[0].request_uri, "/late");
}

#[test]
fn fuzz_entry_survives_fragment_soup() {
    // Random sequences of HTTP fragments, in random directions, pieces,
    // gaps and ends.
    const FRAGMENTS: &[&[u8]] = &[
        b"GET / HTTP/1.1\r\n",
        b"HEAD /h HTTP/1.0\r\n",
        b"CONNECT h:443 HTTP/1.1\r\n",
        b"POST /p HTTP/1.1\r\n",
        b"GET /simple\r\n",
        b"HTTP/1.1 200 OK\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\n",
        b"HTTP/1.0 204 No Content\r\n",
        b"HTTP/1.1 304 Not Modified\r\n",
        b"Content-Length: 5\r\n",
        b"Content-Length: 0\r\n",
        b"Content-Length: x\r\n",
        b"Transfer-Encoding: chunked\r\n",
        b"Transfer-Encoding: gzip\r\n",
        b"Expect: 100-continue\r\n",
        b"Upgrade: websocket\r\n",
        b"Content-Disposition: attachment; filename*=UTF-8''%e2%82%ac.txt\r\n",
        b"Authorization: Basic dXNlcjpwYXNz\r\n",
        b"X-Forwarded-For: 1.2.3.4\r\n",
        b"\r\n",
        b"\n",
        b"5\r\nhello\r\n",
        b"0\r\n\r\n",
        b"0\r\nT: 1\r\n\r\n",
        b"ffffffffffffffff\r\n",
        b"hello",
        b"\x00\xff\x16\x03\x01",
        b" ",
        b":",
    ];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let iterations = std::env::var("HTTP_FUZZ_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    for _ in 0..iterations {
        let mut input = Vec::new();
        for _ in 0..next() % 40 {
            let dir = (next() % 2) as u8;
            let kind = match next() % 20 {
                0 => 4,
                1 => 6,
                _ => 0,
            };
            let mut bytes = Vec::new();
            for _ in 0..1 + next() % 6 {
                bytes.extend_from_slice(FRAGMENTS[(next() % FRAGMENTS.len() as u64) as usize]);
            }
            for piece in bytes.chunks(1 + (next() % 40) as usize) {
                input.push(kind | dir);
                input.push(piece.len() as u8);
                input.extend_from_slice(piece);
            }
        }
        fuzz_entry(&input);
    }
}

#[test]
fn test_harness_feed_gives_the_same_transactions() {
    let requests: &[u8] =
        b"GET /1 HTTP/1.1\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcHEAD /3 HTTP/1.1\r\n\r\n";
    let responses: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n\
HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nxHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n";
    let summary = |records: &[HttpRecord]| -> Vec<(u32, String, u32, u64, u64, u32)> {
        records
            .iter()
            .map(|r| {
                (
                    r.trans_depth,
                    r.request_uri.clone(),
                    r.status_code,
                    r.request_body_len,
                    r.response_body_len,
                    r.info_code,
                )
            })
            .collect()
    };
    let expected = summary(&run(&[Data(ToServer, requests), Data(ToClient, responses)], usize::MAX).records);
    assert_eq!(
        expected,
        [(1, "/1".into(), 200, 0, 2, 0), (2, "/2".into(), 201, 3, 1, 100), (3, "/3".into(), 200, 0, 0, 0)]
    );
    for chunk in 1..=responses.len() {
        let mut h = TestHarness::default();
        let mut parser = Http::default();
        let (mut to_server, mut to_client) = (Vec::new(), Vec::new());
        assert!(!h.feed(&mut parser, ToServer, requests, chunk, &mut to_server));
        assert!(!h.feed(&mut parser, ToClient, responses, chunk, &mut to_client));
        parser.finish(&mut h.cx());
        assert_eq!(summary(&h.emit.decoded(RecordType::Http)), expected, "chunk size {chunk}");
        assert_eq!(h.errors.errors.iter().sum::<u64>(), 0);
    }
}

/// Request lines httparse refuses, as zeek-http-methods.pcap sends them
/// (bare LF line ends, one request per connection, answered by the server):
/// transactions with the method, URI and headers tshark shows, and the
/// response paired. "GET /HTTP/1.1" stays a simple request (RFC 1945: GET
/// and a target, no version): its header lines are not read (tshark shows
/// Host: www.google.com there).
#[test]
fn request_lines_read_leniently_make_transactions() {
    let response = b"HTTP/1.0 405 Method Not Allowed\r\nContent-Length: 3\r\n\r\nno!";
    for (request, method, uri, version) in [
        (b"CCM_POST /  HTTP/1.1\nHost: www.google.com\n\n".as_slice(), "CCM_POST", "/", "HTTP/1.1"),
        (b"TRACE / HTTP/1.\nHost: www.google.com\n\n", "TRACE", "/", ""),
        (b"OPTIONS\nHost: www.google.com\n\n", "OPTIONS", "", ""),
        (b"PUT /HTTP/1.1\nHost: www.google.com\n\n", "PUT", "/HTTP/1.1", ""),
    ] {
        let out = run_all_chunkings(&[Data(ToServer, request), Data(ToClient, response), End(ToServer), End(ToClient)]);
        assert_eq!(out.errors, 0, "{method}");
        assert_eq!(out.records.len(), 1, "{method}");
        let r = &out.records[0];
        assert_eq!((r.method.as_str(), r.request_uri.as_str(), r.version.as_str()), (method, uri, version));
        assert_eq!((r.host.as_str(), r.trans_depth), ("www.google.com", 1));
        assert_eq!((r.status_code, r.response_body_len), (405, 3));
        assert!(!r.missing_request && !r.missing_response);
    }
    let out = run_all_chunkings(&[
        Data(ToServer, b"GET /HTTP/1.1\nHost: www.google.com\n\n"),
        Data(ToClient, b"HTTP/1.0 403 Forbidden\r\nContent-Length: 0\r\n\r\n"),
        End(ToServer),
        End(ToClient),
    ]);
    // A version glued to the target is no HTTP/0.9 simple request: its
    // header lines are the request's (tshark 4.0 shows Host www.google.com
    // for zeek-http-methods.pcap frame 172).
    assert_eq!(out.records.len(), 1);
    let r = &out.records[0];
    assert_eq!((r.method.as_str(), r.request_uri.as_str(), r.version.as_str()), ("GET", "/HTTP/1.1", ""));
    assert_eq!((r.host.as_str(), r.status_code), ("www.google.com", 403));
}

/// A connection picked up mid-stream whose first byte is a keep-alive
/// probe's NUL: the request after it is read (tshark dissects it in its own
/// segment), at every cut.
#[test]
fn keep_alive_nul_before_a_request_is_skipped() {
    let out = run_all_chunkings(&[
        Data(ToServer, b"\0"),
        Data(ToServer, b"GET /ping HTTP/1.1\r\nHost: ping.chartbeat.net\r\n\r\n"),
        Data(ToClient, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
        End(ToServer),
        End(ToClient),
    ]);
    assert_eq!(out.errors, 0);
    assert_eq!(out.records.len(), 1);
    let r = &out.records[0];
    assert_eq!((r.method.as_str(), r.request_uri.as_str(), r.host.as_str()), ("GET", "/ping", "ping.chartbeat.net"));
    assert_eq!((r.frame, r.status_code, r.response_body_len), (2, 200, 2));
    assert!(!r.missing_request && !r.missing_response);
}

/// A connection picked up mid-stream whose first response lost its head
/// (and start) to a gap, as in ndpi-1kxun.pcap (192.168.2.126:49412 ->
/// 14.136.136.108:80, frames 1352-1466): the rest of the binary body ends
/// without a line end and the next response head starts a packet. Resync
/// finds it at the packet start; it answers the second request (sent
/// before it came), the first is emitted with `missing_response`; tshark
/// pairs the same way (status 200 for requests 2 and 3, none for 1).
#[test]
fn response_after_a_lost_head_is_found_at_a_packet_start() {
    let out = run_all_chunkings(&[
        Data(ToServer, b"GET /1.jpg HTTP/1.1\r\nHost: h\r\n\r\n"),
        Gap(ToClient, 1725),
        Data(ToClient, b"\x11\n\x22\xff\xd9"),
        Data(ToServer, b"GET /2.jpg HTTP/1.1\r\nHost: h\r\n\r\n"),
        Data(ToClient, b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n"),
        Data(ToClient, b"\xff\xd8\xff\xd9"),
        Data(ToServer, b"GET /3.jpg HTTP/1.1\r\nHost: h\r\n\r\n"),
        Data(ToClient, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"),
        End(ToServer),
        End(ToClient),
    ]);
    let got: Vec<_> = out
        .records
        .iter()
        .map(|r| (r.request_uri.as_str(), r.trans_depth, r.status_code, r.response_body_len, r.missing_response))
        .collect();
    assert_eq!(got, [("/1.jpg", 1, 0, 0, true), ("/2.jpg", 2, 200, 4, false), ("/3.jpg", 3, 404, 0, false)]);
    assert_eq!(out.records[1].response_first_frame, 4);

    // One request waiting: the head found after the gap is its response.
    let out = run_all_chunkings(&[
        Data(ToServer, b"GET /1 HTTP/1.1\r\n\r\n"),
        Gap(ToClient, 10),
        Data(ToClient, b"zz\xff"),
        Data(ToClient, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        End(ToServer),
        End(ToClient),
    ]);
    let got: Vec<_> = out.records.iter().map(|r| (r.request_uri.as_str(), r.status_code, r.missing_response)).collect();
    assert_eq!(got, [("/1", 200, false)]);
}

/// The same without a gap: the server's first bytes (the connection was
/// picked up mid-stream) are the end of a response, the next head answers
/// the request sent before it came.
#[test]
fn server_starting_mid_response_loses_the_oldest_response() {
    let out = run_all_chunkings(&[
        Data(ToServer, b"GET /1.jpg HTTP/1.1\r\n\r\n"),
        Data(ToClient, b"\x11\x22\xff\xd9"),
        Data(ToServer, b"GET /2.jpg HTTP/1.1\r\n\r\n"),
        Data(ToClient, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
        End(ToServer),
        End(ToClient),
    ]);
    let got: Vec<_> = out.records.iter().map(|r| (r.request_uri.as_str(), r.status_code, r.missing_response)).collect();
    assert_eq!(got, [("/1.jpg", 0, true), ("/2.jpg", 200, false)]);
    // A server whose first bytes are a head: nothing is lost.
    let out = run_all_chunkings(&[
        Data(ToServer, b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n"),
        Data(ToClient, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokjunk\r\n"),
        Data(ToClient, b"HTTP/1.1 204 No Content\r\n\r\n"),
        End(ToServer),
        End(ToClient),
    ]);
    let got: Vec<_> = out.records.iter().map(|r| (r.request_uri.as_str(), r.status_code, r.missing_response)).collect();
    assert_eq!(got, [("/1", 200, false), ("/2", 204, false)]);
}
