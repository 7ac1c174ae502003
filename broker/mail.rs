//! Sending the broker's mail (password-reset links) through the policy's SMTP relay with
//! lettre: TLS through rustls and the aws-lc provider, `STARTTLS` required when it is chosen
//! (RFC 3207 §4: no downgrade to plain text), credentials from the environment or files.
//!
//! One connection per mail, built from the relay settings in force: a policy reload that
//! changes the relay applies to the next mail. Errors carry no address and no body.

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
use secrecy::ExposeSecret as _;

use crate::policy::{MailPolicy, SmtpSecurity};

/// One plain-text mail to one recipient.
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the recipient is not a valid address")]
    Recipient,
    #[error("the mail could not be built: {0}")]
    Build(String),
    #[error("the SMTP relay refused or failed: {0}")]
    Smtp(String),
}

/// Hands `mail` to the relay of `policy`, greeting it as `hello` (the broker's host name,
/// RFC 5321 §4.1.1.1).
pub async fn send(policy: &MailPolicy, hello: &str, mail: Mail) -> Result<(), MailError> {
    let from: Mailbox = policy
        .from
        .parse()
        .map_err(|e: lettre::address::AddressError| MailError::Build(e.to_string()))?;
    let to: Mailbox = mail.to.parse().map_err(|_| MailError::Recipient)?;
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(mail.subject)
        .header(ContentType::TEXT_PLAIN)
        .body(mail.body)
        .map_err(|e| MailError::Build(e.to_string()))?;
    let relay = &policy.smtp;
    let smtp_err = |e: lettre::transport::smtp::Error| MailError::Smtp(e.to_string());
    let builder = match relay.security {
        // RFC 8314 §3.3: TLS from the first byte.
        SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&relay.host),
        // RFC 3207: STARTTLS, and no mail if the relay does not offer it.
        SmtpSecurity::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&relay.host),
        // Only to a loopback relay (checked when the policy loads).
        SmtpSecurity::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
            relay.host.as_str(),
        )),
    }
    .map_err(smtp_err)?;
    let mut builder = builder
        .port(relay.port)
        .timeout(Some(relay.timeout))
        .hello_name(ClientId::Domain(hello.to_owned()));
    if let Some((user, password)) = &relay.credentials {
        builder = builder.credentials(Credentials::new(
            user.clone(),
            password.expose_secret().to_owned(),
        ));
    }
    builder.build().send(message).await.map_err(smtp_err)?;
    Ok(())
}
