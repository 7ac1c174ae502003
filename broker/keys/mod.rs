//! Signing keys (temporary stand-in with the agreed API; replaced by the keys work).
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::clock::UnixTime;
use crate::policy::KeysPolicy;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key error: {0}")]
    Other(String),
}

pub struct KeyRing {
    enc: jsonwebtoken::EncodingKey,
    dec: jsonwebtoken::DecodingKey,
    jwks: Arc<[u8]>,
}

impl KeyRing {
    pub fn load_or_create(_policy: &KeysPolicy, _now: UnixTime) -> Result<KeyRing, KeyError> {
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|e| KeyError::Other(e.to_string()))?;
        let kp = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
            .map_err(|e| KeyError::Other(e.to_string()))?;
        let enc = jsonwebtoken::EncodingKey::from_ec_der(pkcs8.as_ref());
        let jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(&enc, jsonwebtoken::Algorithm::ES256)
            .map_err(|e| KeyError::Other(e.to_string()))?;
        let dec = jsonwebtoken::DecodingKey::from_jwk(&jwk)
            .map_err(|e| KeyError::Other(e.to_string()))?;
        let _ = kp.public_key();
        let mut v = serde_json::to_value(&jwk).map_err(|e| KeyError::Other(e.to_string()))?;
        v["kid"] = "k1".into();
        let jwks = serde_json::to_vec(&serde_json::json!({"keys":[v]}))
            .map_err(|e| KeyError::Other(e.to_string()))?;
        Ok(KeyRing {
            enc,
            dec,
            jwks: jwks.into(),
        })
    }
    pub fn reload(&self) -> Result<bool, KeyError> {
        Ok(false)
    }
    pub fn sign<T: Serialize>(&self, typ: &str, claims: &T) -> Result<String, KeyError> {
        let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        h.typ = Some(typ.into());
        h.kid = Some("k1".into());
        jsonwebtoken::encode(&h, claims, &self.enc).map_err(|e| KeyError::Other(e.to_string()))
    }
    pub fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        typ: Option<&str>,
        _now: UnixTime,
    ) -> Result<T, KeyError> {
        let h = jsonwebtoken::decode_header(token).map_err(|e| KeyError::Other(e.to_string()))?;
        if let Some(t) = typ {
            if h.typ.as_deref() != Some(t) {
                return Err(KeyError::Other("typ".into()));
            }
        }
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
        v.validate_exp = false;
        v.validate_aud = false;
        v.required_spec_claims.clear();
        jsonwebtoken::decode::<T>(token, &self.dec, &v)
            .map(|d| d.claims)
            .map_err(|e| KeyError::Other(e.to_string()))
    }
    pub fn jwks_json(&self) -> Arc<[u8]> {
        self.jwks.clone()
    }
    pub fn current_kid(&self) -> String {
        "k1".into()
    }
    pub fn algorithms(&self) -> Vec<&'static str> {
        vec!["ES256"]
    }
}
