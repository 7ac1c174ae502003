//! The loader's table tests: every rule of the schema, each asserting line, column and
//! reason through [`check`].

use std::path::PathBuf;

use super::*;
use crate::directory::UpstreamLink;
use crate::policy::{
    AuditSink, ClientSecret, GrantType, SigningAlg, SsoMode, StorePolicy, UpstreamCredential,
    UpstreamKind,
};

const ADMIN_TOKEN: &str = "0123456789abcdef0123456789abcdef";

fn test_env(name: &str) -> Option<String> {
    match name {
        "HELPDESK_SECRET" => Some("helpdesk-secret-value".into()),
        "ENTRA_SECRET" => Some("entra-secret-value".into()),
        "ADMIN_TOKEN" => Some(ADMIN_TOKEN.into()),
        "SHORT_TOKEN" => Some("short-admin-token".into()),
        "EMPTY" => Some(String::new()),
        "REDIS_URL" => Some("redis://:pw@10.0.0.5:6379/0".into()),
        _ => None,
    }
}

fn load_test(yaml: &str) -> Result<Policy, ConfigError> {
    load_str_with_env(Path::new("test.yaml"), yaml, &test_env)
}

fn problems(yaml: &str) -> Vec<Problem> {
    match load_test(yaml) {
        Ok(_) => panic!("expected the policy to be refused:\n{yaml}"),
        Err(ConfigError::Invalid { problems, .. }) => problems,
        Err(e) => panic!("expected Invalid, got {e}"),
    }
}

/// The policy is refused with exactly one problem, at `line`:`column`, whose reason
/// contains `reason_contains`. Exactly one: a mistake must not cascade.
#[track_caller]
fn check(yaml: &str, line: u64, column: u64, reason_contains: &str) {
    let problems = problems(yaml);
    let shown = problems
        .iter()
        .map(|p| format!("  {}:{}: {}", p.line, p.column, p.reason))
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(
        problems.len(),
        1,
        "expected one problem, got:\n{shown}\nfor:\n{yaml}"
    );
    let p = &problems[0];
    assert!(
        p.reason.contains(reason_contains),
        "reason {:?} lacks {reason_contains:?}",
        p.reason
    );
    assert_eq!(
        (p.line, p.column),
        (line, column),
        "location of {:?}",
        p.reason
    );
    assert!(!p.reason.contains('\n'), "multi-line reason {:?}", p.reason);
}

/// A one-line header every table case builds on; it is valid on its own.
const H: &str = "issuer: https://login.example.com\n";

fn y(body: &str) -> String {
    format!("{H}{body}")
}

#[test]
fn minimal_policy_gets_every_default() {
    let p = load_test(H).unwrap();
    assert_eq!(p.issuer.as_str(), "https://login.example.com");
    assert_eq!(p.listen.to_string(), "127.0.0.1:8080");
    assert!(p.tls.is_none());
    assert_eq!(p.keys.dir, PathBuf::from("certs/signing"));
    assert_eq!(p.keys.algorithm, SigningAlg::ES256);
    assert!(
        matches!(&p.store, StorePolicy::Embedded { path } if path == Path::new("data/broker.db"))
    );
    assert_eq!(p.lifetimes.code.as_secs(), 60);
    assert_eq!(p.lifetimes.refresh_token.as_secs(), 30 * 86_400);
    assert!(p.admin.token_sha256.is_none());
    assert!(p.clients.is_empty() && p.upstreams.is_empty() && p.users.is_empty());
    assert_eq!(p.rate_limits.password_per_identifier, 5);
    assert_eq!(p.rate_limits.authorize_per_ip, 600);
    assert_eq!(p.rate_limits.login_tx_per_ip, 1000);
    assert_eq!(p.rate_limits.identifier_per_ip, 300);
    assert_eq!(p.rate_limits.admin_auth_failures_per_ip, 20);
    assert!(matches!(p.audit.sink, AuditSink::Stdout));
    assert_eq!(p.audit.retention.as_secs(), 90 * 86_400);
    assert_eq!(p.source, PathBuf::from("test.yaml"));
    assert_eq!(p.server.max_connections, 10_000);
    assert_eq!(p.server.header_read_timeout.as_secs(), 10);
    assert_eq!(p.server.idle_timeout.as_secs(), 60);
}

