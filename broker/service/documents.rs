//! The static documents (discovery metadata), serialised once per policy and key set
//! rather than on every request.

use std::sync::Arc;

use arc_swap::ArcSwapOption;

use super::Broker;
use crate::policy::Policy;

/// The last document built, with what it was built from.
#[derive(Default)]
pub struct Documents {
    discovery: ArcSwapOption<Built>,
}

struct Built {
    policy: Arc<Policy>,
    /// The key set's document: a new one (rotation, reload) means new algorithms maybe.
    jwks: Arc<[u8]>,
    body: Arc<[u8]>,
}

impl Broker {
    /// The discovery document (OIDC Discovery 1.0 §3) as JSON bytes.
    pub fn discovery_document(&self) -> Arc<[u8]> {
        let policy = self.policy();
        let jwks = self.keys.jwks_json();
        if let Some(built) = self.documents.discovery.load().as_ref()
            && Arc::ptr_eq(&built.policy, &policy)
            && Arc::ptr_eq(&built.jwks, &jwks)
        {
            return built.body.clone();
        }
        // What the broker signs with (OIDC Discovery §3): the policy's algorithm and RS256,
        // each of which has a key in the ring (`KeyRing::ensure`).
        let algs: Vec<&str> = policy
            .keys
            .algorithms()
            .iter()
            .map(|a| a.as_str())
            .collect();
        let doc = crate::op::discovery::metadata(&policy, &algs);
        // A `Value` always serialises.
        let body: Arc<[u8]> = serde_json::to_vec(&doc).unwrap_or_default().into();
        self.documents.discovery.store(Some(Arc::new(Built {
            policy,
            jwks,
            body: body.clone(),
        })));
        body
    }
}
