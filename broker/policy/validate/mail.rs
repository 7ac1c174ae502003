//! `mail` (the sender and SMTP relay) and `password_reset` (the self-service reset by email).

use serde_saphyr::Spanned;

use super::{DAY, MINUTE, Validator, at, secs};
use crate::policy::raw::{RawMail, RawPasswordReset, RawSmtp, Text};
use crate::policy::{MailPolicy, PasswordReset, SmtpRelay, SmtpSecurity};

/// Longest a delivery may take, and its default.
const MAX_SMTP_TIMEOUT: u64 = 120;
const DEFAULT_SMTP_TIMEOUT: u64 = 15;

impl Validator<'_> {
    pub(super) fn mail(&mut self, raw: &Spanned<RawMail>) -> Option<MailPolicy> {
        let m = &raw.value;
        let from = match &m.from {
            None => {
                self.add(
                    at(raw),
                    "mail",
                    "`from` is required; write the sender, e.g. from: \"Sign-in <no-reply@example.com>\"",
                );
                None
            }
            Some(t) => self.check(t, "mail.from", mailbox),
        };
        let smtp = match &m.smtp {
            None => {
                self.add(
                    at(raw),
                    "mail",
                    "`smtp` is required; give the relay, e.g. smtp: {host: smtp.example.com}",
                );
                None
            }
            Some(s) => self.smtp(s),
        };
        Some(MailPolicy {
            from: from?,
            smtp: smtp?,
        })
    }

    fn smtp(&mut self, raw: &Spanned<RawSmtp>) -> Option<SmtpRelay> {
        let s = &raw.value;
        let host = match &s.host {
            None => {
                self.add(at(raw), "mail.smtp", "`host` is required");
                None
            }
            Some(h) => self.check(h, "mail.smtp.host", relay_host),
        };
        let security = match &s.security {
            None => SmtpSecurity::StartTls,
            Some(t) => self
                .check(t, "mail.smtp.security", security)
                .unwrap_or(SmtpSecurity::StartTls),
        };
        if let (SmtpSecurity::None, Some(h), Some(t)) = (security, &host, &s.security)
            && !is_loopback(h)
        {
            // Credentials and reset links would cross the network in clear text.
            self.add(
                at(t),
                "mail.smtp.security",
                format!(
                    "`none` sends mail unencrypted, so it is only allowed to a relay on this \
                     machine (localhost, 127.0.0.1, ::1), not {h:?}; use `starttls` or `tls`"
                ),
            );
        }
        let port = match &s.port {
            Some(p) if p.value == 0 => {
                self.add(at(p), "mail.smtp.port", "must be 1 to 65535");
                security.default_port()
            }
            Some(p) => p.value,
            None => security.default_port(),
        };
        let username = self.mail_secret([
            ("username_env", &s.username_env),
            ("username_file", &s.username_file),
        ]);
        let password = self.mail_secret([
            ("password_env", &s.password_env),
            ("password_file", &s.password_file),
        ]);
        let credentials = match (username, password) {
            (Some(u), Some(p)) => Some((u, p.into())),
            (None, None) => None,
            (Some(_), None) | (None, Some(_)) => {
                self.add(
                    at(raw),
                    "mail.smtp",
                    "give both a user name and a password (`username_env`/`username_file` and \
                     `password_env`/`password_file`), or neither",
                );
                None
            }
        };
        let timeout = self.duration_or(
            s.timeout.as_ref(),
            "mail.smtp.timeout",
            secs(DEFAULT_SMTP_TIMEOUT),
            (secs(1), secs(MAX_SMTP_TIMEOUT)),
            "",
        );
        Some(SmtpRelay {
            host: host?,
            port,
            security,
            credentials,
            timeout,
        })
    }

    /// `…_env` or `…_file` (one of them), read now.
    fn mail_secret(&mut self, keys: [(&'static str, &Option<Text>); 2]) -> Option<String> {
        let present: Vec<_> = keys
            .into_iter()
            .filter_map(|(n, f)| f.as_ref().map(|f| (n, at(f), f)))
            .collect();
        match self.at_most_one("mail.smtp", present)? {
            (name, t) if name.ends_with("_env") => {
                self.secret_from_env(t, &format!("mail.smtp.{name}"))
            }
            (name, t) => self.secret_from_file(t, &format!("mail.smtp.{name}")),
        }
    }

    pub(super) fn password_reset(
        &mut self,
        raw: Option<&Spanned<RawPasswordReset>>,
        mail: bool,
    ) -> PasswordReset {
        let d = PasswordReset::default();
        let Some(raw) = raw else { return d };
        let r = &raw.value;
        let enabled = r.enabled.as_ref().is_none_or(|e| e.value);
        if let Some(e) = &r.enabled
            && e.value
            && !mail
        {
            self.add(
                at(e),
                "password_reset.enabled",
                "the reset mails a link, so it needs `mail` (the sender and SMTP relay)",
            );
        }
        let count =
            |v: &mut Self, field: &Option<Spanned<u32>>, name: &str, default: u32| match field {
                Some(n) if n.value == 0 => {
                    v.add(
                        at(n),
                        &format!("password_reset.{name}"),
                        "must be at least 1 (to turn the reset off, write enabled: false)",
                    );
                    default
                }
                Some(n) => n.value,
                None => default,
            };
        let per_address = count(self, &r.per_address, "per_address", d.per_address);
        let per_ip = count(self, &r.per_ip, "per_ip", d.per_ip);
        let link_lifetime = self.duration_or(
            r.link_lifetime.as_ref(),
            "password_reset.link_lifetime",
            d.link_lifetime,
            (secs(5 * MINUTE), secs(DAY)),
            "; a reset link is a credential, keep it short-lived",
        );
        let window = self.duration_or(
            r.window.as_ref(),
            "password_reset.window",
            d.window,
            (secs(MINUTE), secs(DAY)),
            "",
        );
        PasswordReset {
            enabled,
            link_lifetime,
            per_address,
            per_ip,
            window,
        }
    }
}

/// The `From:` mailbox (RFC 5322 §3.4): `Name <local@domain>` or `local@domain`.
fn mailbox(text: &str) -> Result<String, String> {
    text.trim()
        .parse::<lettre::message::Mailbox>()
        .map(|m| m.to_string())
        .map_err(|_| {
            format!(
                "{text:?} is not a mailbox; write it like \"Sign-in <no-reply@example.com>\" \
                 or no-reply@example.com"
            )
        })
}

/// A host name or an IP address, without scheme or port.
fn relay_host(text: &str) -> Result<String, String> {
    let h = text.trim();
    let ok = !h.is_empty()
        && h.len() <= 253
        && !h.contains("://")
        && !h.contains('/')
        && (h.parse::<std::net::IpAddr>().is_ok()
            || h.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.'));
    if ok {
        Ok(h.to_owned())
    } else {
        Err(format!(
            "{text:?} is not a host; write a name or address alone, e.g. smtp.example.com \
             (the port goes in `port`)"
        ))
    }
}

fn security(text: &str) -> Result<SmtpSecurity, String> {
    match text {
        "tls" => Ok(SmtpSecurity::Tls),
        "starttls" => Ok(SmtpSecurity::StartTls),
        "none" => Ok(SmtpSecurity::None),
        other => Err(format!(
            "{other:?} is not a security mode; write tls, starttls or none"
        )),
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
