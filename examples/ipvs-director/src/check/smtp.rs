//! SMTP_CHECK: the greeting must be 220, `HELO` must get 250, then `QUIT`.

use std::net::SocketAddr;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use super::{net, CheckError, SmtpStep, Step, Wait};
use crate::config::{ResolvedCheck, SmtpCheck};

async fn line<R: tokio::io::AsyncBufRead + Unpin>(r: &mut R, check: &ResolvedCheck) -> Result<String, CheckError> {
    let mut s = String::new();
    match tokio::time::timeout(check.connect_timeout, r.read_line(&mut s)).await {
        Ok(Ok(0)) => Err(CheckError::SmtpClosed),
        Ok(Ok(_)) => Ok(s),
        Ok(Err(e)) => Err(CheckError::io(Step::SmtpRead, &e)),
        Err(_) => Err(CheckError::TimedOut(Wait::SmtpRead)),
    }
}

async fn write(s: &mut BufReader<tokio::net::TcpStream>, check: &ResolvedCheck, text: &str) -> Result<(), CheckError> {
    tokio::time::timeout(check.connect_timeout, s.get_mut().write_all(text.as_bytes()))
        .await
        .map_err(|_| CheckError::TimedOut(Wait::SmtpWrite))?
        .map_err(|e| CheckError::io(Step::SmtpWrite, &e))
}

pub(super) async fn session(check: &ResolvedCheck, smtp: &SmtpCheck, target: SocketAddr) -> Result<(), CheckError> {
    let stream = net::connect(check, target).await?;
    let mut stream = BufReader::new(stream);
    let greeting = line(&mut stream, check).await?;
    if !greeting.starts_with("220") {
        return Err(CheckError::SmtpReply { step: SmtpStep::Greeting, reply: greeting.trim_end().to_owned() });
    }
    write(&mut stream, check, &format!("HELO {}\r\n", smtp.helo())).await?;
    let reply = line(&mut stream, check).await?;
    if !reply.starts_with("250") {
        return Err(CheckError::SmtpReply { step: SmtpStep::Helo, reply: reply.trim_end().to_owned() });
    }
    write(&mut stream, check, "QUIT\r\n").await?;
    let _ = line(&mut stream, check).await;
    Ok(())
}
