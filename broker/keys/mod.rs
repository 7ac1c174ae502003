//! Signing keys: PEM files in `keys.dir`, all published at `/jwks`, the newest of each
//! algorithm signing with that algorithm.
//!
//! A key file is `<created>-<alg>-<random>.pem` (PKCS#8, mode 0600); its stem is the `kid`.
//! The creation time leads the name, so "newest" is simply the greatest name. The folder holds
//! a key of `keys.algorithm` and an RS256 key beside it ([`KeysPolicy::algorithms`]): a
//! client chooses which of them signs its tokens. Rotation (`idbroker keys rotate`) writes a
//! new file for each; every running broker (and every replica that mounts the same folder)
//! picks them up on its next [`KeyRing::reload`] without a restart. Old keys stay published
//! until an operator deletes their files, which is safe once every token they signed has
//! expired (the longest token lifetime after the rotation).
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use arc_swap::ArcSwap;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::clock::UnixTime;
use crate::policy::{KeysPolicy, SigningAlg};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("signing key folder {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("signing key {path}: {reason}")]
    BadKey { path: PathBuf, reason: String },
    #[error("no signing key in {0}")]
    Empty(PathBuf),
    /// The folder has no key of an algorithm the broker signs with.
    #[error("no {alg} signing key in {dir}")]
    Missing { alg: &'static str, dir: PathBuf },
    #[error("could not generate a signing key: {0}")]
    Generate(String),
    #[error("could not sign a token: {0}")]
    Sign(String),
    /// A token that does not verify. Deliberately vague towards callers' clients.
    #[error("token refused: {0}")]
    Refused(Refusal),
}

/// Why a token of ours was refused (for logs and tests; clients see only "invalid").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Malformed,
    UnknownKey,
    WrongAlgorithm,
    WrongType,
    BadSignature,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refusal::Malformed => "malformed",
            Refusal::UnknownKey => "unknown key id",
            Refusal::WrongAlgorithm => "algorithm does not match the key",
            Refusal::WrongType => "wrong token type",
            Refusal::BadSignature => "bad signature",
        })
    }
}

struct Key {
    kid: String,
    alg: SigningAlg,
    signer: Signer,
    /// The public half, parsed once (as the signer is): verifying with an unparsed key
    /// re-read the point or modulus on every token, about half the cost of a verification.
    verifier: aws_lc_rs::signature::ParsedPublicKey,
}

/// The private key, parsed once. (jsonwebtoken re-parses its `EncodingKey` on every
/// `encode`, which cost a third of an ES256 signature and most of an RS256 one.)
enum Signer {
    Es256(aws_lc_rs::signature::EcdsaKeyPair),
    EdDsa(aws_lc_rs::signature::Ed25519KeyPair),
    Rs256(aws_lc_rs::rsa::KeyPair),
}

impl Signer {
    fn from_pkcs8(alg: SigningAlg, der: &[u8]) -> Result<Signer, String> {
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair};
        let err = |e: aws_lc_rs::error::KeyRejected| e.to_string();
        Ok(match alg {
            SigningAlg::ES256 => Signer::Es256(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der).map_err(err)?,
            ),
            SigningAlg::EdDSA => {
                Signer::EdDsa(Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).map_err(err)?)
            }
            SigningAlg::RS256 => {
                Signer::Rs256(aws_lc_rs::rsa::KeyPair::from_pkcs8(der).map_err(err)?)
            }
        })
    }

    /// The public key, parsed for verification with the algorithm this key signs with.
    fn verifier(&self) -> Result<aws_lc_rs::signature::ParsedPublicKey, String> {
        use aws_lc_rs::signature::{
            ECDSA_P256_SHA256_FIXED, ED25519, KeyPair as _, ParsedPublicKey,
            RSA_PKCS1_2048_8192_SHA256,
        };
        let parsed = match self {
            Signer::Es256(kp) => ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, kp.public_key()),
            Signer::EdDsa(kp) => ParsedPublicKey::new(&ED25519, kp.public_key()),
            Signer::Rs256(kp) => ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, kp.public_key()),
        };
        parsed.map_err(|e| e.to_string())
    }

    /// The JWS signature of `input` (RFC 7515 §5.1 step 5; RFC 7518 §3.3 and §3.4 for the
    /// RSASSA-PKCS1-v1_5 and fixed-width `r || s` ECDSA forms, RFC 8037 §3.1 for Ed25519).
    fn sign(&self, input: &[u8]) -> Result<Vec<u8>, String> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        match self {
            Signer::Es256(kp) => kp
                .sign(&rng, input)
                .map(|s| s.as_ref().to_vec())
                .map_err(|e| e.to_string()),
            Signer::EdDsa(kp) => Ok(kp.sign(input).as_ref().to_vec()),
            Signer::Rs256(kp) => {
                let mut sig = vec![0; kp.public_modulus_len()];
                kp.sign(
                    &aws_lc_rs::signature::RSA_PKCS1_SHA256,
                    &rng,
                    input,
                    &mut sig,
                )
                .map_err(|e| e.to_string())?;
                Ok(sig)
            }
        }
    }
}

