//! Each kind of check, one attempt through the public API (`ipvs_director::check::attempt`),
//! against a server on 127.0.0.1 that the test runs itself:
//!
//! - SSL_GET: a TLS server (its certificate made by rcgen at run time): the status codes, the
//!   body digest (genhash's MD5 of the body), the request's `Host:` and the SNI name the server
//!   receives; a server that closes without TLS close_notify, as keepalived accepts it;
//! - DNS_CHECK: a UDP server: a correct reply passes; another id, QR 0, an RCODE, silence fail;
//! - SMTP_CHECK: greeting 220, HELO 250, QUIT 221 passes; a 554 greeting or a refused HELO fail;
//! - MISC_CHECK: exit 0 and 1, `misc_dynamic` weights, a command past its timeout killed (its
//!   whole process group, SIGKILL for one that ignores SIGTERM).
//!
//! Every wait is bounded: each attempt by the check's own timeout and by [`bounded`].

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ipvs_director::check::{attempt, Attempt};
use ipvs_director::config::{Config, ResolvedCheck};
use md5::{Digest, Md5};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;

/// The longest any one step of these tests may take.
const BOUND: Duration = Duration::from_secs(10);

async fn bounded<T>(what: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(BOUND, f).await.unwrap_or_else(|_| panic!("{what}: no result within {BOUND:?}"))
}

/// The one check of a configuration with one real server at 127.0.0.1:`port`; `vs` and
/// `check` are lines added to the virtual server and to the check.
fn resolved(port: u16, vs: &str, kind: &str, check: &str) -> ResolvedCheck {
    let text = format!(
        "[[virtual_servers]]\nprotocol = \"tcp\"\naddress = \"192.0.2.10\"\nport = 80\n{vs}\n\
         [[virtual_servers.real_servers]]\naddress = \"127.0.0.1\"\nport = {port}\n\
         [[virtual_servers.real_servers.{kind}]]\n{check}\n"
    );
    let c = Config::from_toml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let vs = &c.virtual_servers[0];
    let rs = &vs.real_servers[0];
    ResolvedCheck::new(&c.global, vs, rs, &rs.checks[0])
}

async fn run(check: &ResolvedCheck) -> Attempt {
    bounded("the attempt", attempt(check, 0)).await
}

fn md5_hex(data: &[u8]) -> String {
    Md5::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------------------
// SSL_GET

/// What the TLS server saw of one connection.
#[derive(Debug)]
struct Seen {
    sni: Option<String>,
    request: String,
}

fn tls_acceptor() -> tokio_rustls::TlsAcceptor {
    let ck = rcgen::generate_simple_self_signed(vec!["www.example.test".to_owned()]).unwrap();
    let cert = ck.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
        ck.signing_key.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// A TLS server answering every request with `response`; ends each connection with
/// close_notify or (`close_notify` false) by closing the TCP connection only.
async fn https_server(response: &'static [u8], close_notify: bool) -> (u16, mpsc::UnboundedReceiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor = tls_acceptor();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, tx) = (acceptor.clone(), tx.clone());
            tokio::spawn(async move {
                let serve = async {
                    let mut s = acceptor.accept(tcp).await.ok()?;
                    let sni = s.get_ref().1.server_name().map(str::to_owned);
                    let mut request = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        let n = s.read(&mut buf).await.ok()?;
                        if n == 0 {
                            return None;
                        }
                        request.extend_from_slice(&buf[..n]);
                    }
                    let _ = tx.send(Seen { sni, request: String::from_utf8_lossy(&request).into_owned() });
                    s.write_all(response).await.ok()?;
                    if close_notify {
                        s.shutdown().await.ok()?;
                    } else {
                        s.flush().await.ok()?;
                        let (mut tcp, _) = s.into_inner();
                        tcp.shutdown().await.ok()?;
                    }
                    Some(())
                };
                let _ = tokio::time::timeout(BOUND, serve).await;
            });
        }
    });
    (port, rx)
}

const BODY: &[u8] = b"<html>keepalived checks me</html>\n";
const OK_RESPONSE: &[u8] =
    b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: 34\r\n\r\n<html>keepalived checks me</html>\n";

async fn seen(rx: &mut mpsc::UnboundedReceiver<Seen>) -> Seen {
    bounded("the server's view", rx.recv()).await.expect("the server saw the request")
}

