use super::*;

fn policy(dir: &Path, algorithm: SigningAlg) -> KeysPolicy {
    KeysPolicy {
        dir: dir.to_owned(),
        algorithm,
    }
}

#[derive(Serialize, serde::Deserialize, PartialEq, Debug)]
struct Claims {
    sub: String,
}

fn claims() -> Claims {
    Claims { sub: "u1".into() }
}

/// The `alg` of a compact JWS's header.
fn header_alg(token: &str) -> String {
    use base64::Engine;
    let header = token.split('.').next().unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .unwrap();
    let h: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    h["alg"].as_str().unwrap().to_owned()
}

#[test]
fn first_start_creates_a_key_of_the_algorithm_and_one_of_rs256_and_both_round_trip() {
    for (alg, expected) in [
        (
            SigningAlg::ES256,
            &[SigningAlg::ES256, SigningAlg::RS256][..],
        ),
        (
            SigningAlg::EdDSA,
            &[SigningAlg::EdDSA, SigningAlg::RS256][..],
        ),
        (SigningAlg::RS256, &[SigningAlg::RS256][..]),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("signing");
        let ring = KeyRing::load_or_create(&policy(&dir, alg), 1_700_000_000).unwrap();
        let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(files.len(), expected.len(), "{alg:?}");
        #[cfg(unix)]
        for f in &files {
            use std::os::unix::fs::PermissionsExt;
            let meta = f.as_ref().unwrap().metadata().unwrap();
            assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        }
        let jwks: serde_json::Value = serde_json::from_slice(&ring.jwks_json()).unwrap();
        let published = jwks["keys"].as_array().unwrap();
        assert_eq!(published.len(), expected.len());
        for a in expected {
            let token = ring.sign(*a, "JWT", &claims()).unwrap();
            assert_eq!(header_alg(&token), a.as_str());
            let back: Claims = ring.verify(&token, Some("JWT"), 0).unwrap();
            assert_eq!(back, claims());
            let kid = ring.current_kid(*a).unwrap();
            let jwk = published.iter().find(|k| k["kid"] == kid.as_str()).unwrap();
            assert_eq!(jwk["alg"], a.as_str(), "{jwk}");
            assert!(jwk.get("d").is_none(), "private part published");
        }
        // No key, no signature: an algorithm outside the policy's is refused.
        if alg == SigningAlg::RS256 {
            assert!(matches!(
                ring.sign(SigningAlg::ES256, "JWT", &claims()),
                Err(KeyError::Missing { .. })
            ));
        }
    }
}

#[test]
fn a_folder_from_before_rs256_was_kept_gets_an_rs256_key_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    // What an older broker left: one ES256 key.
    let old = write_key(tmp.path(), SigningAlg::ES256, 100).unwrap();
    let ring = KeyRing::load_or_create(&policy(tmp.path(), SigningAlg::ES256), 200).unwrap();
    assert_eq!(
        ring.current_kid(SigningAlg::ES256).as_deref(),
        Some(old.as_str())
    );
    let rs = ring.current_kid(SigningAlg::RS256).unwrap();
    assert!(rs.contains("-rs256-"), "{rs}");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 2);
    // A second start finds both and creates nothing.
    KeyRing::load_or_create(&policy(tmp.path(), SigningAlg::ES256), 300).unwrap();
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 2);
}

#[test]
fn a_new_configured_algorithm_gets_its_key_and_a_folder_losing_one_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let ring = KeyRing::load_or_create(&policy(tmp.path(), SigningAlg::ES256), 100).unwrap();
    assert!(ring.current_kid(SigningAlg::EdDSA).is_none());
    // A reloaded policy says EdDSA: its key is made, RS256 and the old ES256 key stay.
    ring.ensure(policy(tmp.path(), SigningAlg::EdDSA).algorithms(), 200)
        .unwrap();
    let ed = ring.current_kid(SigningAlg::EdDSA).unwrap();
    let token = ring.sign(SigningAlg::EdDSA, "JWT", &claims()).unwrap();
    let _: Claims = ring.verify(&token, None, 0).unwrap();
    let jwks: serde_json::Value = serde_json::from_slice(&ring.jwks_json()).unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 3);

    // Deleting the only key of an algorithm in use leaves the keys in force as they were.
    std::fs::remove_file(tmp.path().join(format!("{ed}.pem"))).unwrap();
    assert!(matches!(ring.reload(), Err(KeyError::Missing { .. })));
    assert_eq!(
        ring.current_kid(SigningAlg::EdDSA).as_deref(),
        Some(ed.as_str())
    );
}

#[test]
fn rotation_adds_a_key_that_signs_while_the_old_one_still_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let p = policy(tmp.path(), SigningAlg::ES256);
    let ring = KeyRing::load_or_create(&p, 100).unwrap();
    let old_kids: Vec<String> = p
        .algorithms()
        .iter()
        .map(|a| ring.current_kid(*a).unwrap())
        .collect();
    let old_tokens: Vec<String> = p
        .algorithms()
        .iter()
        .map(|a| ring.sign(*a, "JWT", &claims()).unwrap())
        .collect();
    assert!(!ring.reload().unwrap(), "nothing changed yet");

    // One rotation renews the key of each algorithm.
    let new_kids = rotate(&p, 200).unwrap();
    assert_eq!(new_kids.len(), 2);
    assert!(ring.reload().unwrap());
    for (i, alg) in p.algorithms().iter().enumerate() {
        let current = ring.current_kid(*alg).unwrap();
        assert!(new_kids.contains(&current), "{alg:?} signs with a new key");
        assert_ne!(current, old_kids[i]);
        let _: Claims = ring.verify(&old_tokens[i], None, 0).unwrap();
    }
    let jwks: serde_json::Value = serde_json::from_slice(&ring.jwks_json()).unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 4);
}

