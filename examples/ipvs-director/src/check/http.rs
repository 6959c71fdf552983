//! HTTP_GET and SSL_GET as keepalived 2.2.7 does them, byte for byte where it shows: the
//! request it sends, the status it reads (three digits after the first space, then a space),
//! and the MD5 digest of the body as `genhash` computes it (the raw bytes after the header,
//! up to the end of the connection or `Content-Length`, chunked framing included). The
//! exchange is written here rather than with an HTTP client crate because those decode the
//! body (chunks, encodings), which would change the digest.
//!
//! Each step (connect, TLS handshake, write, every read) gets the connect timeout, as in
//! keepalived; unlike keepalived the whole exchange is also bounded (ten timeouts, at least a
//! minute) and a header longer than 64 KiB fails.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use md5::{Digest, Md5};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::{net, CheckError, Step, Wait};
use crate::config::{HttpCheck, HttpProtocol, Md5Digest, ResolvedCheck};

const MAX_HEADER: usize = 64 * 1024;

/// The request keepalived sends for `path` to `host`.
///
/// ```
/// use ipvs_director::check::request_text;
/// use ipvs_director::config::HttpProtocol;
/// assert_eq!(
///     request_text("/health", "192.0.2.1:80", HttpProtocol::Http11),
///     "GET /health HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: 192.0.2.1:80\r\n\r\n"
/// );
/// ```
pub fn request_text(path: &str, host: &str, protocol: HttpProtocol) -> String {
    let (version, close) = match protocol {
        HttpProtocol::Http10 => ("1.0", ""),
        HttpProtocol::Http10Close => ("1.0", "Connection: close\r\n"),
        HttpProtocol::Http11 => ("1.1", "Connection: close\r\n"),
    };
    format!("GET {path} HTTP/{version}\r\nUser-Agent: KeepAliveClient\r\n{close}Host: {host}\r\n\r\n")
}

/// The status code as keepalived reads it: after the first space, exactly three digits and
/// a space (so `HTTP/1.1 200\r\n`, without a reason, reads as no status).
fn status_of(header: &[u8]) -> Option<u16> {
    let at = header.iter().position(|b| *b == b' ')?;
    match header.get(at + 1..at + 5)? {
        [a, b, c, b' '] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
            Some(u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'))
        }
        _ => None,
    }
}

/// `Content-Length:` exactly so spelled, with a clean number after it.
fn content_length(header: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(header).ok()?;
    let at = text.find("Content-Length:")?;
    let rest = &text[at + "Content-Length:".len()..];
    rest.trim_start_matches([' ', '\t']).split("\r\n").next()?.trim_end().parse().ok()
}

/// The digest genhash prints for a whole response (header and body): MD5 of the body, cut
/// at `Content-Length`. None if the response has no header end.
pub fn digest_of_response(response: &[u8]) -> Option<Md5Digest> {
    let end = response.windows(4).position(|w| w == b"\r\n\r\n")?;
    let (header, body) = (&response[..end], &response[end + 4..]);
    let body = match content_length(header) {
        Some(n) => &body[..usize::try_from(n).unwrap_or(usize::MAX).min(body.len())],
        None => body,
    };
    Some(Md5Digest(Md5::digest(body).into()))
}

/// Reads a response: its status and body digest.
async fn read_response<S: AsyncRead + Unpin>(s: &mut S, timeout: Duration) -> Result<(u16, Md5Digest), CheckError> {
    let mut buf = vec![0u8; 16 * 1024];
    let mut head = Vec::new();
    let mut hasher = Md5::new();
    let mut body_len: u64 = 0;
    let mut header: Option<(u16, Option<u64>)> = None;
    loop {
        let n = match tokio::time::timeout(timeout, s.read(&mut buf)).await {
            Err(_) => {
                return Err(CheckError::TimedOut(if header.is_none() { Wait::HttpHeader } else { Wait::HttpBody }))
            }
            // A TLS peer that closes the connection without close_notify (rustls: UnexpectedEof)
            // ends the response as keepalived's ssl_read_thread takes it: what was read counts.
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof && header.is_some() => 0,
            Ok(Err(e)) => return Err(CheckError::io(Step::HttpRead, &e)),
            Ok(Ok(n)) => n,
        };
        if n == 0 {
            break;
        }
        let mut chunk = &buf[..n];
        if header.is_none() {
            head.extend_from_slice(chunk);
            let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") else {
                if head.len() > MAX_HEADER {
                    return Err(CheckError::HeaderTooLong { limit: MAX_HEADER });
                }
                continue;
            };
            let status = status_of(&head[..end]).unwrap_or(0);
            header = Some((status, content_length(&head[..end])));
            let rest = head.split_off(end + 4);
            let take = |data: &[u8], len: &mut u64, h: &mut Md5, limit: Option<u64>| {
                let room = limit.map_or(data.len() as u64, |l| l.saturating_sub(*len)).min(data.len() as u64);
                h.update(&data[..room as usize]);
                *len += room;
            };
            take(&rest, &mut body_len, &mut hasher, header.and_then(|h| h.1));
            chunk = &[];
        }
        if let Some((_, limit)) = header {
            let room = limit.map_or(chunk.len() as u64, |l| l.saturating_sub(body_len)).min(chunk.len() as u64);
            hasher.update(&chunk[..room as usize]);
            body_len += room;
        }
    }
    match header {
        None => Err(CheckError::NoResponse),
        Some((status, _)) => Ok((status, Md5Digest(hasher.finalize().into()))),
    }
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    request: &str,
    timeout: Duration,
) -> Result<(u16, Md5Digest), CheckError> {
    tokio::time::timeout(timeout, s.write_all(request.as_bytes()))
        .await
        .map_err(|_| CheckError::TimedOut(Wait::HttpWrite))?
        .map_err(|e| CheckError::io(Step::HttpWrite, &e))?;
    read_response(s, timeout).await
}

