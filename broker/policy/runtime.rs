//! Organisations created at run time: an operator onboards a customer's tenant through the
//! admin API or console instead of editing the file.
//!
//! They are written as the file's own `organizations[]` entries ([`OrganizationSpec`]),
//! checked by the file's own rules with the file's own messages ([`check`]), and merged into
//! the policy that everything reads ([`merge`]): routing (`hrd::decide`), consent, import and
//! sync see one list of organisations and the same indexes, so routing costs the same. The
//! file wins every conflict: a runtime organisation whose id, a domain or a tenant the file
//! (or an older runtime organisation) holds is out of force, with the reason, until the
//! conflict is gone. Pure: no I/O.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_saphyr::Spanned;

use super::load::parse;
use super::raw::RawOrganization;
use super::validate::{Taken, runtime_organization};
use super::{Organization, Policy};
use crate::directory::{OrganizationSpec, RuntimeOrganization};

/// The policy with the runtime organisations in force merged in.
#[derive(Debug)]
pub struct Merged {
    pub policy: Policy,
    /// The runtime organisations left out, by id, with why.
    pub out_of_force: BTreeMap<String, String>,
}

/// Checks `spec` as a new organisation (or, with `replacing`, as the new version of that
/// runtime organisation) against `policy`'s organisations, those of the file and those
/// created at run time. On refusal, every problem, each naming the field
/// (`organization.domains[0]: ...`).
pub fn check(
    policy: &Policy,
    spec: &OrganizationSpec,
    replacing: Option<&str>,
) -> Result<Organization, Vec<String>> {
    let (file, runtime): (Vec<_>, Vec<_>) = policy
        .organizations
        .iter()
        .filter(|o| Some(o.id.as_str()) != replacing)
        .cloned()
        .partition(|o| o.origin == super::OrgOrigin::PolicyFile);
    let mut taken = Taken::of_file(&file);
    taken.runtime(&runtime);
    check_into(&mut taken, policy, spec)
}

fn check_into(
    taken: &mut Taken,
    policy: &Policy,
    spec: &OrganizationSpec,
) -> Result<Organization, Vec<String>> {
    // Through the file's own parser: a wrong value (an unknown `sso`) gets the file's
    // message too.
    let text = serde_json::to_string(spec).map_err(|e| vec![e.to_string()])?;
    let raw: Spanned<RawOrganization> = parse(&text).map_err(|p| vec![p.reason])?;
    runtime_organization(&raw, taken, &policy.upstreams)
        .map_err(|problems| problems.into_iter().map(|p| p.reason).collect())
}

/// `file` (the policy as the file says) with the runtime organisations that pass
/// [`check`] added, oldest first; the others are [`Merged::out_of_force`].
pub fn merge(file: &Policy, runtime: &[RuntimeOrganization]) -> Merged {
    let mut policy = file.clone();
    let mut taken = Taken::of_file(&file.organizations);
    let mut out_of_force = BTreeMap::new();
    let mut ordered: Vec<&RuntimeOrganization> = runtime.iter().collect();
    ordered.sort_by(|a, b| (a.created_at, &a.spec.id).cmp(&(b.created_at, &b.spec.id)));
    for r in ordered {
        match check_into(&mut taken, file, &r.spec) {
            Ok(org) => {
                let org = Arc::new(org);
                policy.org_by_id.insert(org.id.clone(), Arc::clone(&org));
                for d in &org.domains {
                    policy.org_by_domain.insert(d.clone(), Arc::clone(&org));
                }
                policy.organizations.push(org);
            }
            Err(reasons) => {
                out_of_force.insert(r.spec.id.clone(), reasons.join("; "));
            }
        }
    }
    Merged {
        policy,
        out_of_force,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> Policy {
        let yaml = r#"issuer: http://127.0.0.1:8080
clients:
  - id: spa
    redirect_uris: [http://127.0.0.1:9000/callback]
    grants: [authorization_code]
upstreams:
  - id: entra
    kind: entra
    client_id: 11111111-2222-3333-4444-555555555555
    client_secret_env: ENTRA_SECRET
organizations:
  - id: contoso
    domains: [contoso.com]
    upstream: entra
    tenant_id: 72f988bf-86f1-41af-91ab-2d7cd011db47
    sso: per_user
"#;
        let env = |n: &str| (n == "ENTRA_SECRET").then(|| "s".to_owned());
        crate::policy::load_str_with_env(std::path::Path::new("t.yaml"), yaml, &env).unwrap()
    }

    fn spec(id: &str, domain: &str) -> OrganizationSpec {
        OrganizationSpec {
            id: id.into(),
            domains: vec![domain.into()],
            upstream: None,
            tenant_id: None,
            sso: None,
            password_fallback: None,
            jit: None,
            sync: None,
            groups: None,
        }
    }

    fn runtime(spec: OrganizationSpec, created_at: u64) -> RuntimeOrganization {
        RuntimeOrganization {
            spec,
            created_at,
            created_by: "t".into(),
            updated_at: created_at,
            updated_by: "t".into(),
        }
    }

    #[test]
    fn merged_organizations_route_like_the_files_and_the_older_wins_a_clash() {
        let file = file();
        let merged = merge(
            &file,
            &[
                runtime(spec("late", "fabrikam.com"), 20),
                runtime(spec("early", "fabrikam.com"), 10),
                runtime(spec("other", "northwind.com"), 30),
                runtime(spec("thief", "contoso.com"), 1),
            ],
        );
        let p = &merged.policy;
        assert_eq!(p.org_for_email("a@fabrikam.com").unwrap().id, "early");
        assert_eq!(p.org_for_email("a@northwind.com").unwrap().id, "other");
        assert_eq!(p.org_for_email("a@contoso.com").unwrap().id, "contoso");
        assert_eq!(
            p.org_by_id["other"].origin,
            crate::policy::OrgOrigin::Runtime
        );
        assert_eq!(p.organizations.len(), 3);
        assert!(merged.out_of_force["late"].contains("\"early\" (created at run time)"));
        assert!(merged.out_of_force["thief"].contains("(defined in the policy file)"));
        // The file's policy is untouched.
        assert_eq!(file.organizations.len(), 1);
    }

    #[test]
    fn a_replacement_is_checked_without_its_old_self() {
        let merged = merge(&file(), &[runtime(spec("fab", "fabrikam.com"), 1)]);
        // Keeping its own domain is no clash with itself...
        let mut next = spec("fab", "fabrikam.com");
        next.password_fallback = Some(true);
        assert!(check(&merged.policy, &next, Some("fab")).is_ok());
        // ...but as a new organisation it is.
        let problems = check(&merged.policy, &spec("fab2", "fabrikam.com"), None).unwrap_err();
        assert!(
            problems[0].contains("organization.domains[0]"),
            "{problems:?}"
        );
        // A refused check leaves nothing claimed behind: the next one may take the domain.
        let mut taken = Taken::of_file(&merged.policy.organizations);
        let policy = &merged.policy;
        let bad = OrganizationSpec {
            upstream: Some("nope".into()),
            ..spec("x", "x.com")
        };
        assert!(check_into(&mut taken, policy, &bad).is_err());
        assert!(check_into(&mut taken, policy, &spec("y", "x.com")).is_ok());
    }
}
