//! The `idbroker` command line: serve, validate the policy, hash secrets, rotate keys.

use std::io::{BufRead as _, IsTerminal as _};
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use idbroker::clock::Clock;
use idbroker::policy;

#[derive(Parser)]
#[command(
    name = "idbroker",
    version,
    about = "An OpenID Connect identity broker"
)]
struct Cli {
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
    /// Signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Add a new signing key; a running broker starts signing with it within seconds.
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
    // One rustls provider for the whole process (ECOSYSTEM.md, finding 1).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    match cli.command.unwrap_or(Command::Serve { dev_tls: false }) {
        Command::Serve { dev_tls } => serve(&cli.config, dev_tls).await,
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
            let secret = read_secret()?;
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
            let kid = idbroker::keys::rotate(&p.keys, idbroker::clock::system_now())?;
            println!("added signing key {kid} in {}", p.keys.dir.display());
            Ok(std::process::ExitCode::SUCCESS)
        }
    }
}

fn read_secret() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Secret (input is echoed; pipe it in to avoid that): ");
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    let secret = line.trim_end_matches(['\r', '\n']).to_owned();
    anyhow::ensure!(!secret.is_empty(), "the secret is empty");
    Ok(secret)
}

/// Where `dev-cert` and `serve --dev-tls` keep the development certificate.
const DEV_CERT_DIR: &str = "certs";

async fn serve(config: &std::path::Path, dev_tls: bool) -> anyhow::Result<std::process::ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
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
