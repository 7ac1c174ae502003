//! `GET /{t}/adminconsent` (and the v2.0 form `/{t}/v2.0/adminconsent`): an administrator
//! grants the app's application permissions in their tenant. The fake grants at once (no
//! page), creating the app's service principal there, and redirects back with
//! `admin_consent=True&tenant=…&state=…`.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State as AxumState};
use axum::response::Response;

use super::Shared;
use super::authorize::{app_not_found, is_alias, tenant_not_found};
use super::crypto::guid;
use super::model::State;
use super::wire::{EntraError, Params, redirect_with};

pub async fn v1(
    AxumState(shared): AxumState<Arc<Shared>>,
    Path(segment): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    admin_consent(
        &shared,
        &segment,
        &Params::from_query(query.as_deref()),
        false,
    )
}

pub async fn v2(
    AxumState(shared): AxumState<Arc<Shared>>,
    Path(segment): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    admin_consent(
        &shared,
        &segment,
        &Params::from_query(query.as_deref()),
        true,
    )
}

/// The tenant being consented: the path's tenant, or for an alias the tenant of the admin
/// named by `login_hint`, or the only tenant there is.
fn resolve_tenant(state: &State, segment: &str, params: &Params) -> Option<String> {
    if !is_alias(segment) {
        return state.tenant(segment).map(|t| t.id.clone());
    }
    if let Some(hint) = params.get("login_hint") {
        return state
            .tenants
            .iter()
            .find(|t| t.find_by_sign_in_name(hint).is_some())
            .map(|t| t.id.clone());
    }
    match state.tenants.as_slice() {
        [only] => Some(only.id.clone()),
        _ => None,
    }
}

fn admin_consent(shared: &Shared, segment: &str, params: &Params, v2: bool) -> Response {
    let mut state = shared.lock();
    let Some(client_id) = params.get("client_id") else {
        return EntraError::missing("client_id").to_page();
    };
    let Some(app) = state.app(client_id) else {
        return app_not_found(client_id, segment).to_page();
    };
    let Some(redirect_uri) = params.get("redirect_uri") else {
        return EntraError::bad_request("invalid_request", 900971, "No reply address provided.")
            .to_page();
    };
    if !app.redirect_uris.iter().any(|r| r == redirect_uri) {
        return EntraError::bad_request(
            "invalid_request",
            50011,
            format!(
                "The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{client_id}'."
            ),
        )
        .to_page();
    }
    let Some(tid) = resolve_tenant(&state, segment, params) else {
        return tenant_not_found(segment).to_page();
    };
    let state_param = params.get("state").map(str::to_owned);
    if let Some(forced) = state.knobs.consent_errors.pop_front() {
        let mut pairs = vec![
            ("error", forced.error),
            ("error_description", forced.description),
        ];
        if let Some(s) = state_param {
            pairs.push(("state", s));
        }
        return redirect_with(redirect_uri, &pairs);
    }
    let client_id = client_id.to_owned();
    let redirect_uri = redirect_uri.to_owned();
    if let Some(tenant) = state.tenant_mut(&tid) {
        tenant
            .service_principals
            .entry(client_id.clone())
            .or_insert_with(guid);
        tenant.consented.insert(client_id);
    }
    drop(state);
    let mut pairs = vec![("admin_consent", "True".to_owned()), ("tenant", tid)];
    if let Some(s) = state_param {
        pairs.push(("state", s));
    }
    if v2 {
        let scope = params
            .get("scope")
            .unwrap_or("https://graph.microsoft.com/.default")
            .to_owned();
        pairs.push(("scope", scope));
    }
    redirect_with(&redirect_uri, &pairs)
}
