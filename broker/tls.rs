//! HTTPS straight from the broker: rustls with the aws-lc provider, TLS 1.2 and 1.3 only,
//! HTTP/2 and HTTP/1.1 by ALPN (RFC 7301), and the certificate reloaded in place when its
//! files change (new handshakes get the new one; open connections keep theirs).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_util::sync::CancellationToken;

use crate::policy::TlsFiles;

/// How often the certificate files are checked for a renewal.
pub const RELOAD_EVERY: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("TLS configuration: {0}")]
    Config(String),
}

/// The certificate in force, swapped whole when the files change.
#[derive(Debug)]
pub struct CertResolver {
    files: TlsFiles,
    current: ArcSwap<CertifiedKey>,
    stamp: ArcSwap<Stamp>,
}

type Stamp = (Option<SystemTime>, Option<SystemTime>);

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.load_full())
    }
}

impl CertResolver {
    pub fn load(files: &TlsFiles) -> Result<Arc<CertResolver>, TlsError> {
        let key = read_certified_key(files)?;
        Ok(Arc::new(CertResolver {
            files: files.clone(),
            current: ArcSwap::from_pointee(key),
            stamp: ArcSwap::from_pointee(stamp(files)),
        }))
    }

    /// Re-reads the files if they changed. A broken pair (a renewal half-written, a key that
    /// does not match) is refused and the current certificate stays.
    pub fn reload_if_changed(&self) -> Result<bool, TlsError> {
        let now = stamp(&self.files);
        if **self.stamp.load() == now {
            return Ok(false);
        }
        let key = read_certified_key(&self.files)?;
        self.current.store(Arc::new(key));
        self.stamp.store(Arc::new(now));
        tracing::info!(cert = %self.files.cert.display(), "TLS certificate reloaded");
        Ok(true)
    }

    /// Checks the files every [`RELOAD_EVERY`] until `cancel` fires.
    pub fn spawn_reloader(self: &Arc<Self>, cancel: CancellationToken) {
        let me = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(RELOAD_EVERY);
            loop {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tick.tick() => {}
                }
                let me = me.clone();
                // File reads and key parsing: off the async workers.
                if let Ok(Err(e)) =
                    tokio::task::spawn_blocking(move || me.reload_if_changed()).await
                {
                    tracing::error!(error = %e, "TLS certificate not reloaded; the current one stays");
                }
            }
        });
    }
}

/// The server configuration: aws-lc (named explicitly, so a second provider elsewhere in the
/// tree cannot make rustls panic at start), TLS 1.3 and 1.2 with rustls' default suites
/// (AEAD with forward secrecy only), ALPN `h2` then `http/1.1`.
pub fn server_config(resolver: Arc<CertResolver>) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn stamp(files: &TlsFiles) -> Stamp {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    (modified(&files.cert), modified(&files.key))
}

fn read_certified_key(files: &TlsFiles) -> Result<CertifiedKey, TlsError> {
    let file_err = |path: &Path, reason: String| TlsError::File {
        path: path.to_owned(),
        reason,
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| file_err(&files.cert, e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| file_err(&files.cert, e.to_string()))?;
    if certs.is_empty() {
        return Err(file_err(&files.cert, "no certificate in the file".into()));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| file_err(&files.key, format!("no private key: {e}")))?;
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let certified = CertifiedKey::from_der(certs, key, &provider)
        .map_err(|e| file_err(&files.key, format!("does not fit the certificate: {e}")))?;
    Ok(certified)
}

/// Writes a self-signed development certificate for `localhost` and `127.0.0.1` (and `::1`)
/// into `dir` as `dev-cert.pem` and `dev-key.pem` (0600). Never for production.
pub fn write_dev_certificate(dir: &Path) -> Result<TlsFiles, TlsError> {
    let io = |path: &Path, e: std::io::Error| TlsError::File {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    let cert =
        rcgen::generate_simple_self_signed(names).map_err(|e| TlsError::Config(e.to_string()))?;
    let files = TlsFiles {
        cert: dir.join("dev-cert.pem"),
        key: dir.join("dev-key.pem"),
    };
    crate::files::replace_file(
        &files.key,
        cert.signing_key.serialize_pem().as_bytes(),
        0o600,
    )
    .map_err(|e| io(&files.key, e))?;
    crate::files::replace_file(&files.cert, cert.cert.pem().as_bytes(), 0o644)
        .map_err(|e| io(&files.cert, e))?;
    Ok(files)
}