/// A TLS client that, as keepalived, does not verify the server's certificate (checks talk
/// to real servers by address); handshake signatures are still verified.
fn tls_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: std::sync::OnceLock<Arc<rustls::ClientConfig>> = std::sync::OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .map(|b| {
                    b.dangerous().with_custom_certificate_verifier(Arc::new(NoVerify(provider))).with_no_client_auth()
                })
                .unwrap_or_else(|_| {
                    rustls::ClientConfig::builder()
                        .with_root_certificates(rustls::RootCertStore::empty())
                        .with_no_client_auth()
                });
            Arc::new(config)
        })
        .clone()
}

#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// One url of an HTTP (or, `tls`, HTTPS) check.
pub(super) async fn get(
    check: &ResolvedCheck,
    http: &HttpCheck,
    url: usize,
    target: SocketAddr,
    tls: bool,
) -> Result<(), CheckError> {
    let Some(u) = http.urls.get(url).or_else(|| http.urls.first()) else { return Err(CheckError::NoUrl) };
    let request = request_text(&u.path, &check.host_header(u), http.protocol);
    let timeout = check.connect_timeout;
    let whole = (timeout * 10).max(Duration::from_secs(60));
    let run = async {
        let mut stream = net::connect(check, target).await?;
        if tls {
            let name = match check.sni(u) {
                Some(n) => rustls::pki_types::ServerName::try_from(n.clone()).map_err(|_| CheckError::ServerName(n))?,
                None => rustls::pki_types::ServerName::IpAddress(target.ip().into()),
            };
            let connector = tokio_rustls::TlsConnector::from(tls_config());
            let mut s = tokio::time::timeout(timeout, connector.connect(name, stream))
                .await
                .map_err(|_| CheckError::TimedOut(Wait::TlsHandshake))?
                .map_err(|e| CheckError::Tls(e.into()))?;
            exchange(&mut s, &request, timeout).await
        } else {
            exchange(&mut stream, &request, timeout).await
        }
    };
    let (status, digest) =
        tokio::time::timeout(whole, run).await.map_err(|_| CheckError::TimedOut(Wait::Exchange(whole)))??;
    if !u.status_codes.contains(status) {
        return Err(CheckError::Status { code: status, path: u.path.clone() });
    }
    if let Some(want) = &u.digest {
        if *want != digest {
            return Err(CheckError::Digest { got: digest, want: *want, path: u.path.clone() });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_read_as_keepalived_reads_them() {
        assert_eq!(status_of(b"HTTP/1.1 200 OK"), Some(200));
        assert_eq!(status_of(b"HTTP/1.0 404 Not Found"), Some(404));
        assert_eq!(status_of(b"HTTP/1.1 200"), None);
        assert_eq!(status_of(b"HTTP/1.1 20x OK"), None);
        assert_eq!(status_of(b"garbage"), None);
    }

    #[test]
    fn digests_are_of_the_raw_body_cut_at_content_length() {
        let empty = digest_of_response(b"HTTP/1.0 200 OK\r\n\r\n").unwrap();
        assert_eq!(empty.to_string(), "d41d8cd98f00b204e9800998ecf8427e");
        let r = b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabcdef";
        assert_eq!(digest_of_response(r).unwrap().to_string(), "900150983cd24fb0d6963f7d28e17f72"); // md5("abc")
                                                                                                    // Lower-case spelling is not the header keepalived looks for: the whole body counts.
        let r = b"HTTP/1.0 200 OK\r\ncontent-length: 3\r\n\r\nabcdef";
        assert_eq!(digest_of_response(r).unwrap().to_string(), "e80b5017098950fc58aad83c8c14978e"); // md5("abcdef")
        assert!(digest_of_response(b"HTTP/1.0 200 OK\r\n").is_none());
    }

    #[tokio::test]
    async fn a_response_read_in_pieces_gives_the_same_digest() {
        let response = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA";
        let (mut a, mut b) = tokio::io::duplex(7);
        let writer = tokio::spawn(async move {
            for piece in response.chunks(3) {
                b.write_all(piece).await.unwrap();
            }
        });
        let (status, digest) = read_response(&mut a, Duration::from_secs(5)).await.unwrap();
        writer.await.unwrap();
        assert_eq!((status, digest.to_string()), (200, "5d41402abc4b2a76b9719d911017c592".into()));
        // md5("hello")
    }
}
