//! The `/metrics` HTTP endpoint: hyper's HTTP/1 server on a single-threaded
//! tokio runtime of its own, so serving never competes with the capture's
//! threads for more than one core's share.
//!
//! Anyone who can reach the port can connect, so the server bounds what a
//! client can hold ([`Limits`]): a request head must arrive within 10 s
//! (slow clients, idle keep-alive connections), read buffers stay under
//! 16 KiB (huge headers get 431 or a closed connection), a connection lives
//! at most 2 minutes (clients that do not read their response), and at most
//! 64 are served at once (the rest are closed on accept).

use crate::metrics::Metrics;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::{Semaphore, oneshot};

/// What one client may hold of the server.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time to send a request head, from connecting or from the previous
    /// response (so also the idle time of a keep-alive connection).
    pub header_read_timeout: Duration,
    /// Time a connection may stay open at all.
    pub connection_lifetime: Duration,
    /// Read buffer per connection, bytes (at least 8192, hyper's minimum).
    pub max_buf_size: usize,
    /// Connections served at once.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            connection_lifetime: Duration::from_secs(120),
            max_buf_size: 16 << 10,
            max_connections: 64,
        }
    }
}
/// Content type of the Prometheus text format.
pub const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A running `/metrics` server; stopped on [`MetricsServer::stop`] or drop.
pub struct MetricsServer {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot start the metrics server: {0}")]
    Start(std::io::Error),
}

impl MetricsServer {
    /// Binds `addr` (port 0: any free port) and serves `metrics` until
    /// stopped. Binding happens before this returns, so a busy port is an
    /// error here and not later.
    pub fn start(addr: SocketAddr, metrics: Metrics) -> Result<Self, ServerError> {
        Self::start_with(addr, metrics, Limits::default())
    }

    /// [`MetricsServer::start`] with other limits.
    pub fn start_with(addr: SocketAddr, metrics: Metrics, limits: Limits) -> Result<Self, ServerError> {
        let listener = TcpListener::bind(addr).map_err(|source| ServerError::Bind { addr, source })?;
        listener.set_nonblocking(true).map_err(ServerError::Start)?;
        let local = listener.local_addr().map_err(ServerError::Start)?;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(ServerError::Start)?;
        let (shutdown, stopped) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("metrics-server".into())
            .spawn(move || runtime.block_on(serve(listener, metrics, limits, stopped)))
            .map_err(ServerError::Start)?;
        Ok(MetricsServer { addr: local, shutdown: Some(shutdown), thread: Some(thread) })
    }

    /// The address it listens on (with the port chosen, for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, drops open connections and waits for the thread.
    pub fn stop(mut self) {
        self.shutdown_now();
    }

    fn shutdown_now(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.shutdown_now();
    }
}

async fn serve(listener: TcpListener, metrics: Metrics, limits: Limits, mut stopped: oneshot::Receiver<()>) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        // hyper panics below its minimum.
        .max_buf_size(limits.max_buf_size.max(8192));
    let lifetime = limits.connection_lifetime;
    loop {
        let accepted = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            // Out of file descriptors and the like: wait a little rather
            // than spin; the listener itself stays usable.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            // Full: close at once instead of letting the backlog fill.
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let metrics = metrics.clone();
        let connection = http.serve_connection(
            TokioIo::new(stream),
            hyper::service::service_fn(move |request| {
                let metrics = metrics.clone();
                async move { Ok::<_, Infallible>(respond(&request, &metrics)) }
            }),
        );
        tokio::spawn(async move {
            // Errors (resets, garbage, timeouts) end only this connection.
            let _ = tokio::time::timeout(lifetime, connection).await;
            drop(permit);
        });
    }
}

/// The response to one request: `/metrics` and `/` for GET and HEAD, 405
/// for other methods there, 404 elsewhere.
fn respond(request: &Request<Incoming>, metrics: &Metrics) -> Response<Full<Bytes>> {
    let path = request.uri().path();
    let known = matches!(path, "/metrics" | "/");
    if known && !matches!(*request.method(), Method::GET | Method::HEAD) {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed: use GET\n");
        response.headers_mut().insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    match path {
        "/metrics" => {
            let mut response = Response::new(Full::new(Bytes::from(metrics.encode())));
            response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(TEXT_FORMAT));
            response
        }
        "/" => {
            let mut response = Response::new(Full::new(Bytes::from_static(INDEX)));
            response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
            response
        }
        _ => plain(StatusCode::NOT_FOUND, "not found: metrics are at /metrics\n"),
    }
}