/// The JOSE header fields we read (RFC 7515 §4.1); others are ignored.
#[derive(serde::Deserialize)]
struct JoseHeader {
    alg: String,
    kid: Option<String>,
    typ: Option<String>,
    crit: Option<serde::de::IgnoredAny>,
}

/// One consistent view of the folder: swapped whole on reload.
struct Ring {
    /// Every key, published and accepted, sorted by kid (so by creation time); the last of
    /// each algorithm signs with it.
    keys: Vec<Key>,
    jwks: Arc<[u8]>,
    /// What the folder looked like when read: names and modification times.
    fingerprint: Vec<(String, Option<SystemTime>)>,
}

pub struct KeyRing {
    dir: PathBuf,
    ring: ArcSwap<Ring>,
    /// The algorithms the broker signs with: a folder without a key of one of them is not
    /// swapped in (as an empty one is not), so a deleted file cannot stop a client's tokens.
    required: ArcSwap<Vec<SigningAlg>>,
    /// When an unknown `kid` last made us re-read the folder (unix seconds).
    last_miss_reload: std::sync::atomic::AtomicU64,
}

/// An unknown `kid` re-reads the folder at most this often (another replica may have
/// rotated; a stream of made-up `kid`s must not turn into a stream of folder reads).
const MISS_RELOAD_EVERY: u64 = 1;