#[test]
fn full_policy_builds_the_model_and_indexes() {
    let yaml = y(r#"listen: "[::]:8443"
tls: {cert: certs/tls.crt, key: certs/tls.key}
keys: {dir: keys, algorithm: EdDSA}
store: {kind: redis, url_env: REDIS_URL}
lifetimes: {session: 1h30m, code: 30s, access_token: 5m, id_token: 5m, refresh_token: 7d, login: 10m}
admin: {token_env: ADMIN_TOKEN}
clients:
  - id: helpdesk
    name: Helpdesk
    secret_env: HELPDESK_SECRET
    redirect_uris: [https://helpdesk.example.com/callback]
    post_logout_redirect_uris: [https://helpdesk.example.com/]
    grants: [authorization_code, refresh_token, client_credentials]
  - id: cli
    native: true
    redirect_uris: ["http://127.0.0.1/cb", "com.example.cli:/cb"]
    grants: [authorization_code, device_code]
    scopes: [openid, email]
upstreams:
  - id: entra
    kind: entra
    client_id: 11111111-2222-3333-4444-555555555555
    client_secret_env: ENTRA_SECRET
    exchange_apps: [9F8E7D6C-5B4A-4392-8170-6F5E4D3C2B1A, 9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a]
  - id: partner
    kind: oidc
    issuer: https://idp.partner.example
    client_id: idbroker
    scopes: [email]
    timeout: 5s
organizations:
  - id: contoso
    domains: [Contoso.com, contoso.co.uk]
    upstream: entra
    tenant_id: 72F988BF-86F1-41AF-91AB-2D7CD011DB47
    sso: all_synced_users
    sync: {interval: 1h}
  - id: partner-org
    domains: [partner.example]
    upstream: partner
    sso: per_user
    jit: true
  - id: local
users:
  - email: " Ops@Contoso.com "
    organization: contoso
    link: {tid: 72f988bf-86f1-41af-91ab-2d7cd011db47, oid: 00000000-0000-0000-0000-00000000000A}
    sso: true
  - email: ann@example.com
    name: Ann
    disabled: true
rate_limits: {password_per_ip: 10, password_per_identifier: 3, token_per_client: 100, window: 1m,
  authorize_per_ip: 50, login_tx_per_ip: 40, identifier_per_ip: 30, admin_auth_failures_per_ip: 5}
audit: {sink: {file: logs/audit.jsonl}, retention: 30d}
trusted_proxies: [10.0.0.1, "::1"]
"#);
    let p = load_test(&yaml).unwrap();
    assert_eq!(p.listen.to_string(), "[::]:8443");
    assert_eq!(p.tls.as_ref().unwrap().key, PathBuf::from("certs/tls.key"));
    assert_eq!(p.keys.algorithm, SigningAlg::EdDSA);
    assert!(matches!(p.store, StorePolicy::Redis { .. }));
    assert_eq!(p.lifetimes.session.as_secs(), 5400);
    assert_eq!(p.lifetimes.login.as_secs(), 600);
    assert_eq!(
        p.admin.token_sha256,
        Some(crate::secret::sha256(ADMIN_TOKEN.as_bytes()))
    );

    let helpdesk = p.client("helpdesk").unwrap();
    assert!(!helpdesk.is_public());
    assert!(matches!(helpdesk.secret, Some(ClientSecret::Sha256(h))
            if h == crate::secret::sha256(b"helpdesk-secret-value")));
    assert!(helpdesk.allows_grant(GrantType::ClientCredentials));
    assert_eq!(helpdesk.name, "Helpdesk");
    assert_eq!(
        helpdesk.scopes,
        ["openid", "email", "profile", "offline_access"]
    );
    let cli = p.client("cli").unwrap();
    assert!(cli.is_public() && cli.native);
    assert_eq!(cli.name, "cli");
    assert_eq!(cli.redirect_uris.len(), 2);
    assert_eq!(
        cli.grants,
        [GrantType::AuthorizationCode, GrantType::DeviceCode]
    );

    let entra = p.upstream("entra").unwrap();
    assert_eq!(entra.display_name, "Microsoft");
    assert_eq!(entra.timeout.as_secs(), 10);
    assert!(matches!(entra.credential, UpstreamCredential::Secret(_)));
    // Lower-cased, each once.
    assert_eq!(
        entra.exchange_apps,
        ["9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"]
    );
    assert!(
        matches!(&entra.kind, UpstreamKind::Entra { authority, graph }
            if authority.as_str() == "https://login.microsoftonline.com/"
            && graph.host_str() == Some("graph.microsoft.com"))
    );
    let partner = p.upstream("partner").unwrap();
    assert_eq!(partner.scopes, ["openid", "email"]);
    assert_eq!(partner.display_name, "partner");
    assert!(matches!(partner.credential, UpstreamCredential::None));
    assert!(partner.exchange_apps.is_empty());
    assert_eq!(partner.timeout.as_secs(), 5);

    assert_eq!(p.organizations.len(), 3);
    let contoso = p.org_for_email("x@contoso.co.uk").unwrap();
    assert_eq!(contoso.id, "contoso");
    assert_eq!(contoso.domains, ["contoso.com", "contoso.co.uk"]);
    assert_eq!(
        contoso.tenant_id.as_deref(),
        Some("72f988bf-86f1-41af-91ab-2d7cd011db47")
    );
    assert_eq!(contoso.sso, SsoMode::AllSyncedUsers);
    assert_eq!(contoso.sync_interval.map(|d| d.as_secs()), Some(3600));
    assert!(p.org_by_id["partner-org"].jit);
    assert_eq!(p.org_by_id["local"].upstream, None);
    assert_eq!(p.org_by_domain.len(), 3);

    assert_eq!(p.users[0].email, "ops@contoso.com");
    assert_eq!(p.users[0].name, "ops");
    assert_eq!(
        p.users[0].link,
        Some(UpstreamLink::Entra {
            tid: "72f988bf-86f1-41af-91ab-2d7cd011db47".into(),
            oid: "00000000-0000-0000-0000-00000000000a".into(),
        })
    );
    assert!(p.users[1].disabled && p.users[1].name == "Ann");
    assert_eq!(p.rate_limits.window.as_secs(), 60);
    assert_eq!(
        (
            p.rate_limits.authorize_per_ip,
            p.rate_limits.login_tx_per_ip,
            p.rate_limits.identifier_per_ip,
            p.rate_limits.admin_auth_failures_per_ip
        ),
        (50, 40, 30, 5)
    );
    assert!(matches!(&p.audit.sink, AuditSink::File(f) if f == Path::new("logs/audit.jsonl")));
    assert_eq!(p.trusted_proxies.len(), 2);
}

#[test]
fn parse_errors_are_located_one_line_reasons() {
    // unknown key (lists what is allowed)
    check(
        &y("bogus: 1\n"),
        2,
        1,
        "unknown field `bogus`, expected one of issuer",
    );
    // duplicate key
    check(
        &y("listen: 127.0.0.1:1\nlisten: 127.0.0.1:2\n"),
        3,
        1,
        "duplicate mapping key `listen`",
    );
    // unknown key inside a list item
    check(
        &y("clients:\n  - id: a\n    redirect_uri: [https://a.example/cb]\n"),
        4,
        5,
        "unknown field `redirect_uri`",
    );
    // wrong type
    check(&y("clients: helpdesk\n"), 2, 10, "expected a list");
    check(
        &y("rate_limits: {window: 5m, password_per_ip: many}\n"),
        2,
        44,
        "whole number",
    );
    check(
        &y("clients:\n  - id: a\n    native: yes\n"),
        4,
        13,
        "invalid boolean",
    );
    check(
        &y("keys: {algorithm: es256}\n"),
        2,
        19,
        "expected one of ES256, EdDSA, RS256",
    );
    check(
        &y("audit: {sink: syslog}\n"),
        2,
        15,
        "expected one of stdout, off, file",
    );
    // bad YAML
    check(&y("clients: [a\n"), 2, 10, "unclosed bracket");
    check(
        &y("---\nissuer: https://b.example\n"),
        3,
        1,
        "one YAML document",
    );
    check(
        &y("listen: !custom 127.0.0.1:1\n"),
        2,
        17,
        "unsupported tag `!custom`",
    );
}

#[test]
fn absurd_documents_are_refused_by_budget() {
    let mut yaml = y("trusted_proxies: [&a 10.0.0.1");
    for _ in 0..1_001 {
        yaml.push_str(", *a");
    }
    yaml.push_str("]\n");
    let p = problems(&yaml);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].reason.contains("absurd") && p[0].reason.contains("aliases"),
        "{p:?}"
    );
    assert_eq!(p[0].line, 2);

    let big = format!("{H}# {}\n", "x".repeat(MAX_POLICY_BYTES));
    let p = problems(&big);
    assert!(p[0].reason.contains("larger than 8192 KiB"), "{p:?}");
}

#[test]
fn top_level_rules() {
    check("listen: 127.0.0.1:8080\n", 1, 1, "issuer: required");
    check("issuer: login.example.com\n", 1, 9, "issuer: ");
    check("issuer: http://login.example.com\n", 1, 9, "use https");
    check(
        "issuer: https://login.example.com/?x=1\n",
        1,
        9,
        "query or fragment",
    );
    check(
        &y("listen: localhost\n"),
        2,
        9,
        "listen: \"localhost\" is not an address",
    );
    check(&y("tls: {cert: a.crt}\n"), 2, 6, "tls: `key` is required");
    check(
        &y("keys: {dir: \"\"}\n"),
        2,
        13,
        "keys.dir: must not be empty",
    );
    check(
        &y("store: {kind: embedded, url: redis://x}\n"),
        2,
        30,
        "store.url: only for kind: redis",
    );
    check(
        &y("store: {kind: redis}\n"),
        2,
        8,
        "needs `url` or `url_env`",
    );
    check(
        &y("store: {kind: redis, url: http://x}\n"),
        2,
        27,
        "redis://",
    );
    check(
        &y("store: {kind: redis, url: redis://a, url_env: REDIS_URL}\n"),
        2,
        47,
        "store.url_env: url is already given",
    );
    check(
        &y("trusted_proxies: [10.0.0.0/8]\n"),
        2,
        19,
        "trusted_proxies[0]: \"10.0.0.0/8\" is a range",
    );
    check(
        &y("rate_limits: {password_per_ip: 0}\n"),
        2,
        32,
        "rate_limits.password_per_ip: must be at least 1",
    );
    for key in [
        "authorize_per_ip",
        "login_tx_per_ip",
        "identifier_per_ip",
        "admin_auth_failures_per_ip",
    ] {
        check(
            &y(&format!("rate_limits: {{{key}: 0}}\n")),
            2,
            17 + key.len() as u64,
            &format!("rate_limits.{key}: must be at least 1"),
        );
    }
    check(
        &y("audit: {sink: {file: \"\"}}\n"),
        2,
        22,
        "audit.sink.file: must not be empty",
    );
    check(&y("audit: {retention: 1h}\n"), 2, 20, "at least 1d");
}

#[test]
fn duration_rules() {
    check(
        &y("lifetimes:\n  code: 10 minutes\n"),
        3,
        9,
        "lifetimes.code: \"10 minutes\" is not a duration; write it like 60s, 10m, 8h or 30d",
    );
    check(&y("lifetimes: {session: 600}\n"), 2, 22, "has no unit");
    check(
        &y("lifetimes: {code: 0s}\n"),
        2,
        19,
        "lifetimes.code: 0s is zero",
    );
    check(&y("lifetimes: {code: -5m}\n"), 2, 19, "is not a duration");
    check(
        &y("lifetimes: {code: 11m}\n"),
        2,
        19,
        "at most 10m (RFC 6749 §4.1.2",
    );
    check(
        &y("lifetimes: {access_token: 2d}\n"),
        2,
        27,
        "lifetimes.access_token: 2d is too long; it must be at most 1d",
    );
    check(
        &y("rate_limits: {window: 1.5h}\n"),
        2,
        23,
        "rate_limits.window",
    );
}

#[test]
fn server_limits() {
    let p = load_test(&y(
        "server: {max_connections: 50, header_read_timeout: 2s, idle_timeout: 1m30s}\n",
    ))
    .unwrap();
    assert_eq!(p.server.max_connections, 50);
    assert_eq!(p.server.header_read_timeout.as_secs(), 2);
    assert_eq!(p.server.idle_timeout.as_secs(), 90);
    check(
        &y("server: {max_connections: 0}\n"),
        2,
        27,
        "server.max_connections: 0 is out of range; it must be 1 to 1000000",
    );
    check(
        &y("server: {max_connections: 1000001}\n"),
        2,
        27,
        "server.max_connections: 1000001 is out of range",
    );
    check(
        &y("server: {max_connections: -1}\n"),
        2,
        27,
        "expected a whole number",
    );
    check(
        &y("server: {header_read_timeout: 0s}\n"),
        2,
        31,
        "server.header_read_timeout: 0s is zero",
    );
    check(
        &y("server: {header_read_timeout: 6m}\n"),
        2,
        31,
        "server.header_read_timeout: 6m is too long; it must be at most 5m",
    );
    check(
        &y("server:\n  idle_timeout: 2h\n"),
        3,
        17,
        "server.idle_timeout: 2h is too long; it must be at most 1h",
    );
    check(&y("server: {idle_timeout: 30}\n"), 2, 24, "has no unit");
    check(&y("server: {keepalive: 30s}\n"), 2, 10, "keepalive");
}

#[test]
fn admin_rules() {
    check(
        &y("admin: {token_env: NOT_SET}\n"),
        2,
        20,
        "admin.token_env: environment variable NOT_SET is not set",
    );
    check(
        &y("admin: {token_env: SHORT_TOKEN}\n"),
        2,
        20,
        "shorter than 32 characters",
    );
    check(
        &y("admin: {token_env: EMPTY}\n"),
        2,
        20,
        "environment variable EMPTY is empty",
    );
    check(&y("admin: {}\n"), 2, 8, "needs `token_env` or `token_file`");
    // Console operators: emails, normalised; with them alone the bearer API stays off.
    let p = load_test(&y("admin: {operators: [Ops@Example.com]}\n")).unwrap();
    assert_eq!(p.admin.operators, ["ops@example.com"]);
    assert!(p.admin.token_sha256.is_none());
    check(
        &y("admin: {operators: [ops]}\n"),
        2,
        21,
        "admin.operators[0]:",
    );
    check(
        &y("admin: {operators: [a@example.com, A@example.com]}\n"),
        2,
        36,
        "admin.operators[1]: \"a@example.com\" is listed twice",
    );
    check(
        &y("organizations:\n  - {id: acme, domains: [acme.test], admins: [nobody]}\n"),
        3,
        47,
        "organizations[0].admins[0]:",
    );
    let p = load_test(&y(
        "organizations:\n  - {id: acme, domains: [acme.test], admins: [Carol@Acme.test]}\n",
    ))
    .unwrap();
    assert_eq!(p.organizations[0].admins, ["carol@acme.test"]);
    check(
        &y("admin: {token_file: /nonexistent/admin-token}\n"),
        2,
        21,
        "cannot read /nonexistent/admin-token",
    );
}

#[test]
fn secrets_never_enter_messages() {
    let secret = "hunter2-is-my-very-secret-admin-token";
    // Pasted into the wrong key: the value is not echoed.
    let all = problems(&y(&format!("admin: {{token_env: \"{secret}\"}}\n")));
    assert_eq!(all.len(), 1);
    assert!(!all[0].reason.contains("hunter2"), "{all:?}");
    assert!(
        all[0].reason.contains("name of an environment variable"),
        "{all:?}"
    );
    // A short token's value is not echoed either.
    let all = problems(&y("admin: {token_env: SHORT_TOKEN}\n"));
    assert!(!all[0].reason.contains("short-admin-token"), "{all:?}");
    // A Redis URL from the environment that is not one: its value stays out.
    let all = problems(&y("store: {kind: redis, url_env: HELPDESK_SECRET}\n"));
    assert!(!all[0].reason.contains("helpdesk-secret-value"), "{all:?}");
    assert!(all[0].reason.contains("redis://"), "{all:?}");
}

#[test]
fn secret_files_are_read_and_trimmed() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "s3cret-from-file\n").unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, format!("{ADMIN_TOKEN}\r\n")).unwrap();
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "\n").unwrap();
    let yaml = y(&format!(
        "admin: {{token_file: {}}}\nclients:\n  - id: a\n    secret_file: {}\n    redirect_uris: [https://a.example/cb]\n",
        token.display(),
        secret.display()
    ));
    let p = load_test(&yaml).unwrap();
    assert_eq!(
        p.admin.token_sha256,
        Some(crate::secret::sha256(ADMIN_TOKEN.as_bytes()))
    );
    assert!(
        matches!(p.client("a").unwrap().secret, Some(ClientSecret::Sha256(h))
            if h == crate::secret::sha256(b"s3cret-from-file"))
    );
    let yaml = y(&format!(
        "clients:\n  - id: a\n    secret_file: {}\n    redirect_uris: [https://a.example/cb]\n",
        empty.display()
    ));
    check(&yaml, 4, 18, "is empty");
}