#[tokio::test]
async fn ssl_get_passes_on_status_and_digest_and_sends_the_virtualhost_as_sni() {
    assert_eq!(BODY.len(), 34);
    let (port, mut rx) = https_server(OK_RESPONSE, true).await;
    let digest = md5_hex(BODY);
    let check = resolved(
        port,
        "connect_timeout = 2",
        "ssl_get",
        &format!("enable_sni = true\nvirtualhost = \"www.example.test\"\nurl = [{{ path = \"/health\", digest = \"{digest}\" }}]"),
    );
    let a = run(&check).await;
    assert_eq!(a.result, Ok(()), "{a:?}");
    let s = seen(&mut rx).await;
    assert_eq!(s.sni.as_deref(), Some("www.example.test"));
    assert_eq!(s.request, "GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: www.example.test\r\n\r\n");
}

#[tokio::test]
async fn ssl_get_fails_on_a_wrong_digest_or_status() {
    let (port, _rx) = https_server(OK_RESPONSE, true).await;
    let wrong = md5_hex(b"something else");
    let check = resolved(port, "", "ssl_get", &format!("url = [{{ path = \"/\", digest = \"{wrong}\" }}]"));
    let a = run(&check).await;
    let err = a.result.unwrap_err();
    assert_eq!(err.kind(), "digest", "{err}");
    let err = err.to_string();
    assert!(err.contains("MD5 digest error") && err.contains(&md5_hex(BODY)), "{err}");

    // 200 is not among the codes asked for.
    let check = resolved(port, "", "ssl_get", "url = [{ path = \"/\", status_code = [201, \"300-399\"] }]");
    let err = run(&check).await.result.unwrap_err();
    assert_eq!(err.kind(), "status", "{err}");
    let err = err.to_string();
    assert!(err.contains("HTTP status code error: 200"), "{err}");

    // A 503 fails the default codes (200-299) and passes when listed.
    let (port, _rx) = https_server(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", true).await;
    let check = resolved(port, "", "ssl_get", "url = [{ path = \"/\" }]");
    let err = run(&check).await.result.unwrap_err();
    assert_eq!(err.kind(), "status", "{err}");
    let err = err.to_string();
    assert!(err.contains("HTTP status code error: 503"), "{err}");
    let check = resolved(port, "", "ssl_get", "url = [{ path = \"/\", status_code = [503] }]");
    assert_eq!(run(&check).await.result, Ok(()));
}

#[tokio::test]
async fn ssl_get_server_names_follow_the_url_then_the_check_then_the_virtual_server() {
    let (port, mut rx) = https_server(OK_RESPONSE, true).await;
    // The url's virtualhost wins over the check's.
    let check = resolved(
        port,
        "",
        "ssl_get",
        "enable_sni = true\nvirtualhost = \"check.example.test\"\nurl = [{ path = \"/\", virtualhost = \"url.example.test\" }]",
    );
    assert_eq!(run(&check).await.result, Ok(()));
    let s = seen(&mut rx).await;
    assert_eq!(s.sni.as_deref(), Some("url.example.test"));
    assert!(s.request.contains("\r\nHost: url.example.test\r\n"), "{}", s.request);

    // The virtual server's when the check has none.
    let check =
        resolved(port, "virtualhost = \"vs.example.test\"", "ssl_get", "enable_sni = true\nurl = [{ path = \"/\" }]");
    assert_eq!(run(&check).await.result, Ok(()));
    assert_eq!(seen(&mut rx).await.sni.as_deref(), Some("vs.example.test"));

    // Without enable_sni no name is sent (the target is an address), but Host: is.
    let check = resolved(port, "", "ssl_get", "virtualhost = \"check.example.test\"\nurl = [{ path = \"/\" }]");
    assert_eq!(run(&check).await.result, Ok(()));
    let s = seen(&mut rx).await;
    assert_eq!(s.sni, None);
    assert!(s.request.contains("\r\nHost: check.example.test\r\n"), "{}", s.request);

    // No virtualhost anywhere: Host is the target, address and port.
    let check = resolved(port, "", "ssl_get", "url = [{ path = \"/\" }]\nhttp_protocol = \"1.1\"");
    assert_eq!(run(&check).await.result, Ok(()));
    let s = seen(&mut rx).await;
    assert_eq!(
        s.request,
        format!("GET / HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: 127.0.0.1:{port}\r\n\r\n")
    );
}

#[tokio::test]
async fn ssl_get_takes_a_response_ended_without_close_notify() {
    // keepalived (ssl_read_thread) handles the response it has read whatever SSL error ends
    // the stream; many servers close the TCP connection without a TLS close_notify.
    let (port, mut rx) = https_server(OK_RESPONSE, false).await;
    let check = resolved(port, "", "ssl_get", &format!("url = [{{ path = \"/\", digest = \"{}\" }}]", md5_hex(BODY)));
    let a = run(&check).await;
    assert_eq!(a.result, Ok(()), "{a:?}");
    seen(&mut rx).await;
    // But a server that closes so before any response still fails the check.
    let (port, _rx) = https_server(b"", false).await;
    let err = run(&resolved(port, "", "ssl_get", "url = [{ path = \"/\" }]")).await.result.unwrap_err();
    let err = err.to_string();
    assert!(err.contains("close_notify"), "{err}");
}

#[tokio::test]
async fn ssl_get_fails_against_a_server_that_does_not_speak_tls_or_does_not_listen() {
    // A plain HTTP server: the handshake fails.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let _ = s.write_all(OK_RESPONSE).await;
        }
    });
    let check = resolved(port, "", "ssl_get", "url = [{ path = \"/\" }]");
    let err = run(&check).await.result.unwrap_err();
    let err = err.to_string();
    assert!(err.contains("SSL"), "{err}");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let check = resolved(closed, "", "ssl_get", "url = [{ path = \"/\" }]");
    let err = run(&check).await.result.unwrap_err();
    let err = err.to_string();
    assert!(err.contains("failed"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// DNS_CHECK

#[derive(Debug, Clone, Copy)]
enum Dns {
    /// The query's id, QR set, RCODE 0.
    Answer,
    /// Another id.
    OtherId,
    /// QR 0: a query, not a reply.
    NotAReply,
    /// This RCODE.
    Rcode(u8),
    /// Nothing.
    Silent,
    /// A reply with another id, then the right one.
    StrayThenAnswer,
}

/// A DNS server on UDP answering as `mode` says; sends each query it gets.
async fn dns_server(mode: Dns) -> (u16, mpsc::UnboundedReceiver<Vec<u8>>) {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = socket.local_addr().unwrap().port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        while let Ok((n, peer)) = socket.recv_from(&mut buf).await {
            let query = buf[..n].to_vec();
            let _ = tx.send(query.clone());
            if n < 12 {
                continue;
            }
            let reply = |id: [u8; 2], qr: bool, rcode: u8| {
                let mut r = Vec::with_capacity(n);
                r.extend_from_slice(&id);
                r.push(if qr { 0x81 } else { 0x01 }); // QR, opcode 0, RD
                r.push(0x80 | rcode); // RA, RCODE
                r.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
                r.extend_from_slice(&query[12..]);
                r
            };
            let id = [query[0], query[1]];
            let other = [query[0] ^ 0x5a, query[1] ^ 0xa5];
            let replies = match mode {
                Dns::Answer => vec![reply(id, true, 0)],
                Dns::OtherId => vec![reply(other, true, 0)],
                Dns::NotAReply => vec![reply(id, false, 0)],
                Dns::Rcode(c) => vec![reply(id, true, c)],
                Dns::Silent => vec![],
                Dns::StrayThenAnswer => vec![reply(other, true, 0), reply(id, true, 0)],
            };
            for r in replies {
                let _ = socket.send_to(&r, peer).await;
            }
        }
    });
    (port, rx)
}