impl KeyRing {
    /// Reads every key in `keys.dir`; creates the folder, and a first key of each of the
    /// policy's algorithms that has none (a fresh folder, or one from before RS256 was kept
    /// beside the configured algorithm).
    pub fn load_or_create(policy: &KeysPolicy, now: UnixTime) -> Result<KeyRing, KeyError> {
        ensure_dir(&policy.dir)?;
        create_missing(&policy.dir, policy.algorithms(), now)?;
        let ring = read_ring(&policy.dir, policy.algorithms())?;
        Ok(KeyRing {
            dir: policy.dir.clone(),
            ring: ArcSwap::from_pointee(ring),
            required: ArcSwap::from_pointee(policy.algorithms().to_vec()),
            last_miss_reload: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Makes sure the folder has a key of each of `algorithms` (a reloaded policy may name
    /// another `keys.algorithm`), creating what is missing, and reads it again. From then on
    /// a folder without one of them is refused by [`KeyRing::reload`].
    pub fn ensure(&self, algorithms: &[SigningAlg], now: UnixTime) -> Result<(), KeyError> {
        if create_missing(&self.dir, algorithms, now)? || *self.required.load_full() != algorithms {
            let ring = read_ring(&self.dir, algorithms)?;
            self.required.store(Arc::new(algorithms.to_vec()));
            self.ring.store(Arc::new(ring));
        }
        Ok(())
    }

    /// Re-reads the folder if it changed. `Ok(true)` when a new set of keys is in force.
    /// A folder that became empty, lost every key of an algorithm the broker signs with, or
    /// holds a broken key changes nothing.
    pub fn reload(&self) -> Result<bool, KeyError> {
        let files = list_key_files(&self.dir)?;
        if fingerprint(&files) == self.ring.load().fingerprint {
            return Ok(false);
        }
        let ring = read_ring(&self.dir, &self.required.load())?;
        tracing::info!(keys = ring.keys.len(), "signing keys reloaded");
        self.ring.store(Arc::new(ring));
        Ok(true)
    }

    /// Signs `claims` with the newest key of `alg`; `typ` goes into the JOSE header
    /// (RFC 9068 §2.1).
    pub fn sign<T: Serialize>(
        &self,
        alg: SigningAlg,
        typ: &str,
        claims: &T,
    ) -> Result<String, KeyError> {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let ring = self.ring.load();
        let key = ring.newest(alg).ok_or_else(|| KeyError::Missing {
            alg: alg.as_str(),
            dir: self.dir.clone(),
        })?;
        let fail = |e: String| KeyError::Sign(e);
        // RFC 7515 §7.1: BASE64URL(header) '.' BASE64URL(payload) '.' BASE64URL(signature).
        let header = serde_json::json!({ "alg": alg.as_str(), "typ": typ, "kid": key.kid });
        let header = serde_json::to_vec(&header).map_err(|e| fail(e.to_string()))?;
        let payload = serde_json::to_vec(claims).map_err(|e| fail(e.to_string()))?;
        let mut jws = String::with_capacity(512);
        b64.encode_string(header, &mut jws);
        jws.push('.');
        b64.encode_string(payload, &mut jws);
        let signature = key.signer.sign(jws.as_bytes()).map_err(fail)?;
        jws.push('.');
        b64.encode_string(signature, &mut jws);
        Ok(jws)
    }

    /// Verifies a token this broker signed: known `kid`, the key's own algorithm, the
    /// signature, and `typ` when asked. Does not look at `exp`/`aud`: callers apply their
    /// own rules with their own `now`.
    pub fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        typ: Option<&str>,
        now: UnixTime,
    ) -> Result<T, KeyError> {
        match self.verify_once(token, typ) {
            Err(KeyError::Refused(Refusal::UnknownKey)) if self.may_reload_on_miss(now) => {
                // A replica sharing the folder may have rotated since our last reload.
                if self.reload().unwrap_or(false) {
                    return self.verify_once(token, typ);
                }
                Err(KeyError::Refused(Refusal::UnknownKey))
            }
            other => other,
        }
    }

    fn may_reload_on_miss(&self, now: UnixTime) -> bool {
        use std::sync::atomic::Ordering;
        let last = self.last_miss_reload.load(Ordering::Relaxed);
        now >= last + MISS_RELOAD_EVERY
            && self
                .last_miss_reload
                .compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
    }

    /// RFC 7515 §5.2 for the compact serialisation, with our own keys only.
    fn verify_once<T: DeserializeOwned>(
        &self,
        token: &str,
        typ: Option<&str>,
    ) -> Result<T, KeyError> {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let refuse = |r| Err(KeyError::Refused(r));
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return refuse(Refusal::Malformed);
        };
        let Some(h) = b64
            .decode(header)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<JoseHeader>(&bytes).ok())
        else {
            return refuse(Refusal::Malformed);
        };
        // §4.1.11: we understand no extension, so a token that names one is not ours.
        if h.crit.is_some() {
            return refuse(Refusal::Malformed);
        }
        if let Some(t) = typ
            && !h
                .typ
                .as_deref()
                .is_some_and(|got| got.eq_ignore_ascii_case(t))
        {
            return refuse(Refusal::WrongType);
        }
        let ring = self.ring.load();
        let Some(key) = h.kid.as_deref().and_then(|kid| ring.find(kid)) else {
            return refuse(Refusal::UnknownKey);
        };
        // RFC 8725 §3.1: the key decides the algorithm, never the token (so never `none`,
        // never HMAC with a public key, never another key's algorithm).
        if h.alg != key.alg.as_str() {
            return refuse(Refusal::WrongAlgorithm);
        }
        let Ok(signature) = b64.decode(signature) else {
            return refuse(Refusal::Malformed);
        };
        let signed = &token[..header.len() + 1 + payload.len()];
        if key
            .verifier
            .verify_sig(signed.as_bytes(), &signature)
            .is_err()
        {
            return refuse(Refusal::BadSignature);
        }
        match b64
            .decode(payload)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<T>(&bytes).ok())
        {
            Some(claims) => Ok(claims),
            None => refuse(Refusal::Malformed),
        }
    }

    /// The JWK Set document (RFC 7517 §5), serialised once per key set.
    pub fn jwks_json(&self) -> Arc<[u8]> {
        self.ring.load().jwks.clone()
    }