#[test]
fn refuses_wrong_type_unknown_kid_tampering_and_alg_swaps() {
    let tmp = tempfile::tempdir().unwrap();
    let ring = KeyRing::load_or_create(&policy(tmp.path(), SigningAlg::ES256), 1).unwrap();
    let token = ring.sign(SigningAlg::ES256, "at+jwt", &claims()).unwrap();
    let refusal = |r: Result<Claims, KeyError>| match r {
        Err(KeyError::Refused(r)) => r,
        other => panic!("expected a refusal, got {other:?}"),
    };
    assert_eq!(
        refusal(ring.verify(&token, Some("JWT"), 0)),
        Refusal::WrongType
    );

    // Another broker's key with our header shape.
    let other_dir = tempfile::tempdir().unwrap();
    let other = KeyRing::load_or_create(&policy(other_dir.path(), SigningAlg::ES256), 1).unwrap();
    let foreign = other.sign(SigningAlg::ES256, "at+jwt", &claims()).unwrap();
    assert_eq!(refusal(ring.verify(&foreign, None, 0)), Refusal::UnknownKey);

    // A signature from the other key under our kid.
    let mut parts: Vec<&str> = token.split('.').collect();
    let foreign_sig = foreign.rsplit('.').next().unwrap();
    parts[2] = foreign_sig;
    assert_eq!(
        refusal(ring.verify(&parts.join("."), None, 0)),
        Refusal::BadSignature
    );

    // alg: none, HS256 and the ring's other algorithm under the ES256 key's kid, and
    // ES256 under the RS256 key's kid: the key decides the algorithm.
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let es = ring.current_kid(SigningAlg::ES256).unwrap();
    let rs = ring.current_kid(SigningAlg::RS256).unwrap();
    for (alg, kid) in [
        ("none", &es),
        ("HS256", &es),
        ("HS256", &rs),
        ("RS256", &es),
        ("ES256", &rs),
    ] {
        let header = serde_json::json!({"alg": alg, "typ": "at+jwt", "kid": kid});
        let forged = format!(
            "{}.{}.{}",
            b64.encode(header.to_string()),
            parts[1],
            parts[2]
        );
        let r = refusal(ring.verify(&forged, None, 0));
        assert!(
            matches!(r, Refusal::Malformed | Refusal::WrongAlgorithm),
            "{alg} under {kid}: {r:?}"
        );
    }
    // A real RS256 signature presented under the ES256 key's kid.
    let rs_token = ring.sign(SigningAlg::RS256, "at+jwt", &claims()).unwrap();
    let rs_parts: Vec<&str> = rs_token.split('.').collect();
    let header = serde_json::json!({"alg": "RS256", "typ": "at+jwt", "kid": es});
    let swapped = format!(
        "{}.{}.{}",
        b64.encode(header.to_string()),
        rs_parts[1],
        rs_parts[2]
    );
    assert_eq!(
        refusal(ring.verify(&swapped, None, 0)),
        Refusal::WrongAlgorithm
    );
}

#[test]
fn a_broken_key_file_is_refused_and_leaves_the_ring_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let ring = KeyRing::load_or_create(&policy(tmp.path(), SigningAlg::EdDSA), 1).unwrap();
    let kid = ring.current_kid(SigningAlg::EdDSA);
    std::fs::write(tmp.path().join("00000000003-eddsa-broken.pem"), "not a key").unwrap();
    assert!(matches!(ring.reload(), Err(KeyError::BadKey { .. })));
    assert_eq!(ring.current_kid(SigningAlg::EdDSA), kid);
}

#[test]
fn a_key_rotated_in_the_same_second_is_still_the_newest() {
    let tmp = tempfile::tempdir().unwrap();
    let p = policy(tmp.path(), SigningAlg::ES256);
    let ring = KeyRing::load_or_create(&p, 500).unwrap();
    for _ in 0..5 {
        let kids = rotate(&p, 500).unwrap();
        ring.reload().unwrap();
        for (alg, kid) in p.algorithms().iter().zip(&kids) {
            assert_eq!(ring.current_kid(*alg).as_ref(), Some(kid));
        }
    }
}

#[test]
fn a_token_signed_by_a_key_another_replica_rotated_in_verifies_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let p = policy(tmp.path(), SigningAlg::ES256);
    let replica_a = KeyRing::load_or_create(&p, 100).unwrap();
    let replica_b = KeyRing::load_or_create(&p, 100).unwrap();
    rotate(&p, 200).unwrap();
    assert!(replica_a.reload().unwrap());
    let token = replica_a.sign(SigningAlg::RS256, "JWT", &claims()).unwrap();
    // B has not reloaded yet: the unknown kid makes it look once.
    let back: Claims = replica_b.verify(&token, None, 300).unwrap();
    assert_eq!(back, claims());
    for alg in p.algorithms() {
        assert_eq!(replica_b.current_kid(*alg), replica_a.current_kid(*alg));
    }
}