/// A client list header; cases add keys under `  - id: app`.
fn client(body: &str) -> String {
    y(&format!("clients:\n  - id: app\n{body}"))
}
const WEB: &str = "    redirect_uris: [https://app.example.com/cb]\n";

#[test]
fn client_rules() {
    let app = client(WEB);
    assert!(load_test(&app).is_ok());

    check(
        &y(&format!("clients:\n  - id: idbroker-account\n{WEB}")),
        3,
        9,
        "clients[0].id: the client id \"idbroker-account\" is reserved",
    );

    check(
        &format!("{app}  - id: app\n{WEB}"),
        5,
        9,
        "clients[1].id: duplicate client id \"app\" (first defined at line 3)",
    );
    check(
        &client(&format!(
            "    secret_env: HELPDESK_SECRET\n    secret_hash: \"$argon2id$x\"\n{WEB}"
        )),
        5,
        18,
        "clients[0].secret_hash: secret_env is already given; use only one of them",
    );
    check(
        &client(&format!("    secret_env: NOT_SET\n{WEB}")),
        4,
        17,
        "clients[0].secret_env: environment variable NOT_SET is not set",
    );
    check(
        &client(&format!(
            "    grants: [authorization_code, client_credentials]\n{WEB}"
        )),
        4,
        34,
        "clients[0].grants[1]: client_credentials is only for confidential clients",
    );
    check(
        &client(&format!("    grants: [password]\n{WEB}")),
        4,
        14,
        "unknown grant \"password\"",
    );
    check(
        &client("    grants: []\n"),
        4,
        13,
        "clients[0].grants: is empty",
    );
    check(
        &client(""),
        3,
        5,
        "`redirect_uris` is required for the authorization_code grant",
    );
    check(
        &client("    redirect_uris: []\n"),
        4,
        20,
        "redirect_uris: is empty",
    );
    assert!(
        load_test(&client(
            "    secret_env: HELPDESK_SECRET\n    grants: [client_credentials]\n"
        ))
        .is_ok()
    );
    check(
        &client(&format!(
            "    secret_hash: \"$argon2i$v=19$m=16,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo\"\n{WEB}"
        )),
        4,
        18,
        "only argon2id",
    );
    check(
        &client(&format!("    secret_hash: plaintext-secret\n{WEB}")),
        4,
        18,
        "not a PHC password hash",
    );
    check(
        &client(&format!("    scopes: [openid, \"two words\"]\n{WEB}")),
        4,
        22,
        "clients[0].scopes[1]",
    );
    check(
        &y(&format!("clients:\n  - id: \"bad id\"\n{WEB}")),
        3,
        9,
        "use only letters, digits",
    );
    check(
        &y(&format!("clients:\n  - name: x\n{WEB}")),
        3,
        5,
        "clients[0]: `id` is required",
    );
    check(
        &client(&format!("    name: \"\"\n{WEB}")),
        4,
        11,
        "clients[0].name: must not be empty",
    );
}