const DNS_CHECK: &str = "type = \"A\"\nname = \"www.example.org\"\nconnect_timeout = 0.5";

#[tokio::test]
async fn dns_check_passes_on_a_reply_with_the_query_id_qr_and_rcode_0() {
    let (port, mut rx) = dns_server(Dns::Answer).await;
    let check = resolved(port, "", "dns_check", DNS_CHECK);
    let a = run(&check).await;
    assert_eq!(a.result, Ok(()), "{a:?}");
    let q = bounded("the query", rx.recv()).await.unwrap();
    // Flags: RD only; one question www.example.org, type A, class IN.
    assert_eq!(&q[2..12], &[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    assert_eq!(&q[12..], b"\x03www\x07example\x03org\x00\x00\x01\x00\x01");

    // A stray reply (another id) is passed over; the right one still counts.
    let (port, _rx) = dns_server(Dns::StrayThenAnswer).await;
    assert_eq!(run(&resolved(port, "", "dns_check", DNS_CHECK)).await.result, Ok(()));
}

#[tokio::test]
async fn dns_check_fails_on_another_id_a_query_an_rcode_or_silence_within_the_timeout() {
    for mode in [Dns::OtherId, Dns::NotAReply, Dns::Silent] {
        let (port, _rx) = dns_server(mode).await;
        let start = Instant::now();
        let a = run(&resolved(port, "", "dns_check", DNS_CHECK)).await;
        let took = start.elapsed();
        let err = a.result.unwrap_err();
        assert_eq!(err.kind(), "timeout", "{err}");
        let err = err.to_string();
        assert!(err.contains("timeout"), "{mode:?}: {err}");
        // It waited for the right reply until the timeout (0.5 s), not longer.
        assert!(took >= Duration::from_millis(450) && took < Duration::from_secs(3), "{mode:?}: {took:?}");
    }
    for rcode in [2, 3, 5] {
        let (port, _rx) = dns_server(Dns::Rcode(rcode)).await;
        let start = Instant::now();
        let err = run(&resolved(port, "", "dns_check", DNS_CHECK)).await.result.unwrap_err();
        assert_eq!(err.kind(), "dns", "{err}");
        let err = err.to_string();
        assert!(err.contains(&format!("rcode = {rcode}")), "{err}");
        assert!(start.elapsed() < Duration::from_millis(450), "an error reply fails at once");
    }
}

// ---------------------------------------------------------------------------------------------
// SMTP_CHECK

/// An SMTP server greeting with `greeting` and answering HELO with `helo`; sends the lines
/// it gets.
async fn smtp_server(greeting: &'static str, helo: &'static str) -> (u16, mpsc::UnboundedReceiver<String>) {
    async fn line(s: &mut BufReader<TcpStream>, tx: &mpsc::UnboundedSender<String>) -> Option<String> {
        let mut line = String::new();
        if s.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let _ = tx.send(line.clone());
        Some(line)
    }
    async fn session(s: TcpStream, greeting: &str, helo: &str, tx: mpsc::UnboundedSender<String>) -> Option<()> {
        let mut s = BufReader::new(s);
        s.get_mut().write_all(greeting.as_bytes()).await.ok()?;
        line(&mut s, &tx).await?;
        s.get_mut().write_all(helo.as_bytes()).await.ok()?;
        if line(&mut s, &tx).await? == "QUIT\r\n" {
            s.get_mut().write_all(b"221 2.0.0 Bye\r\n").await.ok()?;
        }
        Some(())
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            tokio::spawn(tokio::time::timeout(BOUND, session(s, greeting, helo, tx.clone())));
        }
    });
    (port, rx)
}

