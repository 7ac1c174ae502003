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

#[test]
fn first_start_creates_one_private_key_per_algorithm_and_round_trips() {
    for alg in [SigningAlg::ES256, SigningAlg::EdDSA, SigningAlg::RS256] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("signing");
        let ring = KeyRing::load_or_create(&policy(&dir, alg), 1_700_000_000).unwrap();
        let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(files.len(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = files[0].as_ref().unwrap().metadata().unwrap();
            assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        }
        let token = ring.sign("JWT", &claims()).unwrap();
        let back: Claims = ring.verify(&token, Some("JWT"), 0).unwrap();
        assert_eq!(back, claims());
        let jwks: serde_json::Value = serde_json::from_slice(&ring.jwks_json()).unwrap();
        assert_eq!(jwks["keys"][0]["kid"], ring.current_kid());
        assert!(jwks["keys"][0].get("d").is_none(), "private part published");
        assert_eq!(ring.algorithms().len(), 1);
    }
}

#[test]
fn rotation_adds_a_key_that_signs_while_the_old_one_still_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let p = policy(tmp.path(), SigningAlg::ES256);
    let ring = KeyRing::load_or_create(&p, 100).unwrap();
    let old_kid = ring.current_kid();
    let old_token = ring.sign("JWT", &claims()).unwrap();
    assert!(!ring.reload().unwrap(), "nothing changed yet");

    let new_kid = rotate(&p, 200).unwrap();
    assert!(ring.reload().unwrap());
    assert_eq!(ring.current_kid(), new_kid);
    assert_ne!(old_kid, new_kid);
    let _: Claims = ring.verify(&old_token, None, 0).unwrap();
    let jwks: serde_json::Value = serde_json::from_slice(&ring.jwks_json()).unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
}

#[test]
fn refuses_wrong_type_unknown_kid_tampering_and_alg_swaps() {
    let tmp = tempfile::tempdir().unwrap();
    let ring = KeyRing::load_or_create(&policy(tmp.path(), SigningAlg::ES256), 1).unwrap();
    let token = ring.sign("at+jwt", &claims()).unwrap();
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
    let foreign = other.sign("at+jwt", &claims()).unwrap();
    assert_eq!(refusal(ring.verify(&foreign, None, 0)), Refusal::UnknownKey);

    // A signature from the other key under our kid.
    let mut parts: Vec<&str> = token.split('.').collect();
    let foreign_sig = foreign.rsplit('.').next().unwrap();
    parts[2] = foreign_sig;
    assert_eq!(
        refusal(ring.verify(&parts.join("."), None, 0)),
        Refusal::BadSignature
    );

    // alg: none and HS256 headers under our kid.
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    for alg in ["none", "HS256"] {
        let header = serde_json::json!({"alg": alg, "typ": "at+jwt", "kid": ring.current_kid()});
        let forged = format!("{}.{}.", b64.encode(header.to_string()), parts[1]);
        let r = refusal(ring.verify(&forged, None, 0));
        assert!(
            matches!(r, Refusal::Malformed | Refusal::WrongAlgorithm),
            "{alg}: {r:?}"
        );
    }
}

#[test]
fn a_broken_key_file_is_refused_and_leaves_the_ring_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let ring = KeyRing::load_or_create(&policy(tmp.path(), SigningAlg::EdDSA), 1).unwrap();
    let kid = ring.current_kid();
    std::fs::write(tmp.path().join("00000000002-eddsa-broken.pem"), "not a key").unwrap();
    assert!(matches!(ring.reload(), Err(KeyError::BadKey { .. })));
    assert_eq!(ring.current_kid(), kid);
}

#[test]
fn a_key_rotated_in_the_same_second_is_still_the_newest() {
    let tmp = tempfile::tempdir().unwrap();
    let p = policy(tmp.path(), SigningAlg::ES256);
    let ring = KeyRing::load_or_create(&p, 500).unwrap();
    for _ in 0..5 {
        let kid = rotate(&p, 500).unwrap();
        ring.reload().unwrap();
        assert_eq!(ring.current_kid(), kid);
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
    let token = replica_a.sign("JWT", &claims()).unwrap();
    // B has not reloaded yet: the unknown kid makes it look once.
    let back: Claims = replica_b.verify(&token, None, 300).unwrap();
    assert_eq!(back, claims());
    assert_eq!(replica_b.current_kid(), replica_a.current_kid());
}