#[test]
fn client_signing_algorithms() {
    // Unset: the client follows keys.algorithm (resolved when signing).
    let p = load_test(&client(WEB)).unwrap();
    let app = p.client("app").unwrap();
    assert_eq!(app.signing, crate::policy::ClientSigning::default());
    assert_eq!(p.token_algs("app").id_token, SigningAlg::ES256);
    assert_eq!(p.token_algs("app").access_token, SigningAlg::ES256);

    // RS256 is always on offer beside the configured algorithm.
    let p = load_test(&client(&format!(
        "    id_token_signed_response_alg: RS256
    access_token_signed_response_alg: ES256
{WEB}"
    )))
    .unwrap();
    assert_eq!(p.token_algs("app").id_token, SigningAlg::RS256);
    assert_eq!(p.token_algs("app").access_token, SigningAlg::ES256);
    let p = load_test(&format!(
        "{}keys: {{algorithm: EdDSA}}\n",
        client(&format!(
            "    access_token_signed_response_alg: EdDSA\n{WEB}"
        ))
    ))
    .unwrap();
    assert_eq!(p.token_algs("app").access_token, SigningAlg::EdDSA);
    assert_eq!(p.token_algs("app").id_token, SigningAlg::EdDSA);

    // Only algorithms the broker has keys for, spelled exactly; never none or an HMAC.
    check(
        &client(&format!("    id_token_signed_response_alg: EdDSA\n{WEB}")),
        4,
        35,
        "clients[0].id_token_signed_response_alg: the broker has no EdDSA key: it signs with \
         ES256 or RS256",
    );
    check(
        &format!(
            "{}keys: {{algorithm: RS256}}\n",
            client(&format!(
                "    access_token_signed_response_alg: ES256\n{WEB}"
            ))
        ),
        4,
        39,
        "clients[0].access_token_signed_response_alg: the broker has no ES256 key: it signs \
         with RS256",
    );
    check(
        &client(&format!("    id_token_signed_response_alg: none\n{WEB}")),
        4,
        35,
        "tokens are always signed; use ES256 or RS256",
    );
    check(
        &client(&format!(
            "    access_token_signed_response_alg: HS256\n{WEB}"
        )),
        4,
        39,
        "unknown or unsupported algorithm \"HS256\"",
    );
    check(
        &client(&format!("    id_token_signed_response_alg: rs256\n{WEB}")),
        4,
        35,
        "unknown or unsupported algorithm \"rs256\"; use ES256 or RS256 (exact spelling)",
    );
}

#[test]
fn client_acr_values() {
    let p = load_test(&client(&format!(
        "    default_acr_values: [urn:idbroker:acr:pwd]\n    required_acr_values: [urn:idbroker:acr:sso, urn:idbroker:acr:pwd]\n{WEB}"
    )))
    .unwrap();
    let acr = &p.client("app").unwrap().acr;
    assert_eq!(acr.default, vec!["urn:idbroker:acr:pwd".to_owned()]);
    assert_eq!(
        acr.required,
        vec![
            "urn:idbroker:acr:sso".to_owned(),
            "urn:idbroker:acr:pwd".to_owned()
        ]
    );
    let p = load_test(&client(WEB)).unwrap();
    assert_eq!(
        p.client("app").unwrap().acr,
        crate::policy::ClientAcr::default()
    );

    // Only values the broker can assert: anything else could never be met.
    check(
        &client(&format!(
            "    required_acr_values: [urn:idbroker:acr:hwk]\n{WEB}"
        )),
        4,
        27,
        "clients[0].required_acr_values[0]: unknown acr value \"urn:idbroker:acr:hwk\"; the \
         broker asserts urn:idbroker:acr:pwd, urn:idbroker:acr:sso or urn:idbroker:acr:mfa",
    );
    check(
        &client(&format!(
            "    default_acr_values: [urn:idbroker:acr:sso, \"1\"]\n{WEB}"
        )),
        4,
        48,
        "clients[0].default_acr_values[1]: unknown acr value \"1\"",
    );
    check(
        &client(&format!("    required_acr_values: []\n{WEB}")),
        4,
        26,
        "clients[0].required_acr_values: is empty; leave required_acr_values out",
    );
    check(
        &client(&format!(
            "    required_acr_values: [urn:idbroker:acr:sso, urn:idbroker:acr:sso]\n{WEB}"
        )),
        4,
        49,
        "clients[0].required_acr_values[1]: \"urn:idbroker:acr:sso\" is listed twice",
    );
}

#[test]
fn redirect_uri_rules() {
    let uris = |list: &str, native: bool| {
        client(&format!(
            "    native: {native}\n    redirect_uris: [{list}]\n"
        ))
    };
    check(
        &uris("http://app.example.com/cb", false),
        5,
        21,
        "clients[0].redirect_uris[0]: \"http://app.example.com/cb\" uses http on a public host",
    );
    check(
        &uris("\"https://app.example.com/cb#frag\"", false),
        5,
        21,
        "fragment (#...)",
    );
    check(&uris("/cb", false), 5, 21, "not an absolute URL");
    check(
        &uris("\"https://a.example/ok\", \"com.example.app:/cb\"", false),
        5,
        45,
        "redirect_uris[1]: \"com.example.app:/cb\" has the scheme \"com.example.app\"; private-use schemes are only for native",
    );
    check(
        &uris("\"http://localhost/cb\"", true),
        5,
        21,
        "uses localhost; a native app must use the loopback IP literal",
    );
    check(
        &uris("\"http://127.0.0.1:8400/cb\"", true),
        5,
        21,
        "has a port",
    );
    check(&uris("\"myapp:/cb\"", true), 5, 21, "reverse domain name");
    assert!(load_test(&uris("\"http://[::1]/cb\", \"com.example.app:/cb\"", true)).is_ok());
    assert!(load_test(&uris("\"http://localhost:3000/cb\"", false)).is_ok());
    // post-logout redirect URIs follow the same rules
    check(
        &client(&format!(
            "{WEB}    post_logout_redirect_uris: [http://app.example.com/]\n"
        )),
        5,
        33,
        "clients[0].post_logout_redirect_uris[0]",
    );
    // a native client must be public
    check(
        &client(
            "    native: true\n    secret_env: HELPDESK_SECRET\n    redirect_uris: [\"http://127.0.0.1/cb\"]\n",
        ),
        4,
        13,
        "clients[0].native: a native app cannot keep a secret (RFC 8252 §8.5)",
    );
}

