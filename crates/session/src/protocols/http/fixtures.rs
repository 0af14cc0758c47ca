//! Real connections through the parser: the TCP payloads of captures in
//! ../shared/pcaps (licences in testdata/http/MANIFEST.tsv), as
//!
//!     tshark -r FILE -q -z follow,tcp,raw,0 > testdata/http/NAME.follow.txt
//!
//! prints them (one line per segment in capture order, hex; the server's
//! lines tab-indented). They are fed in that order, one packet per line.
//! The frame number of each line was read with
//!
//!     tshark -r FILE -Y tcp.len>0 -T fields -e frame.number -e tcp.srcport -e tcp.seq
//!
//! keeping the first frame of each (port, seq) (follow drops
//! retransmissions). Expected values come from
//!
//!     tshark -r FILE -Y http.request -T fields -e frame.number -e http.request.method
//!       -e http.request.uri -e http.host -e http.user_agent -e http.referer -e http.cookie
//!       -e http.content_type -e http.content_length_header -e http.authbasic
//!     tshark -r FILE -Y http.response -T fields -e frame.number -e http.response.code
//!       -e http.response.phrase -e http.server -e http.content_type
//!       -e http.content_length_header -e http.transfer_encoding -e http.content_encoding
//!       -e http.set_cookie
//!     tshark -r FILE -Y http.chunk_size -T fields -e frame.number -e http.chunk_size
//!
//! (`-d tcp.port==443,http` for sv-http-brotli-ce, which is plain HTTP on
//! port 443). tshark's request frame is the last frame of the request
//! (with its body), its response frame the last of the response: they are
//! our `request_last_frame` and `response_last_frame`.

use super::tests::{Outcome, Step, packet, run_framed};
use super::*;

use Direction::{ToClient, ToServer};

/// The segments of a `follow,tcp,raw` output.
fn segments(follow: &str) -> Vec<(Direction, Vec<u8>)> {
    let hex = |s: &str| -> Vec<u8> {
        let digit = |c: u8| (c as char).to_digit(16).expect("hex digit") as u8;
        s.as_bytes().chunks(2).map(|p| digit(p[0]) << 4 | digit(p[1])).collect()
    };
    follow
        .lines()
        .skip_while(|l| !l.starts_with("Node 1:"))
        .skip(1)
        .take_while(|l| !l.starts_with("===="))
        .filter(|l| !l.trim().is_empty())
        .map(|l| (if l.starts_with('\t') { ToClient } else { ToServer }, hex(l.trim())))
        .collect()
}

/// Feeds a fixture (and ends both directions) whole and cut into pieces of
/// the given sizes, asserting the same outcome; returns it.
fn replay(follow: &str, frames: &[u64], chunks: &[usize]) -> Outcome {
    let segments = segments(follow);
    assert_eq!(segments.len(), frames.len(), "one frame per segment");
    let mut steps: Vec<Step<'_>> = segments.iter().map(|(dir, bytes)| Step::Data(*dir, bytes)).collect();
    steps.push(Step::End(ToServer));
    steps.push(Step::End(ToClient));
    let whole = run_framed(&steps, usize::MAX, frames);
    for &chunk in chunks {
        assert_eq!(run_framed(&steps, chunk, frames), whole, "chunk size {chunk}");
    }
    whole
}

const CHUNKS: &[usize] = &[1, 2, 3, 7, 100, 536, 1460];

/// (method, uri, request_last_frame, status, response_last_frame,
/// response_body_len) of every record. Body lengths are decoded lengths,
/// the sizes of the objects `tshark --export-objects http` writes.
fn summary(out: &Outcome) -> Vec<(&str, &str, u64, u32, u64, u64)> {
    out.records
        .iter()
        .map(|r| {
            (
                r.method.as_str(),
                r.request_uri.as_str(),
                r.request_last_frame,
                r.status_code,
                r.response_last_frame,
                r.response_body_len,
            )
        })
        .collect()
}

