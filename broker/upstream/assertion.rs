//! `private_key_jwt` client authentication with a certificate (RFC 7523 §2.2, OIDC Core §9),
//! the way Entra wants it: the assertion's header names the certificate by its SHA-256
//! thumbprint (`x5t#S256`) and, for older tenants, its SHA-1 thumbprint (`x5t`).

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::UpstreamError;
use crate::clock::UnixTime;

/// The assertion type of RFC 7523 §2.2.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A loaded certificate credential.
pub struct CertificateKey {
    key: EncodingKey,
    x5t: String,
    x5t_s256: String,
}

impl std::fmt::Debug for CertificateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateKey")
            .field("x5t#S256", &self.x5t_s256)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct AssertionClaims<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    jti: String,
    iat: UnixTime,
    nbf: UnixTime,
    exp: UnixTime,
}

impl CertificateKey {
    /// Loads a PEM certificate and its RSA private key (PKCS#8 or PKCS#1).
    pub fn load(cert: &Path, key: &Path) -> Result<CertificateKey, UpstreamError> {
        let der = CertificateDer::from_pem_file(cert).map_err(|e| {
            UpstreamError::Config(format!(
                "cannot read the certificate {}: {e}",
                cert.display()
            ))
        })?;
        let pem = std::fs::read(key).map_err(|e| {
            UpstreamError::Config(format!("cannot read the key {}: {e}", key.display()))
        })?;
        let key = EncodingKey::from_rsa_pem(&pem).map_err(|_| {
            UpstreamError::Config(format!(
                "{} is not an RSA private key in PEM",
                key.display()
            ))
        })?;
        let sha1 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &der);
        Ok(CertificateKey {
            key,
            x5t: URL_SAFE_NO_PAD.encode(sha1.as_ref()),
            x5t_s256: URL_SAFE_NO_PAD.encode(Sha256::digest(&der)),
        })
    }

    /// A fresh assertion for `client_id` at `token_endpoint` (its audience), valid 5 minutes.
    pub fn assertion(
        &self,
        client_id: &str,
        token_endpoint: &str,
        now: UnixTime,
    ) -> Result<String, UpstreamError> {
        let mut header = Header::new(Algorithm::PS256);
        header.typ = Some("JWT".into());
        header.x5t = Some(self.x5t.clone());
        header.x5t_s256 = Some(self.x5t_s256.clone());
        let claims = AssertionClaims {
            aud: token_endpoint,
            iss: client_id,
            sub: client_id,
            jti: crate::secret::random_uuid().to_string(),
            iat: now,
            nbf: now,
            exp: now + 300,
        };
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|e| UpstreamError::Config(format!("cannot sign the client assertion: {e}")))
    }
}