/// RFC 7517 Appendix A.1 / A.2: a P-256 public key and its private `d`.
const EC_X: &str = "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4";
const EC_Y: &str = "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM";
const EC_D: &str = "870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE";
/// RFC 8037 Appendix A.2: an Ed25519 public key.
const ED_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

fn ec_key(kid: &str, extra: &str) -> String {
    format!("{{kty: EC, crv: P-256, kid: {kid}, x: {EC_X}, y: {EC_Y}{extra}}}")
}

#[test]
fn private_key_jwt_client_rules() {
    // Inline keys make a confidential client that may use client_credentials.
    let ok = client(&format!(
        "    grants: [client_credentials]\n    jwks:\n      keys:\n        - {}\n        - {{kty: OKP, crv: Ed25519, kid: ed, x: {ED_X}, alg: EdDSA}}\n",
        ec_key("k1", ", use: sig, alg: ES256")
    ));
    let p = load_test(&ok).unwrap();
    let app = p.client("app").unwrap();
    assert!(!app.is_public() && app.secret.is_none());
    assert_eq!(app.jwks.as_ref().unwrap().keys.len(), 2);
    assert!(app.jwks.as_ref().unwrap().find("ed").is_some());

    let one = |key: &str| client(&format!("    jwks:\n      keys:\n        - {key}\n{WEB}"));
    check(
        &one(&ec_key("k1", &format!(", d: {EC_D}"))),
        6,
        11,
        "clients[0].jwks.keys[0]: the key has the private member \"d\"",
    );
    check(
        &one("{kty: oct, k: c2VjcmV0}"),
        6,
        11,
        "clients[0].jwks.keys[0]: symmetric (oct) keys are refused",
    );
    check(&one("{kty: DSA}"), 6, 11, "unknown kty \"DSA\"");
    check(&one("{crv: P-256}"), 6, 11, "the key has no kty");
    check(
        &one(&ec_key("k1", ", alg: HS256")),
        6,
        11,
        "the key's alg is not allowed",
    );
    check(
        &one(&ec_key("k1", ", use: enc")),
        6,
        11,
        "a client's key must be for \"sig\"",
    );
    check(
        &one(&format!("{{kty: EC, crv: P-384, x: {EC_X}, y: {EC_Y}}}")),
        6,
        11,
        "EC curve Some(\"P-384\") is not supported",
    );
    check(&one("{kty: EC, crv: P-256, x: 1, y: 2}"), 6, 11, "not a");
    check(
        &client(&format!(
            "    jwks:\n      keys:\n        - {}\n        - {}\n{WEB}",
            ec_key("k1", ""),
            ec_key("k1", "")
        )),
        7,
        11,
        "clients[0].jwks.keys[1]: kid \"k1\" is used by another key",
    );
    check(
        &client(&format!(
            "    jwks:\n      keys:\n        - {}\n        - {{kty: OKP, crv: Ed25519, x: {ED_X}}}\n{WEB}",
            ec_key("k1", ""),
        )),
        7,
        11,
        "with several keys, every key needs a kid",
    );
    check(
        &client(&format!("    jwks: {{keys: []}}\n{WEB}")),
        4,
        18,
        "keys is empty",
    );
    check(
        &client(&format!("    jwks: {{}}\n{WEB}")),
        4,
        11,
        "`keys` is required",
    );
    check(
        &client(&format!("    jwks: {{keys: [], kid: x}}\n{WEB}")),
        4,
        22,
        "unknown field",
    );
    // One credential kind per client.
    check(
        &client(&format!(
            "    secret_env: HELPDESK_SECRET\n    jwks: {{keys: [{}]}}\n{WEB}",
            ec_key("k1", "")
        )),
        5,
        11,
        "clients[0].jwks: secret_env is already given; use only one of them",
    );
    check(
        &client(&format!(
            "    jwks: {{keys: [{}]}}\n    jwks_file: /nonexistent.json\n{WEB}",
            ec_key("k1", "")
        )),
        5,
        16,
        "clients[0].jwks_file: jwks is already given; use only one of them",
    );
    // RFC 8252 §8.5: a native app cannot hold a private key either.
    check(
        &client(&format!(
            "    native: true\n    jwks: {{keys: [{}]}}\n    redirect_uris: [\"http://127.0.0.1/cb\"]\n",
            ec_key("k1", "")
        )),
        4,
        13,
        "clients[0].native: a native app cannot keep a secret (RFC 8252 §8.5), nor a private key",
    );
}

#[test]
fn jwks_files_are_read_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json");
    std::fs::write(
        &good,
        format!(
            r#"{{"keys":[{{"kty":"EC","crv":"P-256","kid":"k1","x":"{EC_X}","y":"{EC_Y}"}}]}}"#
        ),
    )
    .unwrap();
    let private = dir.path().join("private.json");
    std::fs::write(
        &private,
        format!(
            r#"{{"keys":[{{"kty":"EC","crv":"P-256","x":"{EC_X}","y":"{EC_Y}","d":"{EC_D}"}}]}}"#
        ),
    )
    .unwrap();
    let garbage = dir.path().join("garbage.json");
    std::fs::write(&garbage, "not json").unwrap();
    let with = |f: &std::path::Path| {
        client(&format!(
            "    grants: [client_credentials]\n    jwks_file: {}\n",
            f.display()
        ))
    };
    let p = load_test(&with(&good)).unwrap();
    assert!(
        p.client("app")
            .unwrap()
            .jwks
            .as_ref()
            .unwrap()
            .find("k1")
            .is_some()
    );
    check(
        &with(&private),
        5,
        16,
        "keys[0]: the key has the private member \"d\"",
    );
    check(&with(&garbage), 5, 16, "is not a JWK Set");
    check(
        &with(&dir.path().join("missing.json")),
        5,
        16,
        "cannot read",
    );
}

const ENTRA: &str = "upstreams:
  - id: entra
    kind: entra
    client_id: 11111111-2222-3333-4444-555555555555
    client_secret_env: ENTRA_SECRET
  - id: partner
    kind: oidc
    issuer: https://idp.partner.example
    client_id: idbroker
";