#[test]
fn zeek_http_pipelined_requests() {
    let out = replay(
        include_str!("../../../testdata/http/zeek-http-pipelined-requests.follow.txt"),
        &[
            4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16, 17, 18, 20, 21, 22, 23, 24, 25, 28, 29, 30, 31, 32, 33, 34, 36,
            37, 38, 39, 40, 41, 42, 44, 45,
        ],
        CHUNKS,
    );
    assert_eq!(out.errors, 0);
    assert_eq!(
        summary(&out),
        [
            ("GET", "/style/enhanced.css", 4, 200, 5, 2675),
            ("GET", "/script/urchin.js", 6, 200, 12, 21421),
            ("GET", "/images/template/screen/bullet_utility.png", 14, 200, 15, 94),
            ("GET", "/images/template/screen/key-point-top.png", 16, 200, 18, 2349),
            ("GET", "/projects/calendar/images/header-sunbird.png", 20, 200, 45, 27579),
        ]
    );
    let ua = "Mozilla/5.0 (Windows; U; Windows NT 5.1; en-US; rv:1.9.1.5) Gecko/20091102 Firefox/3.5.5";
    for (i, r) in out.records.iter().enumerate() {
        assert_eq!(r.trans_depth as usize, i + 1);
        assert_eq!((r.host.as_str(), r.user_agent.as_str(), r.version.as_str()), ("www.mozilla.org", ua, "HTTP/1.1"));
        assert_eq!((r.status_msg.as_str(), r.response_version.as_str()), ("OK", "HTTP/1.1"));
        assert_eq!(r.resp_fuids, [format!("F1-{}", i + 1)]);
        assert!(!r.missing_request && !r.missing_response);
        assert_eq!(r.request_first_frame, r.request_last_frame);
    }
    let types: Vec<_> = out.records.iter().map(|r| r.response_content_type.as_str()).collect();
    assert_eq!(types, ["text/css", "application/x-javascript", "image/png", "image/png", "image/png"]);
    let encodings: Vec<_> = out.records.iter().map(|r| r.response_content_encoding.as_str()).collect();
    assert_eq!(encodings, ["gzip", "gzip", "", "", ""]);
    let servers: Vec<_> = out.records.iter().map(|r| r.server.as_str()).collect();
    assert_eq!(servers, ["Apache", "Apache", "Apache", "Apache", "Apache/2.2.3 (Red Hat)"]);
    let names: Vec<_> = out.records.iter().map(|r| r.resp_filenames.join(",")).collect();
    assert_eq!(names, ["enhanced.css", "urchin.js", "bullet_utility.png", "key-point-top.png", "header-sunbird.png"]);
    assert_eq!(out.records[0].referrer, "http://www.mozilla.org/projects/calendar/");
    assert_eq!(out.records[4].referrer, "http://www.mozilla.org/projects/calendar/calendar.css");
    assert_eq!(out.records[0].cookie, "");
    assert_eq!(
        out.records[2].cookie,
        "__utma=150903082.601193709.1258578040.1258578040.1258578040.1; __utmb=150903082; __utmc=150903082; \
__utmz=150903082.1258578040.1.1.utmccn=(organic)|utmcsr=google|utmctr=thunderbird+calendar|utmcmd=organic"
    );
    // The response's first packet comes before its last for the long ones.
    assert_eq!((out.records[1].response_first_frame, out.records[4].response_first_frame), (7, 21));
    // Every header line of the final response, as on the wire.
    let first = &out.records[0].response_headers;
    assert_eq!(first.len(), 14);
    assert_eq!((first[9].name.as_str(), first[9].value.as_str()), ("ntCoent-Length", "2675"));
    assert_eq!((first[13].name.as_str(), first[13].value.as_str()), ("Content-Length", "946"));
    assert_eq!(out.records[0].timestamp_ns, packet(4).timestamp_ns);
}