#[tokio::test]
async fn smtp_check_passes_on_220_250_221() {
    let (port, mut rx) = smtp_server("220 mx.example.test ESMTP\r\n", "250 mx.example.test\r\n").await;
    let a = run(&resolved(port, "", "smtp_check", "connect_timeout = 2")).await;
    assert_eq!(a.result, Ok(()), "{a:?}");
    assert_eq!(bounded("HELO", rx.recv()).await.unwrap(), "HELO smtpchecker.keepalived.org\r\n");
    assert_eq!(bounded("QUIT", rx.recv()).await.unwrap(), "QUIT\r\n");

    let a = run(&resolved(port, "", "smtp_check", "helo_name = \"director.example.test\"")).await;
    assert_eq!(a.result, Ok(()));
    assert_eq!(bounded("HELO", rx.recv()).await.unwrap(), "HELO director.example.test\r\n");
}

#[tokio::test]
async fn smtp_check_fails_on_a_554_greeting_or_a_refused_helo() {
    let (port, mut rx) = smtp_server("554 5.3.2 no service here\r\n", "250 ok\r\n").await;
    let err = run(&resolved(port, "", "smtp_check", "connect_timeout = 2")).await.result.unwrap_err();
    assert_eq!(err.kind(), "smtp", "{err}");
    let err = err.to_string();
    assert!(err.contains("bad greeting banner: 554"), "{err}");
    // It gave up after the greeting: no HELO was sent.
    assert!(rx.try_recv().is_err());

    let (port, _rx) = smtp_server("220 mx.example.test ESMTP\r\n", "550 go away\r\n").await;
    let err = run(&resolved(port, "", "smtp_check", "connect_timeout = 2")).await.result.unwrap_err();
    assert_eq!(err.kind(), "smtp", "{err}");
    let err = err.to_string();
    assert!(err.contains("bad HELO response: 550"), "{err}");

    // A server that greets nobody: the read times out.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let start = Instant::now();
    let err = run(&resolved(port, "", "smtp_check", "connect_timeout = 0.5")).await.result.unwrap_err();
    assert_eq!(err.kind(), "timeout", "{err}");
    let err = err.to_string();
    assert!(err.contains("timed out") && start.elapsed() < Duration::from_secs(3), "{err}");
    drop(listener);
}