    /// The `kid` of the key that signs with `alg` now.
    pub fn current_kid(&self, alg: SigningAlg) -> Option<String> {
        self.ring.load().newest(alg).map(|k| k.kid.clone())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Ring {
    /// The key that signs with `alg`: the newest of that algorithm.
    fn newest(&self, alg: SigningAlg) -> Option<&Key> {
        self.keys.iter().rev().find(|k| k.alg == alg)
    }

    fn find(&self, kid: &str) -> Option<&Key> {
        self.keys.iter().rev().find(|k| k.kid == kid)
    }
}

/// Writes a new key of each of the policy's algorithms (the configured one, and RS256
/// beside it); returns their `kid`s. Running brokers pick them up on their next reload
/// (every few seconds).
pub fn rotate(policy: &KeysPolicy, now: UnixTime) -> Result<Vec<String>, KeyError> {
    ensure_dir(&policy.dir)?;
    policy
        .algorithms()
        .iter()
        .map(|alg| write_key(&policy.dir, *alg, now))
        .collect()
}

/// Writes a first key of each of `algorithms` that has none in `dir`. `Ok(true)` when it
/// wrote one.
fn create_missing(dir: &Path, algorithms: &[SigningAlg], now: UnixTime) -> Result<bool, KeyError> {
    let files = list_key_files(dir)?;
    let mut created = false;
    for alg in algorithms {
        if !files.iter().any(|f| file_alg(&f.kid) == Some(*alg)) {
            let kid = write_key(dir, *alg, now)?;
            tracing::info!(%kid, dir = %dir.display(), "created a signing key");
            created = true;
        }
    }
    Ok(created)
}

/// The algorithm a key file's name states (`<created>-<alg>-<id>`).
fn file_alg(kid: &str) -> Option<SigningAlg> {
    match kid.split('-').nth(1)? {
        "es256" => Some(SigningAlg::ES256),
        "eddsa" => Some(SigningAlg::EdDSA),
        "rs256" => Some(SigningAlg::RS256),
        _ => None,
    }
}

/// Writes one new key of `alg` into `dir`; returns its `kid`.
fn write_key(dir: &Path, alg: SigningAlg, now: UnixTime) -> Result<String, KeyError> {
    let (alg_tag, rc_alg) = match alg {
        SigningAlg::ES256 => ("es256", &rcgen::PKCS_ECDSA_P256_SHA256),
        SigningAlg::EdDSA => ("eddsa", &rcgen::PKCS_ED25519),
        SigningAlg::RS256 => ("rs256", &rcgen::PKCS_RSA_SHA256),
    };
    let pair =
        rcgen::KeyPair::generate_for(rc_alg).map_err(|e| KeyError::Generate(e.to_string()))?;
    let pem = zeroize::Zeroizing::new(pair.serialize_pem());
    let short: String = crate::secret::random_bytes::<4>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    // The newest key is the greatest name, so a key made in the same second as the last one
    // (or under a clock that went back) takes the next second after it.
    let newest = list_key_files(dir)?
        .iter()
        .filter_map(|f| f.kid.split('-').next()?.parse::<u64>().ok())
        .max();
    let created = match newest {
        Some(t) if t >= now => t + 1,
        _ => now,
    };
    // Seconds zero-padded to 11 digits sort correctly until the year 5138.
    let kid = format!("{created:011}-{alg_tag}-{short}");
    let path = dir.join(format!("{kid}.pem"));
    crate::files::replace_file(&path, pem.as_bytes(), 0o600)
        .map_err(|source| KeyError::Io { path, source })?;
    Ok(kid)
}

fn ensure_dir(dir: &Path) -> Result<(), KeyError> {
    let io = |source| KeyError::Io {
        path: dir.to_owned(),
        source,
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir).map_err(io)
    }
}

struct KeyFile {
    kid: String,
    path: PathBuf,
    modified: Option<SystemTime>,
}

fn list_key_files(dir: &Path) -> Result<Vec<KeyFile>, KeyError> {
    let io = |source| KeyError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("pem") {
            continue;
        }
        let Some(kid) = path.file_stem().and_then(|s| s.to_str()).map(str::to_owned) else {
            continue;
        };
        if kid.starts_with('.') {
            continue;
        }
        let modified = entry.metadata().ok().and_then(|m| m.modified().ok());
        out.insert(
            kid.clone(),
            KeyFile {
                kid,
                path,
                modified,
            },
        );
    }
    Ok(out.into_values().collect())
}

fn fingerprint(files: &[KeyFile]) -> Vec<(String, Option<SystemTime>)> {
    files.iter().map(|f| (f.kid.clone(), f.modified)).collect()
}