#[test]
fn arkime_http_post_upload() {
    let out = replay(
        include_str!("../../../testdata/http/arkime-http-post-upload.follow.txt"),
        &[7, 9, 11, 13, 17, 18, 23],
        CHUNKS,
    );
    assert_eq!(out.errors, 0);
    assert_eq!(
        summary(&out),
        [
            ("GET", "/fileupload/", 7, 200, 9, 468),
            ("GET", "/fileupload/", 11, 200, 13, 468),
            ("POST", "/fileupload/servlet/UploadHandleServlet", 18, 200, 23, 144),
        ]
    );
    let ua = "Mozilla/5.0 (Windows NT 5.2) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/33.0.1750.154 Safari/537.36";
    for r in &out.records {
        assert_eq!((r.host.as_str(), r.user_agent.as_str()), ("192.168.57.14:8080", ua));
        assert_eq!(
            r.cookie,
            "JSESSIONID=969AC5FBD069EE6218EB10513726B244; JSESSIONID=400CC78DF5784F303702CC7F02C6122C"
        );
        assert_eq!(
            (r.server.as_str(), r.response_content_type.as_str()),
            ("Apache-Coyote/1.1", "text/html;charset=UTF-8")
        );
    }
    let post = &out.records[2];
    assert_eq!(post.request_content_type, "multipart/form-data; boundary=----WebKitFormBoundaryAe47vGj7ybAe6RwO");
    assert_eq!(post.referrer, "http://192.168.57.14:8080/fileupload/");
    assert_eq!((post.request_body_len, post.request_first_frame), (449, 17));
    assert_eq!(post.orig_fuids, ["F1-3"]);
    assert_eq!(post.resp_fuids, ["F1-4"]);
    assert_eq!(post.orig_filenames, ["UploadHandleServlet"]);
    assert_eq!(out.records[0].resp_filenames, ["fileupload"]);
}

#[test]
fn zeek_http_100_continue() {
    let out = replay(
        include_str!("../../../testdata/http/zeek-http-100-continue.follow.txt"),
        &[
            4, 6, 8, 10, 12, 13, 15, 16, 18, 20, 21, 23, 24, 25, 26, 27, 28, 30, 31, 32, 33, 34, 35, 36, 38, 39, 40,
            41, 42, 43, 44, 45, 47, 48, 49, 50, 51, 52, 54, 55, 56, 57, 59, 60, 62, 63,
        ],
        CHUNKS,
    );
    assert_eq!(out.errors, 0);
    // Chunk sizes 8558, 8496, 12615, 8782, 8200, 8377, 5703, 0.
    assert_eq!(summary(&out), [("POST", "/", 10, 200, 63, 60731)]);
    let r = &out.records[0];
    assert_eq!((r.info_code, r.info_msg.as_str()), (100, "Continue"));
    assert_eq!((r.request_first_frame, r.response_first_frame), (4, 6));
    assert_eq!(
        (r.host.as_str(), r.request_content_type.as_str()),
        ("www.osu.edu", "application/x-www-form-urlencoded")
    );
    assert_eq!(r.user_agent, "curl/7.17.1 (i386-apple-darwin8.11.1) libcurl/7.17.1 zlib/1.2.3");
    assert_eq!((r.request_body_len, r.orig_fuids.len(), r.resp_fuids.len()), (2001, 1, 1));
    assert_eq!(
        r.server,
        "Apache/2.0.59 (Unix) mod_auth_kerb/5.3 mod_ssl/2.0.59 OpenSSL/0.9.7a mod_fastcgi/2.4.2 PHP/5.2.8"
    );
    assert_eq!((r.response_content_type.as_str(), r.response_transfer_encoding.as_str()), ("text/html", "chunked"));
    assert_eq!(r.request_headers.len(), 6);
    assert_eq!(r.response_headers.len(), 7, "the final response's headers, not the 100's");
}

#[test]
fn sv_http_connect_simple() {
    let out = replay(
        include_str!("../../../testdata/http/sv-http-connect-simple.follow.txt"),
        &[5, 7, 9, 11],
        &[1, 2, 3, 5, 10, 20, 40],
    );
    assert_eq!(out.errors, 0);
    // tshark also decodes the GET / sent inside the tunnel; after a 2xx to
    // CONNECT nothing is HTTP to us.
    assert_eq!(summary(&out), [("CONNECT", "abc:443", 5, 200, 7, 0)]);
    assert_eq!(out.done, [true, true]);
    let r = &out.records[0];
    assert_eq!((r.user_agent.as_str(), r.server.as_str(), r.host.as_str()), ("Victor/1.0", "VictorServer/1.0", ""));
}

