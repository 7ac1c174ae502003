//! Token issuance: what the broker's [`KeyRing`] adds on top of a bare `jsonwebtoken` call
//! (key lookup behind an `ArcSwap`, a `kid` and `typ` in the header), and how the three
//! signing algorithms compare, for an ID token of the usual size. The `aws_lc_preparsed`
//! cases sign with a key pair parsed once, the floor for any JWT signer: `jsonwebtoken`
//! re-parses the PKCS#8 key on every `encode`. The `id_token_per_client_alg` group signs
//! with the two keys of the default policy's ring (ES256, and RS256 beside it), as for a
//! client left at the default and one with `id_token_signed_response_alg: RS256`.
//!
//! Run with `cargo bench --bench tokens`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::path::Path;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use criterion::{Criterion, criterion_group, criterion_main};
use idbroker::keys::KeyRing;
use idbroker::op::claims::{AccessTokenClaims, IdTokenClaims, TYP_ACCESS_TOKEN, TYP_ID_TOKEN};
use idbroker::policy::{KeysPolicy, SigningAlg};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};

const NOW: u64 = 1_750_000_000;

/// An ID token as the broker issues one after an SSO login.
fn claims() -> IdTokenClaims {
    IdTokenClaims {
        iss: "https://login.example.com".into(),
        sub: "0197a3c2-5d1e-7b7a-9c1d-3f2e4a5b6c7d".into(),
        aud: "web".into(),
        exp: NOW + 600,
        iat: NOW,
        auth_time: NOW - 30,
        nonce: Some("n-0S6_WzA2Mj".into()),
        amr: vec!["fed".into()],
        acr: None,
        azp: "web".into(),
        sid: Some("0197a3c2-6e2f-7c8b-8d2e-4a3f5b6c7d8e".into()),
        email: Some("alice@contoso.com".into()),
        email_verified: Some(true),
        name: Some("Alice Example".into()),
        given_name: None,
        family_name: None,
        preferred_username: None,
        locale: None,
        zoneinfo: None,
        picture: None,
        updated_at: None,
        idp: Some("entra".into()),
        org: Some("contoso".into()),
        groups: None,
        groups_overflow: false,
        roles: None,
    }
}

/// A key ring with a fresh key of `algorithm` (and one of RS256 beside it) in its own
/// directory under `root`.
fn ring(root: &Path, algorithm: SigningAlg) -> KeyRing {
    let policy = KeysPolicy {
        dir: root.join(format!("{algorithm:?}")),
        algorithm,
    };
    KeyRing::load_or_create(&policy, NOW).unwrap()
}

/// The PEM of the ring's key of `alg`, read back from its directory.
fn key_pem(ring: &KeyRing, alg: SigningAlg) -> Vec<u8> {
    let kid = ring.current_kid(alg).unwrap();
    std::fs::read(ring.dir().join(format!("{kid}.pem"))).unwrap()
}

/// The ring's public key of `alg` as a plain `DecodingKey`, from its JWK Set.
fn decoding_key(ring: &KeyRing, alg: SigningAlg) -> DecodingKey {
    let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_slice(&ring.jwks_json()).unwrap();
    let kid = ring.current_kid(alg).unwrap();
    DecodingKey::from_jwk(jwks.find(&kid).unwrap()).unwrap()
}

/// The DER body of a PEM file.
fn pem_der(pem: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(pem).unwrap();
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).unwrap()
}

/// The header the ring writes: algorithm, `typ` and the key's `kid`.
fn ring_header(ring: &KeyRing, alg: SigningAlg) -> Header {
    let jose = match alg {
        SigningAlg::ES256 => Algorithm::ES256,
        SigningAlg::EdDSA => Algorithm::EdDSA,
        SigningAlg::RS256 => Algorithm::RS256,
    };
    let mut h = Header::new(jose);
    h.typ = Some(TYP_ID_TOKEN.to_owned());
    h.kid = ring.current_kid(alg);
    h
}