#[test]
fn upstream_rules() {
    assert!(load_test(&y(ENTRA)).is_ok());
    let one = |body: &str| y(&format!("upstreams:\n  - id: up\n{body}"));
    check(
        &one("    client_id: x\n"),
        3,
        5,
        "upstreams[0]: `kind` is required; use entra or oidc",
    );
    check(
        &one("    kind: entra\n    client_id: not-a-guid\n    client_secret_env: ENTRA_SECRET\n"),
        5,
        16,
        "upstreams[0].client_id: \"not-a-guid\" is not a GUID",
    );
    check(
        &one("    kind: entra\n    client_id: 11111111-2222-3333-4444-555555555555\n"),
        3,
        5,
        "kind entra needs a credential",
    );
    check(
        &one(
            "    kind: entra\n    client_id: 11111111-2222-3333-4444-555555555555\n    client_secret_env: ENTRA_SECRET\n    client_certificate: {cert: a.pem, key: b.pem}\n",
        ),
        7,
        25,
        "upstreams[0].client_certificate: client_secret_env is already given",
    );
    check(
        &one("    kind: oidc\n    client_id: x\n"),
        3,
        5,
        "`issuer` is required for kind oidc",
    );
    check(
        &one("    kind: oidc\n    client_id: x\n    issuer: http://idp.example\n"),
        6,
        13,
        "use https",
    );
    check(
        &one(
            "    kind: oidc\n    client_id: x\n    issuer: https://idp.example\n    authority: https://a.example\n",
        ),
        7,
        16,
        "upstreams[0].authority: only for kind: entra",
    );
    check(
        &one(
            "    kind: entra\n    client_id: 11111111-2222-3333-4444-555555555555\n    client_secret_env: ENTRA_SECRET\n    issuer: https://x.example\n",
        ),
        7,
        13,
        "upstreams[0].issuer: only for kind: oidc",
    );
    check(
        &one(
            "    kind: entra\n    client_id: 11111111-2222-3333-4444-555555555555\n    client_secret_env: ENTRA_SECRET\n    exchange_apps: [not-a-guid]\n",
        ),
        7,
        21,
        "upstreams[0].exchange_apps[0]: \"not-a-guid\" is not a GUID",
    );
    check(
        &one(
            "    kind: oidc\n    client_id: x\n    issuer: https://idp.example\n    exchange_apps: [11111111-2222-3333-4444-555555555555]\n",
        ),
        7,
        21,
        "upstreams[0].exchange_apps: only for kind: entra",
    );
    check(
        &one(
            "    kind: oidc\n    client_id: x\n    issuer: https://idp.example\n    timeout: 10m\n",
        ),
        7,
        14,
        "at most 2m",
    );
    check(
        &format!(
            "{}  - id: entra\n    kind: oidc\n    issuer: https://b.example\n    client_id: b\n",
            y(ENTRA)
        ),
        11,
        9,
        "duplicate upstream id \"entra\" (first defined at line 3)",
    );
    // certificates that exist are accepted
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
    std::fs::write(&cert, "x").unwrap();
    std::fs::write(&key, "x").unwrap();
    check(
        &one(&format!(
            "    kind: entra\n    client_id: 11111111-2222-3333-4444-555555555555\n    client_certificate: {{cert: /nonexistent/a.pem, key: {}}}\n",
            key.display()
        )),
        6,
        32,
        "upstreams[0].client_certificate.cert: /nonexistent/a.pem does not exist",
    );
    let p = load_test(&one(&format!(
            "    kind: entra\n    client_id: 11111111-2222-3333-4444-555555555555\n    client_certificate: {{cert: {}, key: {}}}\n",
            cert.display(), key.display()
        ))).unwrap();
    assert!(matches!(
        p.upstream("up").unwrap().credential,
        UpstreamCredential::Certificate { .. }
    ));
}

#[test]
fn organization_rules() {
    let org = |body: &str| y(&format!("{ENTRA}organizations:\n  - id: contoso\n{body}"));
    let contoso = "    domains: [contoso.com]\n    upstream: entra\n    tenant_id: 72f988bf-86f1-41af-91ab-2d7cd011db47\n";
    assert!(load_test(&org(contoso)).is_ok());
    check(
        &org(&format!(
            "{contoso}  - id: fabrikam\n    domains: [fabrikam.com]\n    upstream: entra\n    tenant_id: 72F988BF-86f1-41af-91ab-2d7cd011db47\n"
        )),
        19,
        16,
        "organizations[1].tenant_id: tenant \"72f988bf-86f1-41af-91ab-2d7cd011db47\" already belongs to organization \"contoso\" (line 15)",
    );
    check(
        &org(&format!("{contoso}    jit: true\n")),
        16,
        10,
        "organizations[0].jit: has no effect with sso: off",
    );
    check(
        &org("    upstream: entra2\n"),
        13,
        15,
        "organizations[0].upstream: no upstream with id \"entra2\"; declared upstreams: entra, partner",
    );
    check(
        &org(&format!(
            "{contoso}  - id: fabrikam\n    domains: [example.org, CONTOSO.com]\n"
        )),
        17,
        28,
        "domain \"contoso.com\" is claimed by both organization \"contoso\" (line 13) and \"fabrikam\"",
    );
    check(
        &org("    upstream: entra\n    tenant_id: 72f988bf-86f1-41af-91ab\n"),
        14,
        16,
        "organizations[0].tenant_id: \"72f988bf-86f1-41af-91ab\" is not a GUID",
    );
    check(
        &org("    upstream: partner\n    tenant_id: 72f988bf-86f1-41af-91ab-2d7cd011db47\n"),
        14,
        16,
        "organizations[0].tenant_id: only for an entra upstream; \"partner\" is kind oidc",
    );
    check(
        &org("    upstream: entra\n"),
        12,
        5,
        "`tenant_id` is required because upstream \"entra\" is kind entra",
    );
    check(
        &org("    domains: [\"contoso com\"]\n"),
        13,
        15,
        "not a valid domain name",
    );
    check(
        &org("    sso: per_user\n"),
        13,
        10,
        "organizations[0].sso: needs an upstream",
    );
    check(
        &org("    jit: true\n"),
        13,
        10,
        "organizations[0].jit: needs an upstream",
    );
    check(
        &org("    upstream: partner\n    sync: {interval: 1h}\n"),
        14,
        11,
        "needs an upstream of kind entra",
    );
    check(
        &org("    domains: [contoso.com, example.org, Contoso.COM]\n"),
        13,
        41,
        "organizations[0].domains[2]: domain \"contoso.com\" is listed twice (first at line 13)",
    );
    check(
        &org(&format!("{contoso}    sync: {{interval: 1m}}\n")),
        16,
        22,
        "at least 5m",
    );
    check(
        &org(&format!("{contoso}    sso: sometimes\n")),
        16,
        10,
        "expected one of off, per_user, all_synced_users",
    );
}

#[test]
fn user_rules() {
    let users = |body: &str| {
        y(&format!(
            "organizations:\n  - id: local\n    domains: [example.com]\nusers:\n{body}"
        ))
    };
    let hash = crate::password::hash_blocking("pw").unwrap();
    let ok = users(&format!(
        "  - email: ann@example.com\n    password_hash: \"{hash}\"\n    organization: local\n"
    ));
    let p = load_test(&ok).unwrap();
    assert_eq!(p.users[0].password_hash.as_deref(), Some(hash.as_str()));
    check(
        &users("  - email: ann@example.com\n    organization: nowhere\n"),
        7,
        19,
        "users[0].organization: no organization with id \"nowhere\"",
    );
    check(
        &users(
            "  - email: ann@example.com\n    password_hash: \"$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW\"\n",
        ),
        7,
        20,
        "users[0].password_hash: ",
    );
    check(
        &users("  - email: ann@example.com\n  - email: ANN@example.com\n"),
        7,
        12,
        "users[1].email: duplicate user \"ann@example.com\" (first defined at line 6)",
    );
    check(
        &users("  - email: ann.example.com\n"),
        6,
        12,
        "needs exactly one '@'",
    );
    check(
        &users("  - name: Ann\n"),
        6,
        5,
        "users[0]: `email` is required",
    );
    check(
        &users(
            "  - email: ann@example.com\n    link: {tid: 72f988bf-86f1-41af-91ab-2d7cd011db47}\n",
        ),
        7,
        11,
        "users[0].link: write {tid, oid} for an Entra user or {iss, sub}",
    );
    check(
        &users(
            "  - email: ann@example.com\n    link: {iss: https://idp.example, sub: \"1\"}\n  - email: bob@example.com\n    link: {iss: https://idp.example, sub: \"1\"}\n",
        ),
        9,
        11,
        "already linked to this upstream identity",
    );
}