#[test]
fn sv_http_event_chunk() {
    let out = replay(include_str!("../../../testdata/http/sv-http-event-chunk.follow.txt"), &[5, 7], &[1, 2, 3, 5, 17]);
    assert_eq!(out.errors, 0);
    // Chunks "8 \n tototata \n 4 \n titi \n 0 ; ext \n" with bare LF line
    // ends and trailers: 12 bytes. tshark counts 8: it takes "\n4" for
    // the CRLF after the first chunk.
    // The response "HTTP/1.1 200 OK\n\n\n" has no framing headers: its body
    // (one LF) runs until close.
    assert_eq!(summary(&out), [("POST", "/qwe.asd", 5, 200, 7, 1)]);
    let r = &out.records[0];
    assert_eq!((r.request_body_len, r.orig_fuids.as_slice()), (12, &["F1-1".to_string()][..]));
    assert_eq!((r.host.as_str(), r.request_content_type.as_str()), ("127.0.0.1", "Application/binary"));
    assert_eq!(r.orig_filenames, ["qwe.asd"]);
    assert_eq!(r.resp_fuids, ["F1-2"]);
    assert!(!r.missing_response && !r.missing_request);
}

#[test]
fn zeek_http_get_gzip() {
    let out = replay(include_str!("../../../testdata/http/zeek-http-get-gzip.follow.txt"), &[4, 6, 8], CHUNKS);
    assert_eq!(out.errors, 0);
    assert_eq!(summary(&out), [("GET", "/gzip", 4, 200, 8, 197)]);
    let r = &out.records[0];
    assert_eq!((r.host.as_str(), r.user_agent.as_str()), ("httpbin.org", "curl/7.29.0"));
    assert_eq!((r.server.as_str(), r.response_content_type.as_str()), ("gunicorn/0.16.1", "application/json"));
    assert_eq!(r.response_content_encoding, "gzip");
    // The status line came alone in frame 6.
    assert_eq!(r.response_first_frame, 6);
    assert_eq!(r.resp_filenames, ["gzip"]);
}

#[test]
fn sv_http_protocol_nodup_pipelines_40_requests() {
    let out = replay(
        include_str!("../../../testdata/http/sv-http-protocol-nodup.follow.txt"),
        &[4, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 18, 19],
        CHUNKS,
    );
    assert_eq!(out.errors, 0);
    let uris = [
        "/postinfo.html",
        "/_vti_bin/_vti_aut/author.dll",
        "/_vti_bin/_vti_aut/author.exe",
        "/_vti_bin/_vti_aut/dvwssr.dll",
        "/_vti_bin/_vti_adm/admin.dll",
        "/_vti_bin/_vti_adm/admin.exe",
        "/_vti_bin/fpcount.exe?Page=default.asp|Image=3",
        "/_vti_bin/shtml.dll",
        "/_vti_bin/shtml.exe",
        "/_vti_pvt/_x_todo.htm",
        "/_vti_pvt/_x_todoh.htm",
        "/_vti_pvt/access.cnf",
        "/_vti_pvt/administrator.pwd",
        "/_vti_pvt/administrators.pwd",
        "/_vti_pvt/authors.pwd",
        "/_vti_pvt/bots.cnf",
        "/_vti_pvt/botinfs.cnf",
        "/_vti_pvt/deptodoc.btr",
        "/_vti_pvt/doctodep.btr",
        "/_vti_pvt/frontpg.lck",
        "/_vti_pvt/linkinfo.cnf",
        "/_vti_pvt/service.cnf",
        "/_vti_pvt/service.grp",
        "/_vti_pvt/service.lck",
        "/_vti_pvt/service.pwd",
        "/_vti_pvt/Service.stp",
        "/_vti_pvt/services.cnf",
        "/_vti_pvt/services.org",
        "/_vti_pvt/structure.cnf",
        "/_vti_pvt/svcacl.cnf",
        "/_vti_pvt/users.pwd",
        "/_vti_pvt/uniqueperm.cnf",
        "/_vti_pvt/writeto.cnf",
        "/.svn/",
        "/.svn/text-base/.htaccess.svn-base",
        "/.svn/text-base/.htpasswd.svn-base",
        "/.svn/text-base/Web.config.svn-base",
        "/.git/HEAD",
        "/.hg/requires",
        "/.bzr/README",
    ];
    // Requests per tshark frame: 7 in 4, 9 in 8, 8 in 11, 12 and 13;
    // responses: 1 in 6, 4 in 7, 5 in each of 9, 10, 15, 16, 17, 18, 19.
    let request_frames = [[4; 7].as_slice(), &[8; 9], &[11; 8], &[12; 8], &[13; 8]].concat();
    let response_frames =
        [[6].as_slice(), &[7; 4], &[9; 5], &[10; 5], &[15; 5], &[16; 5], &[17; 5], &[18; 5], &[19; 5]].concat();
    let expected: Vec<_> = (0..40).map(|i| ("GET", uris[i], request_frames[i], 404, response_frames[i], 146)).collect();
    assert_eq!(summary(&out), expected);
    for (i, r) in out.records.iter().enumerate() {
        assert_eq!(r.trans_depth as usize, i + 1);
        assert_eq!(
            (r.host.as_str(), r.server.as_str(), r.response_content_type.as_str()),
            ("116.181.2.152", "nginx", "text/html")
        );
        assert_eq!(r.user_agent, "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)");
        assert_eq!(r.status_msg, "Not Found");
    }
}

