//! SMTP_CHECK: the greeting must be 220, `HELO` must get 250, then `QUIT`.

use std::net::SocketAddr;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use super::net;
use crate::config::{ResolvedCheck, SmtpCheck};

async fn line<R: tokio::io::AsyncBufRead + Unpin>(r: &mut R, check: &ResolvedCheck) -> Result<String, String> {
    let mut s = String::new();
    match tokio::time::timeout(check.connect_timeout, r.read_line(&mut s)).await {
        Ok(Ok(0)) => Err("connection closed".into()),
        Ok(Ok(_)) => Ok(s),
        Ok(Err(e)) => Err(format!("read: {e}")),
        Err(_) => Err("read timed out".into()),
    }
}

async fn write(s: &mut BufReader<tokio::net::TcpStream>, check: &ResolvedCheck, text: &str) -> Result<(), String> {
    tokio::time::timeout(check.connect_timeout, s.get_mut().write_all(text.as_bytes()))
        .await
        .map_err(|_| "write timed out".to_string())?
        .map_err(|e| format!("write: {e}"))
}

pub(super) async fn session(check: &ResolvedCheck, smtp: &SmtpCheck, target: SocketAddr) -> Result<(), String> {
    let stream = net::connect(check, target).await?;
    let mut stream = BufReader::new(stream);
    let greeting = line(&mut stream, check).await?;
    if !greeting.starts_with("220") {
        return Err(format!("bad greeting banner: {}", greeting.trim_end()));
    }
    write(&mut stream, check, &format!("HELO {}\r\n", smtp.helo())).await?;
    let reply = line(&mut stream, check).await?;
    if !reply.starts_with("250") {
        return Err(format!("bad HELO response: {}", reply.trim_end()));
    }
    write(&mut stream, check, "QUIT\r\n").await?;
    let _ = line(&mut stream, check).await;
    Ok(())
}
