//! A local SMTP sink for the mail tests: plain SMTP (RFC 5321) on a free loopback port, no
//! TLS, no AUTH; every message it is given lands in a channel. Optionally slow to greet, to
//! show that a page does not wait for the mail.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// One message as delivered.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// Headers and body as sent (after dot-unstuffing).
    pub data: String,
}

impl Received {
    /// The text with quoted-printable soft breaks and `=3D` undone: enough to find a link.
    pub fn text(&self) -> String {
        self.data.replace("=\r\n", "").replace("=3D", "=")
    }

    /// The first `…/password/set?token=…` link of the body.
    pub fn link(&self) -> Option<String> {
        let text = self.text();
        let start = text.find("http")?;
        let end = text[start..]
            .find(|c: char| c.is_whitespace())
            .map_or(text.len(), |e| start + e);
        Some(text[start..end].to_owned())
    }
}

pub struct SmtpSink {
    pub port: u16,
    mail: mpsc::UnboundedReceiver<Received>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        SmtpSink::start_slow(Duration::ZERO).await
    }

    /// A sink that waits `greeting_delay` before its `220` greeting.
    pub async fn start_slow(greeting_delay: Duration) -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, mail) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let tx = tx.clone();
                tokio::spawn(async move {
                    let _ = session(socket, greeting_delay, tx).await;
                });
            }
        });
        SmtpSink { port, mail }
    }

    /// The next message, or `None` when none came within `wait`.
    pub async fn next(&mut self, wait: Duration) -> Option<Received> {
        tokio::time::timeout(wait, self.mail.recv())
            .await
            .ok()
            .flatten()
    }

    /// The policy's `mail` section for this sink.
    pub fn policy(&self) -> String {
        format!(
            "mail:\n  from: \"Sign-in <no-reply@example.com>\"\n  smtp: {{host: 127.0.0.1, port: {}, security: none, timeout: 10s}}\n",
            self.port
        )
    }
}

async fn session(
    socket: tokio::net::TcpStream,
    greeting_delay: Duration,
    tx: mpsc::UnboundedSender<Received>,
) -> std::io::Result<()> {
    tokio::time::sleep(greeting_delay).await;
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink ESMTP\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let upper = command.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            write.write_all(b"250-sink\r\n250 8BITMIME\r\n").await?;
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
            write.write_all(b"250 OK\r\n").await?;
        } else if upper.starts_with("MAIL FROM:") {
            from = command[10..].to_owned();
            write.write_all(b"250 OK\r\n").await?;
        } else if upper.starts_with("RCPT TO:") {
            to.push(command[8..].trim_matches(['<', '>', ' ']).to_owned());
            write.write_all(b"250 OK\r\n").await?;
        } else if upper == "DATA" {
            write.write_all(b"354 go ahead\r\n").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                // RFC 5321 §4.5.2: a leading dot was doubled.
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            let _ = tx.send(Received {
                from: std::mem::take(&mut from),
                to: std::mem::take(&mut to),
                data,
            });
            write.write_all(b"250 queued\r\n").await?;
        } else if upper == "RSET" {
            (from, to) = (String::new(), Vec::new());
            write.write_all(b"250 OK\r\n").await?;
        } else if upper == "QUIT" {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            write.write_all(b"502 not implemented\r\n").await?;
        }
    }
}
