//! `mail` and `password_reset`: the relay, its security and credentials, and the reset's
//! limits; every refusal located.

use super::*;
use crate::policy::SmtpSecurity;

fn env(name: &str) -> Option<String> {
    match name {
        "SMTP_USER" => Some("broker".into()),
        "SMTP_PASSWORD" => Some("smtp-password-value".into()),
        _ => None,
    }
}

fn load(body: &str) -> Result<Policy, ConfigError> {
    let yaml = format!("issuer: https://login.example.com\n{body}");
    load_str_with_env(Path::new("test.yaml"), &yaml, &env)
}

/// Refused with exactly one problem at `line`:`column` (the issuer is line 1) whose reason
/// contains `reason`.
#[track_caller]
fn check(body: &str, line: u64, column: u64, reason: &str) {
    let problems = match load(body) {
        Ok(_) => panic!("expected a refusal of:\n{body}"),
        Err(ConfigError::Invalid { problems, .. }) => problems,
        Err(e) => panic!("expected Invalid, got {e}"),
    };
    assert_eq!(problems.len(), 1, "{problems:?}");
    let p = &problems[0];
    assert!(p.reason.contains(reason), "{:?} lacks {reason:?}", p.reason);
    assert_eq!((p.line, p.column), (line, column), "{:?}", p.reason);
}

#[test]
fn without_mail_there_is_no_reset() {
    let p = load("").unwrap();
    assert!(p.mail.is_none());
    assert!(p.reset_by_mail().is_none());
}

#[test]
fn a_relay_with_defaults_and_credentials() {
    let p = load(
        "mail:\n  from: \"Sign-in <no-reply@example.com>\"\n  smtp: {host: smtp.example.com, \
         username_env: SMTP_USER, password_env: SMTP_PASSWORD}\n",
    )
    .unwrap();
    let mail = p.reset_by_mail().expect("offered");
    assert_eq!(mail.smtp.security, SmtpSecurity::StartTls);
    assert_eq!(mail.smtp.port, 587);
    assert_eq!(mail.smtp.timeout.as_secs(), 15);
    let (user, _) = mail.smtp.credentials.as_ref().unwrap();
    assert_eq!(user, "broker");
    assert_eq!(p.password_reset.link_lifetime.as_secs(), 30 * 60);
    assert_eq!(
        (p.password_reset.per_address, p.password_reset.per_ip),
        (3, 20)
    );

    let p = load(
        "mail: {from: a@example.com, smtp: {host: smtp.example.com, security: tls}}\n\
         password_reset: {link_lifetime: 15m, per_address: 5, per_ip: 50, window: 30m}\n",
    )
    .unwrap();
    assert_eq!(p.mail.as_ref().unwrap().smtp.port, 465);
    assert_eq!(p.password_reset.link_lifetime.as_secs(), 900);
    assert_eq!(p.password_reset.window.as_secs(), 1800);

    let p = load(
        "mail: {from: a@example.com, smtp: {host: smtp.example.com}}\n\
         password_reset: {enabled: false}\n",
    )
    .unwrap();
    assert!(p.mail.is_some() && p.reset_by_mail().is_none());
}

#[test]
fn mail_rules() {
    check(
        "mail: {smtp: {host: smtp.example.com}}\n",
        2,
        7,
        "`from` is required",
    );
    check("mail: {from: a@example.com}\n", 2, 7, "`smtp` is required");
    check(
        "mail: {from: not a mailbox, smtp: {host: smtp.example.com}}\n",
        2,
        14,
        "is not a mailbox",
    );
    check(
        "mail: {from: a@example.com, smtp: {host: \"smtp://smtp.example.com:25\"}}\n",
        2,
        42,
        "is not a host",
    );
    check(
        "mail: {from: a@example.com, smtp: {host: smtp.example.com, security: ssl}}\n",
        2,
        70,
        "tls, starttls or none",
    );
    // Plain text only to this machine: the link is a credential.
    check(
        "mail: {from: a@example.com, smtp: {host: smtp.example.com, security: none}}\n",
        2,
        70,
        "only allowed to a relay on this machine",
    );
    assert!(load("mail: {from: a@example.com, smtp: {host: 127.0.0.1, security: none}}\n").is_ok());
    check(
        "mail: {from: a@example.com, smtp: {host: smtp.example.com, username_env: SMTP_USER}}\n",
        2,
        35,
        "both a user name and a password",
    );
    check(
        "mail: {from: a@example.com, smtp: {host: h.example.com, password_env: NOT_SET}}\n",
        2,
        71,
        "NOT_SET is not set",
    );
}

#[test]
fn password_reset_rules() {
    check("password_reset: {enabled: true}\n", 2, 27, "needs `mail`");
    let mail = "mail: {from: a@example.com, smtp: {host: smtp.example.com}}\n";
    check(
        &format!("{mail}password_reset: {{per_address: 0}}\n"),
        3,
        31,
        "at least 1",
    );
    check(
        &format!("{mail}password_reset: {{link_lifetime: 7d}}\n"),
        3,
        33,
        "password_reset.link_lifetime",
    );
}