// ---------------------------------------------------------------------------------------------
// MISC_CHECK

fn misc(script: &str, extra: &str) -> ResolvedCheck {
    let words = serde_json::to_string(&["/bin/sh", "-c", script]).unwrap();
    resolved(80, "", "misc_check", &format!("misc_path = {words}\n{extra}"))
}

#[tokio::test]
async fn misc_check_exit_0_passes_and_exit_1_fails() {
    let a = run(&misc("exit 0", "misc_timeout = 5")).await;
    assert_eq!((a.result, a.weight), (Ok(()), None));
    let a = run(&misc("exit 1", "misc_timeout = 5")).await;
    assert_eq!(
        a.result.map_err(|e| (e.kind(), e.to_string())),
        Err(("script_exit", "exited with status 1".to_owned()))
    );
    // Without misc_dynamic any other status fails too.
    assert!(run(&misc("exit 7", "misc_timeout = 5")).await.result.is_err());
}

#[tokio::test]
async fn misc_dynamic_sets_the_weight_to_the_status_minus_2() {
    let a = run(&misc("exit 7", "misc_timeout = 5\nmisc_dynamic = true")).await;
    assert_eq!((a.result, a.weight), (Ok(()), Some(5)));
    let a = run(&misc("exit 2", "misc_timeout = 5\nmisc_dynamic = true")).await;
    assert_eq!((a.result, a.weight), (Ok(()), Some(0)));
    let a = run(&misc("exit 255", "misc_timeout = 5\nmisc_dynamic = true")).await;
    assert_eq!((a.result, a.weight), (Ok(()), Some(253)));
    let a = run(&misc("exit 0", "misc_timeout = 5\nmisc_dynamic = true")).await;
    assert_eq!((a.result, a.weight), (Ok(()), None));
    let a = run(&misc("exit 1", "misc_timeout = 5\nmisc_dynamic = true")).await;
    assert!(a.result.is_err() && a.weight.is_none());
}

/// Whether process `pid` is gone (or a zombie: dead, waiting for its parent to reap it).
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // "pid (comm) S ...": the state follows the last ')'.
        Ok(stat) => stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
    }
}

/// Waits (at most 5 s) for every pid written in `file` to be gone.
fn until_gone(file: &std::path::Path) -> Vec<u32> {
    let pids: Vec<u32> =
        std::fs::read_to_string(file).unwrap().split_whitespace().map(|p| p.parse().unwrap()).collect();
    assert_eq!(pids.len(), 2, "the shell and its child");
    let start = Instant::now();
    while !pids.iter().all(|p| gone(*p)) {
        assert!(start.elapsed() < Duration::from_secs(5), "still running: {pids:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    pids
}

#[tokio::test]
async fn misc_check_past_its_timeout_fails_and_its_process_group_is_killed() {
    let file = std::env::temp_dir().join(format!("ipvs-director-misc-{}-term", std::process::id()));
    let _ = std::fs::remove_file(&file);
    // The shell and a child of it (the process group), both would sleep for a minute.
    let script = format!("sleep 60 & echo $$ $! > {}; wait", file.display());
    let start = Instant::now();
    let a = run(&misc(&script, "misc_timeout = 0.5")).await;
    let took = start.elapsed();
    assert_eq!(
        a.result.map_err(|e| (e.kind(), e.to_string())),
        Err(("script_timeout", "timed out after 500ms".to_owned()))
    );
    assert!(took >= Duration::from_millis(500) && took < Duration::from_secs(2), "{took:?}");
    until_gone(&file);
    let _ = std::fs::remove_file(&file);
}

#[tokio::test]
async fn misc_check_that_ignores_sigterm_is_killed_2_s_later() {
    let file = std::env::temp_dir().join(format!("ipvs-director-misc-{}-kill", std::process::id()));
    let _ = std::fs::remove_file(&file);
    let script = format!("trap '' TERM; sleep 60 & echo $$ $! > {}; wait", file.display());
    let start = Instant::now();
    let a = run(&misc(&script, "misc_timeout = 0.5")).await;
    let took = start.elapsed();
    assert_eq!(
        a.result.map_err(|e| (e.kind(), e.to_string())),
        Err(("script_timeout", "timed out after 500ms".to_owned()))
    );
    // SIGTERM at 0.5 s is ignored; SIGKILL 2 s after it.
    assert!(took >= Duration::from_millis(2400) && took < Duration::from_secs(5), "{took:?}");
    until_gone(&file);
    let _ = std::fs::remove_file(&file);
}