#[test]
fn problems_are_all_collected_in_file_order() {
    let yaml = y("lifetimes: {code: 1 minute, access_token: 3d}
clients:
  - id: a
    redirect_uris: [http://a.example/cb]
  - id: a
    redirect_uris: [https://a.example/cb#x]
users:
  - email: nobody
");
    let all = problems(&yaml);
    let summary: Vec<(u64, u64, &str)> = all
        .iter()
        .map(|p| (p.line, p.column, p.reason.split(':').next().unwrap_or("")))
        .collect();
    assert_eq!(
        summary,
        [
            (2, 19, "lifetimes.code"),
            (2, 43, "lifetimes.access_token"),
            (5, 21, "clients[0].redirect_uris[0]"),
            (6, 9, "clients[1].id"),
            (7, 21, "clients[1].redirect_uris[0]"),
            (9, 12, "users[0].email"),
        ],
        "{all:#?}"
    );
    // The error renders as file:line:column: reason, one per line.
    let err = load_test(&yaml).unwrap_err().to_string();
    assert!(err.starts_with("test.yaml:2:19: lifetimes.code: "), "{err}");
    assert_eq!(err.lines().count(), 6);
}

#[test]
fn io_errors_name_the_file() {
    let err = load(Path::new("/nonexistent/broker.yaml")).unwrap_err();
    assert!(matches!(err, ConfigError::Io { .. }));
    assert!(
        err.to_string()
            .starts_with("/nonexistent/broker.yaml: cannot read"),
        "{err}"
    );
}

#[test]
fn demo_policy_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/broker.yaml");
    let p = load_str_with_env(&path, &std::fs::read_to_string(&path).unwrap(), &|_| None)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.issuer.as_str(), "http://127.0.0.1:8080");
    assert!(matches!(&p.store, StorePolicy::Embedded { path } if path.starts_with("data")));
    assert_eq!(p.keys.dir, PathBuf::from("certs/signing"));
    let app = p.client("demo-app").unwrap();
    assert!(app.is_public());
    assert_eq!(
        app.redirect_uris[0].as_str(),
        "http://127.0.0.1:9000/callback"
    );
    assert!(p.upstreams.is_empty());
    let demo = &p.users[0];
    assert_eq!(demo.email, "demo@example.com");
    let hash = demo.password_hash.as_deref().unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(crate::password::verify_blocking(
        hash,
        "demo-password-change-me"
    ));
    assert!(!crate::password::verify_blocking(hash, "wrong"));
}

#[test]
fn password_hashing_threads_and_queue() {
    use crate::policy::PasswordHashing;
    let cores = std::thread::available_parallelism().unwrap().get();
    let d = load_test(H).unwrap().password_hashing;
    assert_eq!(
        d,
        PasswordHashing {
            threads: cores,
            queue: 64 * cores
        }
    );
    // The queue follows the threads unless given.
    let p = load_test(&y("password_hashing: {threads: 3}\n")).unwrap();
    assert_eq!(
        p.password_hashing,
        PasswordHashing {
            threads: 3,
            queue: 192
        }
    );
    let p = load_test(&y("password_hashing: {threads: 1, queue: 5}\n")).unwrap();
    assert_eq!(
        p.password_hashing,
        PasswordHashing {
            threads: 1,
            queue: 5
        }
    );
    check(
        &y("password_hashing: {threads: 0}\n"),
        2,
        29,
        "password_hashing.threads: 0 is out of range; it must be 1 to 256",
    );
    check(
        &y("password_hashing: {threads: 257}\n"),
        2,
        29,
        "it must be 1 to 256",
    );
    check(
        &y("password_hashing: {queue: 0}\n"),
        2,
        27,
        "password_hashing.queue: 0 is out of range; it must be 1 to 10000",
    );
    check(
        &y("password_hashing: {queue: 10001}\n"),
        2,
        27,
        "it must be 1 to 10000",
    );
    check(
        &y("password_hashing: {threads: 2, workers: 2}\n"),
        2,
        32,
        "unknown field `workers`, expected one of threads, queue",
    );
}

#[test]
fn redis_topologies_and_wait() {
    let p = load_test(&y(
        "store: {kind: redis, topology: sentinel, service: mymaster, url: \"redis://:pw@s1:26379/0, redis://:pw@s2:26379/0\", wait: {replicas: 1, timeout_ms: 250}}\n",
    ))
    .unwrap();
    match p.store {
        StorePolicy::Redis {
            topology: crate::policy::RedisTopology::Sentinel { service, .. },
            wait: Some(w),
            ..
        } => {
            assert_eq!(service, "mymaster");
            assert_eq!((w.replicas, w.timeout.as_millis()), (1, 250));
        }
        other => panic!("{other:?}"),
    }
    let p = load_test(&y(
        "store: {kind: redis, topology: cluster, url: \"redis://a:1,redis://b:2\"}\n",
    ))
    .unwrap();
    assert!(matches!(
        p.store,
        StorePolicy::Redis {
            topology: crate::policy::RedisTopology::Cluster,
            wait: None,
            ..
        }
    ));

    check(
        &y("store: {kind: redis, topology: sentinel, url: redis://a}\n"),
        2,
        32,
        "store.service: topology sentinel needs `service`",
    );
    check(
        &y("store: {kind: redis, url: redis://a, service: m}\n"),
        2,
        47,
        "store.service: only for topology: sentinel",
    );
    check(
        &y("store: {kind: redis, url: \"redis://a,redis://b\"}\n"),
        2,
        27,
        "only topology sentinel or cluster takes a list",
    );
    check(
        &y("store: {kind: redis, topology: cluster, url: \"redis://a,http://b\"}\n"),
        2,
        46,
        "redis://",
    );
    check(
        &y("store: {kind: redis, url: redis://a, wait: {replicas: 0}}\n"),
        2,
        55,
        "store.wait.replicas: must be between 1 and 16",
    );
    check(
        &y("store: {kind: redis, url: redis://a, wait: {replicas: 1, timeout_ms: 60000}}\n"),
        2,
        70,
        "store.wait.timeout_ms: must be between 10 and 10000",
    );
    check(
        &y("store: {kind: embedded, topology: cluster}\n"),
        2,
        35,
        "store.topology: only for kind: redis",
    );
}

/// Two clients, then `apis:` with `body`: the API entries start at line 9.
fn apis(body: &str) -> String {
    y(&format!(
        "clients:\n  - id: web\n    secret_env: HELPDESK_SECRET\n{WEB}  - id: spa\n{WEB}apis:\n{body}"
    ))
}
const ORDERS: &str = "  - id: orders\n    identifier: https://orders.example.com\n";

#[test]
fn api_model_and_indexes() {
    let p = load_test(&apis(&format!(
        "{ORDERS}    scopes: [orders.read, orders.write]\n    clients: {{web: [orders.read, orders.write], spa: [orders.read, orders.read]}}\n    secret_env: HELPDESK_SECRET\n  - id: audit\n    identifier: urn:example:audit\n    clients: {{spa: []}}\n"
    )))
    .unwrap_or_else(|e| panic!("{e}"));
    let orders = p.apis.get("orders").unwrap();
    assert_eq!(orders.identifier, "https://orders.example.com");
    assert_eq!(orders.scopes, ["orders.read", "orders.write"]);
    assert_eq!(
        orders.granted("web"),
        Some(&["orders.read".to_owned(), "orders.write".to_owned()][..])
    );
    assert_eq!(orders.granted("spa"), Some(&["orders.read".to_owned()][..]));
    assert_eq!(orders.granted("other"), None);
    assert!(matches!(orders.secret, Some(ClientSecret::Sha256(h))
        if h == crate::secret::sha256(b"helpdesk-secret-value")));
    // Resources are compared as parsed URIs; scopes lead to their API.
    assert_eq!(
        p.apis
            .by_resource("https://orders.example.com/")
            .unwrap()
            .id,
        "orders"
    );
    assert!(
        p.apis
            .by_resource("https://orders.example.com/v2")
            .is_none()
    );
    assert_eq!(p.apis.of_scope("orders.write").unwrap().id, "orders");
    assert!(p.apis.of_scope("openid").is_none());
    let audit = p.apis.get("audit").unwrap();
    assert!(audit.scopes.is_empty() && audit.secret.is_none());
    assert_eq!(audit.granted("spa"), Some(&[][..]));
    assert_eq!(p.apis.by_resource("urn:example:audit").unwrap().id, "audit");
}

#[test]
fn api_rules() {
    check(
        &apis("  - id: orders\n"),
        9,
        5,
        "apis[0]: `identifier` is required",
    );
    check(
        &apis("  - id: orders\n    identifier: /orders\n"),
        10,
        17,
        "apis[0].identifier: \"/orders\" is not an absolute URI",
    );
    check(
        &apis("  - id: orders\n    identifier: \"https://orders.example.com#v1\"\n"),
        10,
        17,
        "has a fragment; a resource indicator must not (RFC 8707 §2)",
    );
    check(
        &apis(&format!(
            "{ORDERS}  - id: orders2\n    identifier: https://orders.example.com/\n"
        )),
        12,
        17,
        "apis[1].identifier: \"https://orders.example.com/\" is already the identifier of another API (line 10)",
    );
    check(
        &apis(&format!("{ORDERS}  - id: orders\n    identifier: urn:x\n")),
        11,
        9,
        "apis[1].id: duplicate API id \"orders\" (first defined at line 9)",
    );
    check(
        &apis("  - id: web\n    identifier: urn:x\n"),
        9,
        9,
        "apis[0].id: \"web\" is a client's id",
    );
    check(
        &apis("  - identifier: urn:x\n"),
        9,
        5,
        "apis[0]: `id` is required",
    );
    check(
        &apis(&format!("{ORDERS}    scopes: [orders.read, openid]\n")),
        11,
        27,
        "apis[0].scopes[1]: \"openid\" is a scope of the broker itself",
    );
    check(
        &apis(&format!(
            "{ORDERS}    scopes: [orders.read]\n  - id: billing\n    identifier: urn:billing\n    scopes: [orders.read]\n"
        )),
        14,
        14,
        "apis[1].scopes[0]: \"orders.read\" is already a scope of the API \"orders\" (line 11)",
    );
    check(
        &apis(&format!("{ORDERS}    scopes: [\"two words\"]\n")),
        11,
        14,
        "apis[0].scopes[0]",
    );
    check(
        &apis(&format!(
            "{ORDERS}    scopes: [orders.read]\n    clients: {{nobody: [orders.read]}}\n"
        )),
        12,
        15,
        "apis[0].clients.nobody: unknown client \"nobody\"",
    );
    check(
        &apis(&format!(
            "{ORDERS}    scopes: [orders.read]\n    clients:\n      web: [orders.read, orders.write]\n"
        )),
        13,
        26,
        "apis[0].clients.web[1]: \"orders.write\" is not one of this API's scopes (orders.read)",
    );
    check(
        &apis(&format!(
            "{ORDERS}    secret_env: HELPDESK_SECRET\n    secret_file: /nonexistent\n"
        )),
        12,
        18,
        "apis[0].secret_file: secret_env is already given; use only one of them",
    );
    check(
        &apis(&format!("{ORDERS}    secret_env: NOT_SET\n")),
        11,
        17,
        "apis[0].secret_env: environment variable NOT_SET is not set",
    );
    check(
        &apis(&format!("{ORDERS}    secret_hash: plaintext-secret\n")),
        11,
        18,
        "apis[0].secret_hash: is not a PHC password hash",
    );
    check(
        &apis(&format!("{ORDERS}    audience: x\n")),
        11,
        5,
        "audience",
    );
    // A client's own scopes cannot take an API's scope: the grant is the API's.
    check(
        &y(&format!(
            "clients:\n  - id: web\n    scopes: [openid, orders.read]\n{WEB}apis:\n{ORDERS}    scopes: [orders.read]\n"
        )),
        4,
        22,
        "clients[0].scopes[1]: \"orders.read\" is a scope of the API \"orders\"; grant it under that API's `clients` instead",
    );
    check(
        &apis(&format!("{ORDERS}    clients: {{web: [a], web: [b]}}\n")),
        11,
        25,
        "duplicate mapping key `web`",
    );
}

#[test]
fn passkey_requirements() {
    use crate::policy::Passkeys;
    let p = load_test(H).unwrap();
    assert_eq!(p.passkeys, Passkeys::Optional);
    assert!(p.passkey_users.is_empty());
    let p = load_test(&y("passkeys: required\norganizations:\n  - id: acme\n    domains: [acme.example]\n    passkeys: required\n  - id: other\n    domains: [other.example]\nusers:\n  - email: Ann@Example.com\n    passkey: required\n  - email: bob@example.com\n    passkey: optional\n")).unwrap();
    assert_eq!(p.passkeys, Passkeys::Required);
    assert_eq!(p.org_by_id["acme"].passkeys, Passkeys::Required);
    assert_eq!(p.org_by_id["other"].passkeys, Passkeys::Optional);
    assert_eq!(p.users[0].passkey, Passkeys::Required);
    assert_eq!(p.users[1].passkey, Passkeys::Optional);
    // Indexed by the normalised email.
    assert!(p.passkey_users.contains("ann@example.com"));
    assert!(!p.passkey_users.contains("bob@example.com"));
    // Anything else is refused where it is written, naming what is allowed.
    let err = load_test(&y("passkeys: always\n")).unwrap_err().to_string();
    assert!(err.contains("test.yaml:2:11"), "{err}");
    assert!(err.contains("expected one of optional, required"), "{err}");
    let err = load_test(&y("users:\n  - email: a@example.com\n    passkey: yes\n"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("test.yaml:4:14"), "{err}");
    assert!(err.contains("expected one of optional, required"), "{err}");
}

#[test]
fn second_factor_requirements() {
    let p = load_test(H).unwrap();
    assert!(!p.mfa.required, "no second factor by default");
    let yaml = y(r#"mfa: {required: true}
organizations:
  - id: local
    domains: [example.com]
    mfa: required
  - id: other
    domains: [other.example]
    mfa: optional
clients:
  - id: payroll
    redirect_uris: [https://payroll.example.com/cb]
    mfa: required
users:
  - email: ann@example.com
    mfa: required
  - email: bob@example.com
"#);
    let p = load_test(&yaml).unwrap();
    assert!(p.mfa.required);
    assert!(p.org_by_id["local"].mfa_required);
    assert!(!p.org_by_id["other"].mfa_required);
    assert!(p.clients["payroll"].mfa_required);
    assert!(p.users[0].mfa_required && !p.users[1].mfa_required);
    check(
        &y("users:\n  - email: ann@example.com\n    mfa: always\n"),
        4,
        10,
        "expected one of optional, required",
    );
    check(
        &y("mfa: {required: true, enforce: true}\n"),
        2,
        23,
        "enforce",
    );
}