/// A compact JWS built by hand, `sign` turning the signing input into the signature.
fn jws(header: &Header, claims: &IdTokenClaims, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let mut out = URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).unwrap());
    out.push('.');
    out.push_str(&URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap()));
    let signature = sign(out.as_bytes());
    out.push('.');
    out.push_str(&URL_SAFE_NO_PAD.encode(signature));
    out
}

fn tokens(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let claims = claims();
    let es256 = ring(dir.path(), SigningAlg::ES256);

    // The same ES256 key, used directly.
    let bare_enc = EncodingKey::from_ec_pem(&key_pem(&es256, SigningAlg::ES256)).unwrap();
    let bare_dec = decoding_key(&es256, SigningAlg::ES256);
    let bare_header = Header::new(Algorithm::ES256);
    let mut bare_validation = Validation::new(Algorithm::ES256);
    bare_validation.validate_exp = false;
    bare_validation.validate_aud = false;
    bare_validation.required_spec_claims.clear();

    let mut sign = c.benchmark_group("sign_id_token");
    // The broker's path: newest key from the ring, header with `typ` and `kid`, sign.
    sign.bench_function("keyring/ES256", |b| {
        b.iter(|| {
            es256
                .sign(SigningAlg::ES256, TYP_ID_TOKEN, black_box(&claims))
                .unwrap()
        })
    });
    // The floor: `jsonwebtoken::encode` with the same key and a bare header.
    sign.bench_function("bare_jsonwebtoken/ES256", |b| {
        b.iter(|| jsonwebtoken::encode(&bare_header, black_box(&claims), &bare_enc).unwrap())
    });
    // The other algorithms a policy may choose, through the ring.
    let others = [SigningAlg::EdDSA, SigningAlg::RS256].map(|alg| (alg, ring(dir.path(), alg)));
    for (alg, ring) in &others {
        sign.bench_function(format!("keyring/{alg:?}"), |b| {
            b.iter(|| ring.sign(*alg, TYP_ID_TOKEN, black_box(&claims)).unwrap())
        });
    }
    // The floor: the ring's header and claims, signed by aws-lc with a key parsed once.
    let rng = SystemRandom::new();
    let es256_pair = EcdsaKeyPair::from_pkcs8(
        &ECDSA_P256_SHA256_FIXED_SIGNING,
        &pem_der(&key_pem(&es256, SigningAlg::ES256)),
    )
    .unwrap();
    let es256_header = ring_header(&es256, SigningAlg::ES256);
    let es256_sign = |msg: &[u8]| es256_pair.sign(&rng, msg).unwrap().as_ref().to_vec();
    let rs256 = &others[1].1;
    let rs256_pair = RsaKeyPair::from_pkcs8(&pem_der(&key_pem(rs256, SigningAlg::RS256))).unwrap();
    let rs256_header = ring_header(rs256, SigningAlg::RS256);
    let rs256_sign = |msg: &[u8]| {
        let mut signature = vec![0; rs256_pair.public_modulus_len()];
        rs256_pair
            .sign(&RSA_PKCS1_SHA256, &rng, msg, &mut signature)
            .unwrap();
        signature
    };
    // The hand-made tokens are real: the ring accepts them.
    let token = jws(&es256_header, &claims, es256_sign);
    es256
        .verify::<IdTokenClaims>(&token, Some(TYP_ID_TOKEN), NOW)
        .unwrap();
    let token = jws(&rs256_header, &claims, rs256_sign);
    rs256
        .verify::<IdTokenClaims>(&token, Some(TYP_ID_TOKEN), NOW)
        .unwrap();
    sign.bench_function("aws_lc_preparsed/ES256", |b| {
        b.iter(|| jws(&es256_header, black_box(&claims), es256_sign))
    });
    sign.bench_function("aws_lc_preparsed/RS256", |b| {
        b.iter(|| jws(&rs256_header, black_box(&claims), rs256_sign))
    });
    sign.finish();

    // Per client: the default policy's one ring, its ES256 key (the default) against the
    // RS256 key beside it (`id_token_signed_response_alg: RS256`), signing and verifying.
    let mut per_client = c.benchmark_group("id_token_per_client_alg");
    for alg in [SigningAlg::ES256, SigningAlg::RS256] {
        per_client.bench_function(format!("sign/{alg:?}"), |b| {
            b.iter(|| es256.sign(alg, TYP_ID_TOKEN, black_box(&claims)).unwrap())
        });
        let token = es256.sign(alg, TYP_ID_TOKEN, &claims).unwrap();
        per_client.bench_function(format!("verify/{alg:?}"), |b| {
            b.iter(|| {
                es256
                    .verify::<serde_json::Value>(black_box(&token), Some(TYP_ID_TOKEN), NOW)
                    .unwrap()
            })
        });
    }
    per_client.finish();

    // Issue 2's yardstick: what the broker spends on an ID + access token pair against two
    // bare ES256 signatures (aws-lc, key parsed once) of messages of the same length.
    let access = AccessTokenClaims {
        iss: claims.iss.clone(),
        sub: claims.sub.clone(),
        aud: "web".into(),
        exp: NOW + 600,
        iat: NOW,
        jti: "0197a3c2-7f30-7d9c-9e3f-5b4a6c7d8e9f".into(),
        client_id: "web".into(),
        scope: "openid email profile offline_access".into(),
        auth_time: Some(claims.auth_time),
        amr: claims.amr.clone(),
        acr: None,
        sid: claims.sid.clone(),
        idp: claims.idp.clone(),
        org: claims.org.clone(),
        groups: None,
        groups_overflow: false,
        roles: None,
    };
    let id_len = es256
        .sign(SigningAlg::ES256, TYP_ID_TOKEN, &claims)
        .unwrap()
        .rsplit_once('.')
        .unwrap()
        .0
        .len();
    let at_len = es256
        .sign(SigningAlg::ES256, TYP_ACCESS_TOKEN, &access)
        .unwrap()
        .rsplit_once('.')
        .unwrap()
        .0
        .len();
    let (id_msg, at_msg) = (vec![b'x'; id_len], vec![b'x'; at_len]);
    let mut pair = c.benchmark_group("sign_token_pair");
    pair.bench_function("keyring/ES256_id_and_access_token", |b| {
        b.iter(|| {
            (
                es256
                    .sign(SigningAlg::ES256, TYP_ID_TOKEN, black_box(&claims))
                    .unwrap(),
                es256
                    .sign(SigningAlg::ES256, TYP_ACCESS_TOKEN, black_box(&access))
                    .unwrap(),
            )
        })
    });
    pair.bench_function("bare_ES256_signatures_x2", |b| {
        b.iter(|| {
            (
                es256_sign(black_box(&id_msg)),
                es256_sign(black_box(&at_msg)),
            )
        })
    });
    pair.finish();

    let mut verify = c.benchmark_group("verify_id_token");
    // The broker's check of its own token (kid lookup, alg and typ checks, signature),
    // decoded into a generic `serde_json::Value`.
    let token = es256
        .sign(SigningAlg::ES256, TYP_ID_TOKEN, &claims)
        .unwrap();
    verify.bench_function("keyring/ES256", |b| {
        b.iter(|| {
            es256
                .verify::<serde_json::Value>(black_box(&token), Some(TYP_ID_TOKEN), NOW)
                .unwrap()
        })
    });
    // The floor: `jsonwebtoken::decode` with the same public key.
    verify.bench_function("bare_jsonwebtoken/ES256", |b| {
        b.iter(|| {
            jsonwebtoken::decode::<serde_json::Value>(
                black_box(&token),
                &bare_dec,
                &bare_validation,
            )
            .unwrap()
        })
    });
    for (alg, ring) in &others {
        let token = ring.sign(*alg, TYP_ID_TOKEN, &claims).unwrap();
        verify.bench_function(format!("keyring/{alg:?}"), |b| {
            b.iter(|| {
                ring.verify::<serde_json::Value>(black_box(&token), Some(TYP_ID_TOKEN), NOW)
                    .unwrap()
            })
        });
    }
    verify.finish();
}

criterion_group!(benches, tokens);
criterion_main!(benches);
