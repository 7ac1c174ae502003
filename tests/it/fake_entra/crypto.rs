//! Keys and signatures of the fake: RSA signing keys made with aws-lc-rs (published as JWKS
//! entries the way Entra publishes them), compact JWS (RFC 7515 §7.1) including the defective
//! forms the misbehaviour knobs need, and X.509 app certificates for `private_key_jwt`.
//!
//! Signing is done here by hand rather than with jsonwebtoken on purpose: the self-tests verify
//! with jsonwebtoken, so signer and verifier are two independent implementations, and the fake
//! can emit tokens no well-behaved library would produce (`alg: none`, HMAC with a secret).

use std::path::{Path, PathBuf};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, PublicKeyComponents};
use aws_lc_rs::signature::{self, KeyPair as _};
use aws_lc_rs::{digest, hmac};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("certificate generation failed: {0}")]
    Cert(#[from] rcgen::Error),
    #[error("key rejected: {0}")]
    KeyRejected(String),
    #[error("signing failed")]
    Sign,
    #[error("JSON encoding failed: {0}")]
    Json(#[from] serde_json::Error),
}

pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

pub fn sha256(bytes: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA256, bytes).as_ref().to_vec()
}

pub fn sha1(bytes: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, bytes)
        .as_ref()
        .to_vec()
}

/// `n` random bytes, base64url: codes, opaque claims (`aio`, `rh`, `uti`).
pub fn random_b64(n: usize) -> String {
    let mut buf = vec![0u8; n];
    // SystemRandom fails only when the OS has no entropy source; a zero buffer then still
    // yields a well-formed (if predictable) test value rather than a panic in a handler.
    let _ = SystemRandom::new().fill(&mut buf);
    b64url(&buf)
}

/// A random GUID in Entra's lower-case form.
pub fn guid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// RSA signature schemes of JWS (RFC 7518 §3.3 and §3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RsaAlg {
    Rs256,
    Ps256,
}

impl RsaAlg {
    pub fn name(self) -> &'static str {
        match self {
            RsaAlg::Rs256 => "RS256",
            RsaAlg::Ps256 => "PS256",
        }
    }

    pub fn from_name(name: &str) -> Option<RsaAlg> {
        match name {
            "RS256" => Some(RsaAlg::Rs256),
            "PS256" => Some(RsaAlg::Ps256),
            _ => None,
        }
    }

    fn encoding(self) -> &'static dyn signature::RsaEncoding {
        match self {
            RsaAlg::Rs256 => &signature::RSA_PKCS1_SHA256,
            RsaAlg::Ps256 => &signature::RSA_PSS_SHA256,
        }
    }

    fn verification(self) -> &'static signature::RsaParameters {
        match self {
            RsaAlg::Rs256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            RsaAlg::Ps256 => &signature::RSA_PSS_2048_8192_SHA256,
        }
    }
}

/// An RSA key with a self-signed certificate, as Entra publishes its token signing keys: the
/// `kid` is the certificate's SHA-1 thumbprint (the same value as `x5t`).
pub struct SigningKey {
    pub kid: String,
    pair: RsaKeyPair,
    cert_der: Vec<u8>,
    n: Vec<u8>,
    e: Vec<u8>,
}

impl SigningKey {
    pub fn generate(common_name: &str) -> Result<SigningKey, CryptoError> {
        let (pair, _pkcs8, cert_der) = rsa_with_certificate(common_name)?;
        let components = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
        Ok(SigningKey {
            kid: b64url(&sha1(&cert_der)),
            pair,
            cert_der,
            n: components.n,
            e: components.e,
        })
    }

    pub fn sign(&self, alg: RsaAlg, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        rsa_sign(&self.pair, alg, message)
    }

    /// RFC 7515 §5.2 signature check with this key's public half.
    pub fn verify(&self, alg: RsaAlg, message: &[u8], sig: &[u8]) -> bool {
        signature::UnparsedPublicKey::new(alg.verification(), self.pair.public_key().as_ref())
            .verify(message, sig)
            .is_ok()
    }

    /// The key as an entry of Entra's `discovery/v2.0/keys` document.
    pub fn jwk(&self, issuer: &str) -> Value {
        json!({
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.kid,
            "n": b64url(&self.n),
            "e": b64url(&self.e),
            "x5c": [STANDARD.encode(&self.cert_der)],
            "cloud_instance_name": "microsoftonline.com",
            "issuer": issuer,
        })
    }

    /// The key as a plain RFC 7517 JWK (for the generic OIDC provider).
    pub fn plain_jwk(&self) -> Value {
        json!({
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": b64url(&self.n),
            "e": b64url(&self.e),
        })
    }
}

