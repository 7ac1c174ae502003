//! The `idbroker` command line: serve, validate the policy, hash secrets, rotate keys, and
//! `admin` verbs that call a running broker's admin API.

use std::io::{BufRead as _, IsTerminal as _};
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use idbroker::clock::Clock;

/// `idbroker --version`: the package version and the commit it was built from.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("IDBROKER_COMMIT"),
    ")"
);
use idbroker::policy;

#[derive(Parser)]
#[command(
    name = "idbroker",
    version = VERSION,
    about = "An OpenID Connect identity broker"
)]
struct Cli {
    /// How `serve` writes its log: text (colours only on a terminal without NO_COLOR) or json
    /// (one object per line, for log pipelines).
    #[arg(
        long,
        global = true,
        env = "IDBROKER_LOG_FORMAT",
        default_value = "text",
        value_parser = clap::value_parser!(idbroker::logging::LogFormat)
    )]
    log_format: idbroker::logging::LogFormat,
    /// The policy file.
    #[arg(
        long,
        short,
        global = true,
        env = "IDBROKER_CONFIG",
        default_value = "config/broker.yaml"
    )]
    config: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the broker (the default).
    Serve {
        /// Serve HTTPS with a self-signed development certificate for localhost, created in
        /// certs/ when missing; the issuer becomes https. Never for production.
        #[arg(long)]
        dev_tls: bool,
    },
    /// Write a self-signed development certificate for localhost to certs/dev-cert.pem and
    /// certs/dev-key.pem (for `tls:` in the policy). Never for production.
    DevCert,
    /// Validate the policy file and exit: 0 when valid, 1 with located problems otherwise.
    CheckConfig,
    /// Read a secret or password on stdin and print its Argon2id hash for the policy file.
    HashSecret,
    /// Print a shell completion script (for packages: bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), generated from these commands and options.
    Man,
    /// Back up, restore or move the store (see docs/src/operations.md).
    Store {
        #[command(subcommand)]
        command: StoreCommand,
    },
    /// Signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Call a running broker's admin API. The token comes from IDBROKER_ADMIN_TOKEN (or the
    /// variable the policy's admin.token_env names, or its admin.token_file), never from an
    /// argument. Prints the JSON answer; exits 0 on success, 1 when the broker refuses (its
    /// message on stderr), 2 when it cannot be reached.
    Admin {
        /// The broker's URL (default: the issuer of the policy file given by --config).
        /// Accepted before or after the verb.
        #[arg(long, env = "IDBROKER_URL", global = true)]
        url: Option<String>,
        /// One line of JSON instead of pretty-printed. Accepted before or after the verb.
        #[arg(long, global = true)]
        compact: bool,
        #[command(subcommand)]
        verb: AdminVerb,
    },
}

