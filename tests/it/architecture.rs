//! The house rules of ARCHITECTURE.md that a compiler does not check: which modules may
//! import which. Arrows point one way (http → service → rules → domain, storage beside), so
//! a rule or storage module that reaches up into the services or the HTTP layer, or a domain
//! type that depends on storage, fails here with the file and line.

use std::path::{Path, PathBuf};

fn source_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            for entry in std::fs::read_dir(&p).unwrap() {
                stack.push(entry.unwrap().path());
            }
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Every `path:line: text` in `places` (files or folders under `broker/`) whose code (not a
/// comment) names one of `forbidden`.
fn offenders(places: &[&str], forbidden: &[&str]) -> Vec<String> {
    let broker = Path::new(env!("CARGO_MANIFEST_DIR")).join("broker");
    let mut found = Vec::new();
    for place in places {
        let path = broker.join(place);
        assert!(
            path.exists(),
            "{} is gone: update this test",
            path.display()
        );
        for file in source_files(&path) {
            let text = std::fs::read_to_string(&file).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.trim_start();
                if code.starts_with("//") {
                    continue;
                }
                if forbidden.iter().any(|f| code.contains(f)) {
                    found.push(format!("{}:{}: {code}", file.display(), n + 1));
                }
            }
        }
    }
    found
}

#[test]
fn rules_and_storage_never_import_services_or_http() {
    let found = offenders(
        &[
            "store",
            "op",
            "hrd.rs",
            "policy",
            "upstream/verify.rs",
            "jose.rs",
            "acr.rs",
            "mfa.rs",
        ],
        &["crate::service", "crate::http", "crate::server"],
    );
    assert!(
        found.is_empty(),
        "imports that run back up:\n{}",
        found.join("\n")
    );
}

#[test]
fn pure_rules_and_domain_types_never_touch_storage() {
    let found = offenders(
        &[
            "directory.rs",
            "op",
            "hrd.rs",
            "policy",
            "upstream/verify.rs",
            "jose.rs",
            "acr.rs",
            "mfa.rs",
        ],
        &["crate::store"],
    );
    assert!(
        found.is_empty(),
        "rules that depend on storage:\n{}",
        found.join("\n")
    );
}

#[test]
fn storage_does_not_read_the_policy() {
    // Only `server.rs` wires an engine from the policy (`open_backend`).
    let found = offenders(&["store"], &["crate::policy"]);
    assert!(
        found.is_empty(),
        "storage that reads the policy:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_domain_module_depends_on_nothing_of_the_crate() {
    // std, serde, uuid and form encoding only; `UnixTime` is a plain alias from the clock.
    let found = offenders(&["directory.rs"], &["crate::"])
        .into_iter()
        .filter(|l| !l.contains("crate::clock::UnixTime") && !l.contains("crate::directory"))
        .collect::<Vec<_>>();
    assert!(
        found.is_empty(),
        "the domain module imports:\n{}",
        found.join("\n")
    );
}

#[test]
fn handlers_reach_the_broker_only_through_its_handles() {
    // The broker's parts are private; `internals()` is for tests and benches only, and the
    // store is the services' business, never a handler's.
    let found = offenders(
        &["http", "server.rs", "reload.rs", "main.rs"],
        &["internals()", "crate::store::Store", ".store."],
    );
    assert!(
        found.is_empty(),
        "handlers that reach past the use cases:\n{}",
        found.join("\n")
    );
}