fn rsa_with_certificate(common_name: &str) -> Result<(RsaKeyPair, Vec<u8>, Vec<u8>), CryptoError> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    let mut name = rcgen::DistinguishedName::new();
    name.push(rcgen::DnType::CommonName, common_name);
    params.distinguished_name = name;
    let cert = params.self_signed(&key)?;
    let pkcs8 = key.serialize_der();
    let pair =
        RsaKeyPair::from_pkcs8(&pkcs8).map_err(|e| CryptoError::KeyRejected(e.to_string()))?;
    Ok((pair, pkcs8, cert.der().to_vec()))
}

fn rsa_sign(pair: &RsaKeyPair, alg: RsaAlg, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let mut sig = vec![0u8; pair.public_modulus_len()];
    pair.sign(alg.encoding(), &SystemRandom::new(), message, &mut sig)
        .map_err(|_| CryptoError::Sign)?;
    Ok(sig)
}

/// How a JWS is signed.
pub enum Signer<'a> {
    Rsa(&'a SigningKey, RsaAlg),
    RsaPair(&'a RsaKeyPair, RsaAlg),
    /// HS256 with a shared secret (RFC 7518 §3.2).
    Hmac(&'a [u8]),
    /// An Unsecured JWS (RFC 7515 Appendix A.5): empty signature.
    Unsigned,
}

/// Compact serialisation (RFC 7515 §7.1) of `header` and `claims` signed by `signer`. The
/// header's `alg` is written by the caller: the misbehaviour knobs need it to lie.
pub fn compact(header: &Value, claims: &Value, signer: &Signer<'_>) -> Result<String, CryptoError> {
    let signing_input = format!(
        "{}.{}",
        b64url(&serde_json::to_vec(header)?),
        b64url(&serde_json::to_vec(claims)?)
    );
    let sig = match signer {
        Signer::Rsa(key, alg) => key.sign(*alg, signing_input.as_bytes())?,
        Signer::RsaPair(pair, alg) => rsa_sign(pair, *alg, signing_input.as_bytes())?,
        Signer::Hmac(secret) => {
            let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
            hmac::sign(&key, signing_input.as_bytes()).as_ref().to_vec()
        }
        Signer::Unsigned => Vec::new(),
    };
    Ok(format!("{signing_input}.{}", b64url(&sig)))
}

/// A compact JWS taken apart (nothing verified yet).
pub struct ParsedJws {
    pub header: Value,
    pub claims: Value,
    pub signing_input: String,
    pub signature: Vec<u8>,
}

pub fn parse_compact(token: &str) -> Option<ParsedJws> {
    let mut parts = token.split('.');
    let (h, c, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    Some(ParsedJws {
        header: serde_json::from_slice(&b64url_decode(h)?).ok()?,
        claims: serde_json::from_slice(&b64url_decode(c)?).ok()?,
        signing_input: format!("{h}.{c}"),
        signature: b64url_decode(s)?,
    })
}

/// Flips bits in the signature part of a compact JWS, keeping it well-formed base64url.
pub fn tamper_signature(token: &str) -> String {
    let Some((input, sig)) = token.rsplit_once('.') else {
        return token.to_owned();
    };
    let mut bytes = b64url_decode(sig).unwrap_or_default();
    match bytes.first_mut() {
        Some(first) => *first ^= 0x5a,
        None => bytes.push(0x5a),
    }
    format!("{input}.{}", b64url(&bytes))
}

/// Verifies an RSA JWS signature with the public key of an X.509 certificate (RFC 5280).
pub fn verify_with_certificate(cert_der: &[u8], alg: RsaAlg, message: &[u8], sig: &[u8]) -> bool {
    let Some(spki) = subject_public_key_info(cert_der) else {
        return false;
    };
    // aws-lc-rs accepts an RFC 5280 SubjectPublicKeyInfo as well as a PKCS#1 RSAPublicKey.
    signature::UnparsedPublicKey::new(alg.verification(), spki)
        .verify(message, sig)
        .is_ok()
}

/// One DER element: (tag, header length, content length).
fn der_element(input: &[u8]) -> Option<(u8, usize, usize)> {
    let tag = *input.first()?;
    let first = *input.get(1)? as usize;
    if first < 0x80 {
        return Some((tag, 2, first));
    }
    let count = first & 0x7f;
    if count == 0 || count > 4 {
        return None;
    }
    let mut len = 0usize;
    for i in 0..count {
        len = (len << 8) | (*input.get(2 + i)? as usize);
    }
    let header = 2 + count;
    (input.len() >= header + len).then_some((tag, header, len))
}

fn der_split(input: &[u8]) -> Option<(&[u8], &[u8])> {
    let (_, header, len) = der_element(input)?;
    Some((&input[..header + len], &input[header + len..]))
}

fn der_contents(input: &[u8]) -> Option<&[u8]> {
    let (_, header, len) = der_element(input)?;
    input.get(header..header + len)
}

/// RFC 5280 §4.1: Certificate ::= SEQUENCE { tbsCertificate, ... }; TBSCertificate ::=
/// SEQUENCE { [0] version OPTIONAL, serialNumber, signature, issuer, validity, subject,
/// subjectPublicKeyInfo, ... }. Returns the whole subjectPublicKeyInfo element.
pub fn subject_public_key_info(cert_der: &[u8]) -> Option<&[u8]> {
    let certificate = der_contents(cert_der)?;
    let tbs = der_contents(certificate)?;
    let mut rest = tbs;
    if rest.first() == Some(&0xa0) {
        rest = der_split(rest)?.1;
    }
    for _ in 0..5 {
        rest = der_split(rest)?.1;
    }
    Some(der_split(rest)?.0)
}

/// An application's certificate credential (what an admin uploads to the app registration)
/// with its private key (what the broker's config points at).
pub struct AppCertificate {
    pub cert_der: Vec<u8>,
    pub cert_pem: String,
    /// PKCS#8 private key, PEM ("PRIVATE KEY").
    pub key_pem: String,
    pair: RsaKeyPair,
}

impl AppCertificate {
    pub fn generate(common_name: &str) -> Result<AppCertificate, CryptoError> {
        let (pair, pkcs8, cert_der) = rsa_with_certificate(common_name)?;
        Ok(AppCertificate {
            cert_pem: pem("CERTIFICATE", &cert_der),
            key_pem: pem("PRIVATE KEY", &pkcs8),
            cert_der,
            pair,
        })
    }

    /// Base64url SHA-1 thumbprint of the DER certificate (the `x5t` header, RFC 7515 §4.1.7).
    pub fn x5t(&self) -> String {
        b64url(&sha1(&self.cert_der))
    }

    /// Base64url SHA-256 thumbprint (the `x5t#S256` header, RFC 7515 §4.1.8).
    pub fn x5t_s256(&self) -> String {
        b64url(&sha256(&self.cert_der))
    }

    /// Writes `{stem}.crt` and `{stem}.key` (PEM) into `dir` for a broker config.
    pub fn write_pem_files(&self, dir: &Path, stem: &str) -> std::io::Result<(PathBuf, PathBuf)> {
        let cert = dir.join(format!("{stem}.crt"));
        let key = dir.join(format!("{stem}.key"));
        std::fs::write(&cert, &self.cert_pem)?;
        std::fs::write(&key, &self.key_pem)?;
        Ok((cert, key))
    }

    /// Signs a client assertion (see [`ClientAssertion`]) with this certificate's key.
    pub fn sign_assertion(&self, assertion: &ClientAssertion) -> Result<String, CryptoError> {
        let mut header = json!({ "alg": assertion.alg.name(), "typ": "JWT" });
        let s256 = assertion
            .x5t_s256
            .clone()
            .unwrap_or_else(|| self.x5t_s256());
        let sha1 = assertion.x5t.clone().unwrap_or_else(|| self.x5t());
        match assertion.thumbprint {
            Thumbprint::S256 => header["x5t#S256"] = json!(s256),
            Thumbprint::Sha1 => header["x5t"] = json!(sha1),
            Thumbprint::None => {}
        }
        compact(
            &header,
            &assertion.claims(),
            &Signer::RsaPair(&self.pair, assertion.alg),
        )
    }
}

/// Which certificate thumbprint a client assertion's header carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Thumbprint {
    /// `x5t#S256` (what Entra documents today, with PS256).
    S256,
    /// `x5t` (SHA-1; the older documented form, with RS256).
    Sha1,
    None,
}

/// A `private_key_jwt` client assertion (RFC 7523 §3, Entra "certificate credentials"): `iss` =
/// `sub` = client id, `aud` = the token endpoint, `exp`, `nbf`, `iat`, `jti`. Fields are public
/// so a test can make any one of them wrong.
#[derive(Debug, Clone)]
pub struct ClientAssertion {
    pub alg: RsaAlg,
    pub thumbprint: Thumbprint,
    /// Overrides the thumbprint values (default: the signing certificate's own).
    pub x5t: Option<String>,
    pub x5t_s256: Option<String>,
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub iat: u64,
    pub nbf: u64,
    pub exp: u64,
    pub jti: Option<String>,
}

impl ClientAssertion {
    /// A valid assertion for `client_id` at `token_endpoint`, PS256 with `x5t#S256`.
    pub fn new(client_id: &str, token_endpoint: &str, now: u64) -> ClientAssertion {
        ClientAssertion {
            alg: RsaAlg::Ps256,
            thumbprint: Thumbprint::S256,
            x5t: None,
            x5t_s256: None,
            iss: client_id.to_owned(),
            sub: client_id.to_owned(),
            aud: token_endpoint.to_owned(),
            iat: now,
            nbf: now,
            exp: now + 600,
            jti: Some(guid()),
        }
    }

    fn claims(&self) -> Value {
        let mut claims = json!({
            "aud": self.aud,
            "iss": self.iss,
            "sub": self.sub,
            "iat": self.iat,
            "nbf": self.nbf,
            "exp": self.exp,
        });
        if let Some(jti) = &self.jti {
            claims["jti"] = json!(jti);
        }
        claims
    }
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