#[derive(Subcommand)]
enum AdminVerb {
    /// List the organisations with their connection state.
    Orgs,
    /// One organisation: consent and last sync.
    Org { org: String },
    /// Create an organisation at run time from FILE: one `organizations[]` entry of the
    /// policy, in YAML or JSON (`-` reads stdin). `tenant_id` may be a verified domain of the
    /// tenant.
    CreateOrg {
        #[arg(long, value_name = "FILE")]
        file: std::path::PathBuf,
    },
    /// Replace the settings of an organisation created at run time, from FILE as for
    /// create-org (the id stays).
    ReplaceOrg {
        org: String,
        #[arg(long, value_name = "FILE")]
        file: std::path::PathBuf,
    },
    /// Delete an organisation created at run time (its users stay).
    DeleteOrg { org: String },
    /// Print the organisations created at run time as policy YAML, to keep them in git or
    /// move them into the policy file.
    ExportOrganizations,
    /// Print the whole store of the running broker as JSON lines (a backup; on the embedded
    /// store a snapshot taken while it runs). `idbroker store import` loads it.
    StoreExport,
    /// A link for the tenant's administrator to grant admin consent (Entra).
    ConsentLink { org: String },
    /// List the tenant's users from Microsoft Graph (and which are imported).
    FetchUsers { org: String },
    /// Import the tenant's users with these Entra object ids.
    Import {
        org: String,
        #[arg(required = true, value_name = "OID")]
        oids: Vec<String>,
    },
    /// Re-sync the organisation's imported users with Entra now.
    Sync { org: String },
    /// List directory users with their effective sign-in method.
    Users {
        /// Only this organisation's users.
        #[arg(long)]
        org: Option<String>,
    },
    /// One user (by broker id or sign-in email).
    User { user: String },
    /// Turn the user's SSO switch on or off (counts when the organisation's sso is per_user).
    Sso { user: String, state: OnOff },
    /// Set the user's password, read from stdin.
    SetPassword { user: String },
    /// A single-use link for the user to set their own password.
    PasswordLink {
        user: String,
        /// Seconds until the link expires (60 s to 7 days; default 1 day).
        #[arg(long)]
        expires_in: Option<u64>,
    },
    /// Disable the user (and revoke their sessions and tokens).
    Disable { user: String },
    /// Enable the user again.
    Enable { user: String },
    /// End the user's sessions and refresh tokens; access tokens stop working.
    Revoke { user: String },
    /// Audit records, newest first.
    Audit {
        /// A broker user id or sign-in email.
        #[arg(long)]
        user: Option<String>,
        #[arg(long)]
        org: Option<String>,
        /// Only records at or after this time (unix seconds).
        #[arg(long)]
        since: Option<u64>,
        /// At most this many records (default 1000).
        #[arg(long)]
        limit: Option<usize>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum OnOff {
    On,
    Off,
}

#[derive(Subcommand)]
enum StoreCommand {
    /// Print the whole store the policy names as JSON lines, the broker stopped (for a running
    /// one: `idbroker admin store-export`).
    Export,
    /// Load an export into the store the policy names, which must be empty (embedded or
    /// Redis: so embedded -> Redis is an export and an import). The broker stopped.
    Import {
        /// The export (`-` reads stdin).
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Add a new signing key of each algorithm (keys.algorithm, and RS256 beside it); a
    /// running broker starts signing with them within seconds.
    Rotate,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .and_then(|rt| rt.block_on(run(cli)));
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("idbroker: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    // One rustls provider for the whole process, installed before anything builds a TLS
    // configuration: if a dependency ever compiles in a second provider (openidconnect's
    // default features would bring *ring* through reqwest 0.12), rustls can no longer choose
    // one by itself and panics at the first TLS configuration built without naming one.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    match cli.command.unwrap_or(Command::Serve { dev_tls: false }) {
        Command::Serve { dev_tls } => serve(&cli.config, dev_tls, cli.log_format).await,
        Command::DevCert => {
            let files = idbroker::tls::write_dev_certificate(std::path::Path::new(DEV_CERT_DIR))?;
            println!(
                "wrote {} and {}; add to the policy:\ntls: {{cert: {}, key: {}}}",
                files.cert.display(),
                files.key.display(),
                files.cert.display(),
                files.key.display()
            );
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::CheckConfig => match policy::load(&cli.config) {
            Ok(p) => {
                println!(
                    "{}: valid ({} clients, {} upstreams, {} organizations, {} users)",
                    cli.config.display(),
                    p.clients.len(),
                    p.upstreams.len(),
                    p.organizations.len(),
                    p.users.len()
                );
                Ok(std::process::ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("{e}");
                Ok(std::process::ExitCode::FAILURE)
            }
        },
        Command::HashSecret => {
            let secret = read_secret("Secret")?;
            let hash =
                tokio::task::spawn_blocking(move || idbroker::password::hash_blocking(&secret))
                    .await??;
            println!("{hash}");
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Keys {
            command: KeysCommand::Rotate,
        } => {
            let p = policy::load(&cli.config)?;
            // A new key of each algorithm the broker signs with (`keys.algorithm`, RS256).
            for kid in idbroker::keys::rotate(&p.keys, idbroker::clock::system_now())? {
                println!("added signing key {kid} in {}", p.keys.dir.display());
            }
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Store { command } => store_command(&cli.config, command).await,
        Command::Completions { shell } => {
            use clap::CommandFactory as _;
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "idbroker",
                &mut std::io::stdout(),
            );
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Man => {
            use clap::CommandFactory as _;
            clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?;
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Admin { url, compact, verb } => {
            Ok(admin(&cli.config, url.as_deref(), compact, verb).await)
        }
    }
}

/// Reads one line from stdin (`what` names it in the prompt and the error).
fn read_secret(what: &str) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("{what} (input is echoed; pipe it in to avoid that): ");
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    let secret = line.trim_end_matches(['\r', '\n']).to_owned();
    anyhow::ensure!(!secret.is_empty(), "the {} is empty", what.to_lowercase());
    Ok(secret)
}

/// `idbroker store export|import`, on the store the policy names, the broker stopped.
async fn store_command(
    config: &std::path::Path,
    command: StoreCommand,
) -> anyhow::Result<std::process::ExitCode> {
    use anyhow::Context as _;
    let p = policy::load(config)?;
    let backend = idbroker::server::open_backend(&p.store)
        .await
        .with_context(|| {
            "cannot open the store; an embedded store is locked while a broker runs on it: \
         stop it, or use `idbroker admin store-export` against the running broker"
        })?;
    let store = idbroker::store::Store::new(backend, 1_000);
    match command {
        StoreCommand::Export => {
            print!("{}", store.export(idbroker::clock::system_now()).await?);
        }
        StoreCommand::Import { file } => {
            let text = if file.as_os_str() == "-" {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)?;
                text
            } else {
                std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?
            };
            let now_ms = idbroker::clock::system_now().saturating_mul(1000);
            let done = store.import(&text, now_ms).await?;
            eprintln!(
                "imported {} entries ({} had expired since the export)",
                done.entries, done.expired
            );
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// `idbroker admin <verb>`: exit 0 on a 2xx, 1 on a refusal or a setup problem, 2 when the
/// broker cannot be reached.
async fn admin(
    config: &std::path::Path,
    url: Option<&str>,
    compact: bool,
    verb: AdminVerb,
) -> std::process::ExitCode {
    use idbroker::admin_client::AdminClientError as E;
    let export = matches!(verb, AdminVerb::ExportOrganizations);
    let raw = matches!(verb, AdminVerb::StoreExport);
    match admin_call(config, url, verb).await {
        Ok(serde_json::Value::String(text)) if raw => {
            print!("{text}");
            std::process::ExitCode::SUCCESS
        }
        Ok(value) if export => match idbroker::admin_client::organizations_as_policy_yaml(&value) {
            Ok(text) => {
                print!("{text}");
                std::process::ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("idbroker: {e}");
                std::process::ExitCode::FAILURE
            }
        },
        Ok(value) => {
            let text = if compact {
                serde_json::to_string(&value)
            } else {
                serde_json::to_string_pretty(&value)
            };
            match text {
                Ok(text) => {
                    println!("{text}");
                    std::process::ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("idbroker: {e}");
                    std::process::ExitCode::FAILURE
                }
            }
        }
        Err(e) => {
            eprintln!("idbroker: {e:#}");
            match e.downcast_ref::<E>() {
                Some(E::Unreachable { .. }) => std::process::ExitCode::from(2),
                Some(E::Api { status: 401, .. }) => {
                    eprintln!(
                        "hint: the broker refused the admin token; {} must hold the token the \
                         broker was started with",
                        idbroker::admin_client::TOKEN_ENV
                    );
                    std::process::ExitCode::FAILURE
                }
                _ => std::process::ExitCode::FAILURE,
            }
        }
    }
}

async fn admin_call(
    config: &std::path::Path,
    url: Option<&str>,
    verb: AdminVerb,
) -> anyhow::Result<serde_json::Value> {
    use idbroker::admin_client::{AdminClient, PolicyHints, admin_token};
    use reqwest::Method;
    use serde_json::json;

    // The policy file is optional when --url is given; it may still name the token.
    let hints = std::fs::read_to_string(config)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", config.display()))
        .and_then(|text| Ok(PolicyHints::parse(&text)?));
    let base = match (url, &hints) {
        (Some(u), _) => u.to_owned(),
        (
            None,
            Ok(PolicyHints {
                issuer: Some(issuer),
                ..
            }),
        ) => issuer.clone(),
        (None, Ok(_)) => anyhow::bail!(
            "no broker URL: {} has no issuer; pass --url or set IDBROKER_URL",
            config.display()
        ),
        (None, Err(e)) => {
            anyhow::bail!("no broker URL: pass --url or set IDBROKER_URL ({e:#})")
        }
    };
    let admin_hints = hints.as_ref().ok().and_then(|h| h.admin.as_ref());
    let token = admin_token(&|name| std::env::var(name).ok(), admin_hints)?;
    let client = AdminClient::new(&base, token)?;
    if client.token_in_clear() {
        eprintln!(
            "idbroker: warning: sending the admin token over plain HTTP to {}",
            client.base()
        );
    }

    let none = Vec::new;
    let (method, path, query, body): (Method, Vec<&str>, Vec<(&str, String)>, _) = match &verb {
        AdminVerb::Orgs => (Method::GET, vec!["organizations"], none(), None),
        AdminVerb::Org { org } => (Method::GET, vec!["organizations", org], none(), None),
        AdminVerb::CreateOrg { file } => (
            Method::POST,
            vec!["organizations"],
            none(),
            Some(idbroker::admin_client::read_organization_file(file)?),
        ),
        AdminVerb::ReplaceOrg { org, file } => (
            Method::PUT,
            vec!["organizations", org],
            none(),
            Some(idbroker::admin_client::read_organization_file(file)?),
        ),
        AdminVerb::DeleteOrg { org } => (Method::DELETE, vec!["organizations", org], none(), None),
        AdminVerb::ExportOrganizations => (Method::GET, vec!["organizations"], none(), None),
        AdminVerb::StoreExport => (Method::GET, vec!["store", "export"], none(), None),
        AdminVerb::ConsentLink { org } => (
            Method::POST,
            vec!["organizations", org, "consent-link"],
            none(),
            None,
        ),
        AdminVerb::FetchUsers { org } => (
            Method::POST,
            vec!["organizations", org, "fetch-users"],
            none(),
            None,
        ),
        AdminVerb::Import { org, oids } => (
            Method::POST,
            vec!["organizations", org, "import"],
            none(),
            Some(json!({ "user_ids": oids })),
        ),
        AdminVerb::Sync { org } => (
            Method::POST,
            vec!["organizations", org, "sync"],
            none(),
            None,
        ),
        AdminVerb::Users { org } => (
            Method::GET,
            vec!["users"],
            org.iter().map(|o| ("organization", o.clone())).collect(),
            None,
        ),
        AdminVerb::User { user } => (Method::GET, vec!["users", user], none(), None),
        AdminVerb::Sso { user, state } => (
            Method::PUT,
            vec!["users", user, "sso"],
            none(),
            Some(json!({ "enabled": matches!(state, OnOff::On) })),
        ),
        AdminVerb::SetPassword { user } => (
            Method::PUT,
            vec!["users", user, "password"],
            none(),
            Some(json!({ "password": read_secret("Password")? })),
        ),
        AdminVerb::PasswordLink { user, expires_in } => (
            Method::POST,
            vec!["users", user, "password-link"],
            none(),
            expires_in.map(|s| json!({ "expires_in": s })),
        ),
        AdminVerb::Disable { user } => (Method::POST, vec!["users", user, "disable"], none(), None),
        AdminVerb::Enable { user } => (Method::POST, vec!["users", user, "enable"], none(), None),
        AdminVerb::Revoke { user } => (Method::POST, vec!["users", user, "revoke"], none(), None),
        AdminVerb::Audit {
            user,
            org,
            since,
            limit,
        } => {
            let mut q = Vec::new();
            q.extend(user.iter().map(|u| ("user", u.clone())));
            q.extend(org.iter().map(|o| ("organization", o.clone())));
            q.extend(since.iter().map(|s| ("since", s.to_string())));
            q.extend(limit.iter().map(|l| ("limit", l.to_string())));
            (Method::GET, vec!["audit"], q, None)
        }
    };
    Ok(client.call(method, &path, &query, body).await?)
}

/// Where `dev-cert` and `serve --dev-tls` keep the development certificate.
const DEV_CERT_DIR: &str = "certs";

async fn serve(
    config: &std::path::Path,
    dev_tls: bool,
    log_format: idbroker::logging::LogFormat,
) -> anyhow::Result<std::process::ExitCode> {
    idbroker::logging::init(log_format);
    tracing::info!(version = VERSION, "idbroker starting");
    // Each client connection is a file descriptor: use all the kernel allows, and say so.
    match idbroker::server::raise_open_files_limit() {
        Ok(l) => tracing::info!(
            soft_before = l
                .soft_before
                .map_or("unlimited".to_owned(), |n| n.to_string()),
            soft = l.soft.map_or("unlimited".to_owned(), |n| n.to_string()),
            hard = l.hard.map_or("unlimited".to_owned(), |n| n.to_string()),
            "open files limit"
        ),
        Err(e) => tracing::warn!(error = %e, "cannot raise the open files limit"),
    }
    let dev_files = if dev_tls {
        let dir = std::path::Path::new(DEV_CERT_DIR);
        let files = idbroker::policy::TlsFiles {
            cert: dir.join("dev-cert.pem"),
            key: dir.join("dev-key.pem"),
        };
        Some(if files.cert.exists() && files.key.exists() {
            files
        } else {
            idbroker::tls::write_dev_certificate(dir)?
        })
    } else {
        None
    };
    // Reloads go through the same loader, so --dev-tls holds for every later policy too.
    let loader: idbroker::reload::Loader = std::sync::Arc::new(move |p: &std::path::Path| {
        let mut policy = policy::load(p)?;
        if let Some(files) = &dev_files {
            policy.tls = Some(files.clone());
            let https = policy.issuer.as_str().replacen("http://", "https://", 1);
            if let Ok(issuer) = idbroker::policy::Issuer::parse(&https) {
                policy.issuer = issuer;
            }
        }
        Ok(policy)
    });
    let policy = loader(config).map_err(|e| anyhow::anyhow!("{e}"))?;
    let listen = policy.listen;
    let issuer = policy.issuer.as_str().to_owned();
    let cancel = CancellationToken::new();
    let broker = idbroker::server::assemble(policy, Clock::System, cancel.clone())
        .await
        .context("cannot start")?;
    idbroker::reload::watch(broker.clone(), config.to_owned(), loader, cancel.clone())
        .context("cannot watch the policy file")?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    tracing::info!(%listen, %issuer, "idbroker is serving; try {issuer}/account");
    let stop = cancel.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing in-flight requests");
        stop.cancel();
    });
    idbroker::server::serve(broker, listener, cancel).await?;
    Ok(std::process::ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
