//! Upstream identity providers: the broker as a relying party of Entra and OIDC providers.

pub mod http_client;