const INDEX: &[u8] = b"<!doctype html><title>netcap exporter</title>\
<h1>netcap exporter</h1><p><a href=\"/metrics\">/metrics</a></p>\n";

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Instant;

    const TEST_LIMITS: Limits = Limits {
        header_read_timeout: Duration::from_secs(1),
        connection_lifetime: Duration::from_secs(3),
        max_buf_size: 16 << 10,
        max_connections: 8,
    };

    fn start() -> MetricsServer {
        let metrics = Metrics::new("0.0.0").unwrap();
        metrics.set_active_flows(42);
        MetricsServer::start_with("127.0.0.1:0".parse().unwrap(), metrics, TEST_LIMITS).unwrap()
    }

    /// Sends raw bytes, returns what came back before the server closed
    /// (or the read timed out).
    fn exchange(server: &MetricsServer, request: &[u8]) -> String {
        let mut stream = TcpStream::connect(server.local_addr()).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let _ = stream.write_all(request);
        let mut out = Vec::new();
        let _ = stream.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    fn get(server: &MetricsServer, path: &str) -> String {
        exchange(server, format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
    }

    #[test]
    fn serves_metrics_index_and_404() {
        let server = start();
        let metrics = get(&server, "/metrics");
        assert!(metrics.starts_with("HTTP/1.1 200 OK\r\n"), "{metrics}");
        assert!(metrics.contains("content-type: text/plain; version=0.0.4; charset=utf-8\r\n"), "{metrics}");
        assert!(metrics.contains("\nnetcap_flows_active 42\n"), "{metrics}");
        assert!(get(&server, "/metrics?x=1").contains("netcap_flows_active 42"));
        assert!(get(&server, "/").contains("href=\"/metrics\""));
        for path in ["/nope", "/metrics/", "/../etc/passwd", "//metrics"] {
            assert!(get(&server, path).starts_with("HTTP/1.1 404 Not Found\r\n"), "{path}");
        }
        let head = exchange(&server, b"HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n") && !head.contains("netcap_flows_active"), "{head}");
        let post =
            exchange(&server, b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        assert!(post.starts_with("HTTP/1.1 405 Method Not Allowed\r\n") && post.contains("allow: GET, HEAD"), "{post}");
        server.stop();
    }

    #[test]
    fn garbage_and_huge_headers_are_refused_and_the_server_lives_on() {
        let server = start();
        let garbage = exchange(&server, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n");
        assert!(garbage.is_empty() || garbage.starts_with("HTTP/1.1 400"), "{garbage:?}");
        let huge = format!("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "a".repeat(100_000));
        let reply = exchange(&server, huge.as_bytes());
        assert!(reply.is_empty() || reply.starts_with("HTTP/1.1 431"), "{}", &reply[..reply.len().min(200)]);
        let many: String = (0..500).map(|i| format!("X-{i}: y\r\n")).collect();
        let reply = exchange(&server, format!("GET /metrics HTTP/1.1\r\nHost: x\r\n{many}\r\n").as_bytes());
        assert!(reply.is_empty() || reply.starts_with("HTTP/1.1 431"), "{}", &reply[..reply.len().min(200)]);
        let zeros = exchange(&server, &[0u8; 4096]);
        assert!(zeros.is_empty() || zeros.starts_with("HTTP/1.1 400"), "{zeros:?}");
        assert!(get(&server, "/metrics").contains("netcap_flows_active 42"));
    }

    #[test]
    fn slow_clients_cannot_hold_the_server() {
        let server = start();
        // More idle connections than slots, each sending half a request.
        let idle: Vec<TcpStream> = (0..TEST_LIMITS.max_connections + 10)
            .map(|_| {
                let mut s = TcpStream::connect(server.local_addr()).unwrap();
                s.write_all(b"GET /metr").unwrap();
                s
            })
            .collect();
        // The slots are taken: a scrape now may be turned away...
        std::thread::sleep(Duration::from_millis(200));
        // ...but once the head timeout drops the slow clients, it works.
        let started = Instant::now();
        loop {
            let reply = get(&server, "/metrics");
            if reply.contains("netcap_flows_active 42") {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(10), "server never recovered: {reply:?}");
            std::thread::sleep(Duration::from_millis(250));
        }
        // The slow clients were closed by the server.
        for mut s in idle {
            s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            let mut buf = [0u8; 256];
            let n = s.read(&mut buf).unwrap_or(0);
            let text = String::from_utf8_lossy(&buf[..n]);
            assert!(n == 0 || text.starts_with("HTTP/1.1 408"), "{text}");
        }
    }

    #[test]
    fn a_client_that_never_reads_is_cut_off() {
        let server = start();
        let mut stream = TcpStream::connect(server.local_addr()).unwrap();
        // Pipelined requests whose responses are never read.
        let request = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".repeat(2000);
        stream.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
        let _ = stream.write_all(&request);
        std::thread::sleep(TEST_LIMITS.connection_lifetime + Duration::from_millis(500));
        // The server has dropped it: reading drains what was sent, then ends.
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut sink = Vec::new();
        let end = stream.read_to_end(&mut sink);
        let reset = end.as_ref().is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset);
        assert!(end.is_ok() || reset, "{end:?}");
        assert!(get(&server, "/metrics").contains("netcap_flows_active 42"));
    }

    #[test]
    fn a_busy_port_is_an_error_and_stop_frees_it() {
        let server = start();
        let addr = server.local_addr();
        match MetricsServer::start(addr, Metrics::new("0").unwrap()) {
            Err(ServerError::Bind { .. }) => {}
            other => panic!("expected a bind error, got {:?}", other.map(|s| s.local_addr())),
        }
        server.stop();
        let again = MetricsServer::start(addr, Metrics::new("0").unwrap()).unwrap();
        assert_eq!(again.local_addr(), addr);
    }
}