#[test]
fn arkime_http_basicauth() {
    let out = replay(include_str!("../../../testdata/http/arkime-http-basicauth.follow.txt"), &[4, 6], CHUNKS);
    assert_eq!(out.errors, 0);
    assert_eq!(summary(&out), [("GET", "/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx/xxx/xxxxxxxxxxxxxxxxxxxx.js", 4, 304, 6, 0)]);
    let r = &out.records[0];
    // tshark: http.authbasic "userrrrr:passworddddd".
    assert_eq!(r.username, "userrrrr");
    assert_eq!(r.host, "10.000.000.001:1234");
    assert_eq!(r.referrer, "http://10.000.000.001:1234/zzzzzzzzzzzzzzzz/zzzzzzzz/zz/zzzzzzzzz/index.html");
    assert_eq!(
        r.cookie,
        format!("zzzzzzzzzzzzzzzzzz=auto; cprelogin=no; cpsession={}; langedit=; lang=", "z".repeat(141))
    );
    assert_eq!((r.status_msg.as_str(), r.server.as_str()), ("Not Modified", "cpsrvd/11.44.1.19"));
    assert!(r.resp_fuids.is_empty());
}

#[test]
fn sv_http_brotli_ce() {
    let out = replay(
        include_str!("../../../testdata/http/sv-http-brotli-ce.follow.txt"),
        &[4, 5, 6, 7, 8, 9, 10, 11, 12, 13],
        CHUNKS,
    );
    assert_eq!(out.errors, 0);
    let search = "/complete/search?client=chrome-omni&gs_ri=chrome-ext-ansg&xssi=t&q=&oit=0&oft=1&pgcl=20&gs_rn=42\
&sugkey=AIzaSyBOti4mM-6x9WDnZIjIeyEU21OpBXqWBgw";
    let gen_204 = "/gen_204?ei=1gh1Y_aSJJL5gQbM0pSgDg&cad=i&id=19031405&ogprm=up&ct=16&prid=243";
    // Chunk sizes 94, 1, 0; brotli-decoded lengths as `tshark --export-objects http` writes them.
    assert_eq!(
        summary(&out),
        [
            ("GET", search, 4, 200, 8, 121),
            ("GET", "/async/newtab_promos", 9, 200, 11, 1743),
            ("GET", gen_204, 12, 204, 13, 0)
        ]
    );
    let [search, promos, gen_204] = &out.records[..] else { panic!() };
    assert_eq!(
        (search.response_transfer_encoding.as_str(), search.response_content_encoding.as_str()),
        ("chunked", "br")
    );
    assert_eq!(search.response_content_type, "text/javascript; charset=UTF-8");
    assert_eq!(search.resp_filenames, ["f.txt"], "Content-Disposition wins over the URI");
    assert_eq!((promos.response_transfer_encoding.as_str(), promos.response_content_encoding.as_str()), ("", "br"));
    assert_eq!(
        gen_204.set_cookies,
        [
            "1P_JAR=2022-11-16-15; expires=Fri, 16-Dec-2022 15:59:19 GMT; path=/; domain=.google.com; Secure; SameSite=none"
        ]
    );
    assert!(gen_204.resp_fuids.is_empty());
    assert!(out.records.iter().all(|r| r.host == "www.google.com" && r.server == "gws"));
}