/// Reads every key of `dir`; refuses a folder without a key of each of `required`.
fn read_ring(dir: &Path, required: &[SigningAlg]) -> Result<Ring, KeyError> {
    let files = list_key_files(dir)?;
    let mut keys = Vec::with_capacity(files.len());
    let mut jwks = Vec::with_capacity(files.len());
    for f in &files {
        let (key, jwk) = read_key(f)?;
        keys.push(key);
        jwks.push(jwk);
    }
    let doc = serde_json::json!({ "keys": jwks });
    let jwks = serde_json::to_vec(&doc).map_err(|e| KeyError::BadKey {
        path: dir.to_owned(),
        reason: e.to_string(),
    })?;
    if keys.is_empty() {
        return Err(KeyError::Empty(dir.to_owned()));
    }
    if let Some(alg) = required.iter().find(|a| !keys.iter().any(|k| k.alg == **a)) {
        return Err(KeyError::Missing {
            alg: alg.as_str(),
            dir: dir.to_owned(),
        });
    }
    Ok(Ring {
        keys,
        jwks: jwks.into(),
        fingerprint: fingerprint(&files),
    })
}

fn read_key(f: &KeyFile) -> Result<(Key, serde_json::Value), KeyError> {
    let bad = |reason: String| KeyError::BadKey {
        path: f.path.clone(),
        reason,
    };
    let pem = zeroize::Zeroizing::new(std::fs::read(&f.path).map_err(|source| KeyError::Io {
        path: f.path.clone(),
        source,
    })?);
    // The algorithm is named in the file name; the PEM must agree with it.
    let Some(alg) = file_alg(&f.kid) else {
        return Err(bad(
            "the file name must be <created>-<es256|eddsa|rs256>-<id>.pem".into(),
        ));
    };
    let enc = match alg {
        SigningAlg::ES256 => EncodingKey::from_ec_pem(&pem),
        SigningAlg::EdDSA => EncodingKey::from_ed_pem(&pem),
        SigningAlg::RS256 => EncodingKey::from_rsa_pem(&pem),
    }
    .map_err(|e| bad(format!("not a {} private key: {e}", alg.as_str())))?;
    let mut jwk = public_jwk(&enc, alg, &pem).map_err(|e| bad(format!("no public key: {e}")))?;
    let der = {
        let text = std::str::from_utf8(&pem).map_err(|e| bad(e.to_string()))?;
        let pair = rcgen::KeyPair::from_pem(text).map_err(|e| bad(e.to_string()))?;
        zeroize::Zeroizing::new(pair.serialize_der())
    };
    let signer =
        Signer::from_pkcs8(alg, &der).map_err(|e| bad(format!("not a usable key: {e}")))?;
    jwk.common.key_id = Some(f.kid.clone());
    jwk.common.public_key_use = Some(jsonwebtoken::jwk::PublicKeyUse::Signature);
    let verifier = signer
        .verifier()
        .map_err(|e| bad(format!("no public key: {e}")))?;
    let value = serde_json::to_value(&jwk).map_err(|e| bad(e.to_string()))?;
    Ok((
        Key {
            kid: f.kid.clone(),
            alg,
            signer,
            verifier,
        },
        value,
    ))
}

/// The public half as a JWK. jsonwebtoken derives it for EC and RSA keys but only from a
/// PKCS#8 v1 Ed25519 document, while aws-lc (and so rcgen) writes v2 (RFC 5958, with the
/// public key inside); for Ed25519 the key pair is parsed here instead (RFC 8037 §2).
fn public_jwk(
    enc: &EncodingKey,
    alg: SigningAlg,
    pem: &[u8],
) -> Result<jsonwebtoken::jwk::Jwk, String> {
    use jsonwebtoken::jwk::{
        AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, OctetKeyPairParameters,
        OctetKeyPairType,
    };
    match alg {
        SigningAlg::ES256 => {
            return Jwk::from_encoding_key(enc, Algorithm::ES256).map_err(|e| e.to_string());
        }
        SigningAlg::RS256 => {
            return Jwk::from_encoding_key(enc, Algorithm::RS256).map_err(|e| e.to_string());
        }
        SigningAlg::EdDSA => {}
    }
    use base64::Engine as _;
    let text = std::str::from_utf8(pem).map_err(|e| e.to_string())?;
    let pair = rcgen::KeyPair::from_pem(text).map_err(|e| e.to_string())?;
    Ok(Jwk {
        common: CommonParameters {
            key_algorithm: Some(jsonwebtoken::jwk::KeyAlgorithm::EdDSA),
            ..Default::default()
        },
        algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
            key_type: OctetKeyPairType::OctetKeyPair,
            curve: EllipticCurve::Ed25519,
            x: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(pair.public_key_raw()),
        }),
    })
}

#[cfg(test)]
mod tests;
