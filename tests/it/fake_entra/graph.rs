//! Microsoft Graph `GET /v1.0/users` and `GET /v1.0/users/{id}`: bearer token validation
//! (signature, audience, lifetime, tenant, admin consent), `$select`, `$top` (default 100, at
//! most 999), `$filter` with `startswith(property,'value')` clauses joined by `or` (as Graph
//! supports them on users without advanced query parameters: case-insensitive, `''` for a
//! quote), server-driven paging with an absolute `@odata.nextLink` carrying `$skiptoken`,
//! and throttling (429/503 with `Retry-After`) on demand.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::Shared;
use super::claims::{
    GRAPH_APP_ID, GRAPH_RESOURCE, GROUP_MEMBER_READ_ALL, USER_READ_ALL, sts_issuer,
};
use super::crypto::{self, RsaAlg, b64url, b64url_decode};
use super::model::{EntraUser, State};
use super::wire::{Params, graph_error, now};

/// Properties of `microsoft.graph.user` this fake knows.
const KNOWN: &[&str] = &[
    "id",
    "displayName",
    "mail",
    "userPrincipalName",
    "accountEnabled",
    "givenName",
    "surname",
    "jobTitle",
    "businessPhones",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
];

/// What `/users` returns without `$select` (note: no `accountEnabled`).
const DEFAULT_SELECT: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
];

const SKIPTOKEN_PREFIX: &str = "fake-graph-page:";

pub async fn list_users(
    AxumState(shared): AxumState<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::from_query(query.as_deref());
    let mut state = shared.lock();
    if let Some(response) = throttle(&mut state) {
        return response;
    }
    let tid = match authorize(&state, &headers) {
        Ok(tid) => tid,
        Err(refusal) => return refusal.into_response(),
    };
    match page(&state, &shared.graph, &tid, &params) {
        Ok(body) => axum::Json(body).into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

pub async fn get_user(
    AxumState(shared): AxumState<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::from_query(query.as_deref());
    let mut state = shared.lock();
    if let Some(response) = throttle(&mut state) {
        return response;
    }
    let tid = match authorize(&state, &headers) {
        Ok(tid) => tid,
        Err(refusal) => return refusal.into_response(),
    };
    let select = match selection(&params) {
        Ok(select) => select,
        Err(refusal) => return refusal.into_response(),
    };
    let user = state.tenant(&tid).and_then(|t| {
        t.users
            .iter()
            .map(|e| &e.user)
            .find(|u| u.id == id || u.user_principal_name.eq_ignore_ascii_case(&id))
    });
    let Some(user) = user else {
        return graph_error(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            &format!(
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
            ),
        );
    };
    let mut body = render(user, &select);
    body.insert(
        "@odata.context".into(),
        json!(format!("{}/v1.0/$metadata#users/$entity", shared.graph)),
    );
    axum::Json(Value::Object(body)).into_response()
}

/// `GET /v1.0/users/{id}/transitiveMemberOf/microsoft.graph.group`: the user's groups,
/// nested ones included, `$select=id,displayName`, paged by `$top` (default 100) with a
/// `$skiptoken` in `@odata.nextLink`. Needs `GroupMember.Read.All`.
pub async fn member_of(
    AxumState(shared): AxumState<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::from_query(query.as_deref());
    let mut state = shared.lock();
    if let Some(response) = throttle(&mut state) {
        return response;
    }
    let tid = match authorize_for(&state, &headers, GROUP_MEMBER_READ_ALL) {
        Ok(tid) => tid,
        Err(refusal) => return refusal.into_response(),
    };
    let Some(tenant) = state.tenant(&tid) else {
        return unauthorized("Access token validation failure. Invalid issuer.").into_response();
    };
    if tenant.user(&id).is_none() {
        return graph_error(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            &format!(
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
            ),
        );
    }
    let top = match params.get("$top").map(|t| t.parse::<usize>()) {
        None => 100,
        Some(Ok(n)) if (1..=999).contains(&n) => n,
        Some(_) => {
            return bad_request("Request_UnsupportedQuery", "Invalid page size specified.")
                .into_response();
        }
    };
    let after = match params.get("$skiptoken") {
        None => 0,
        Some(token) => match b64url_decode(token)
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| {
                s.strip_prefix(SKIPTOKEN_PREFIX)
                    .and_then(|n| n.parse::<usize>().ok())
            }) {
            Some(n) => n,
            None => {
                return bad_request("Request_BadRequest", "Invalid paging token.").into_response();
            }
        },
    };
    let ids = tenant.members.get(&id).cloned().unwrap_or_default();
    let page: Vec<Value> = ids
        .iter()
        .skip(after)
        .take(top)
        .map(|gid| {
            let name = tenant
                .groups
                .iter()
                .find(|(g, _)| g == gid)
                .map(|(_, n)| n.clone());
            json!({"@odata.type": "#microsoft.graph.group", "id": gid, "displayName": name})
        })
        .collect();
    let mut body = json!({
        "@odata.context": format!("{}/v1.0/$metadata#directoryObjects", shared.graph),
        "value": page,
    });
    if after + top < ids.len() {
        let token = b64url(format!("{SKIPTOKEN_PREFIX}{}", after + top).as_bytes());
        body["@odata.nextLink"] = json!(format!(
            "{}/v1.0/users/{id}/transitiveMemberOf/microsoft.graph.group?$top={top}&$skiptoken={token}",
            shared.graph
        ));
    }
    axum::Json(body).into_response()
}

/// Answers with the queued failure, if any (Graph throttling guidance: 429 + `Retry-After`).
fn throttle(state: &mut State) -> Option<Response> {
    let failure = state.knobs.graph_failure.as_mut()?;
    if failure.remaining == 0 {
        state.knobs.graph_failure = None;
        return None;
    }
    failure.remaining -= 1;
    let failure = *failure;
    let status = StatusCode::from_u16(failure.status).unwrap_or(StatusCode::TOO_MANY_REQUESTS);
    let (code, message) = match status {
        StatusCode::TOO_MANY_REQUESTS => (
            "TooManyRequests",
            "Too many requests from Identifier:fake under category:throttle.aad.ags. Please try again later.",
        ),
        StatusCode::SERVICE_UNAVAILABLE => (
            "serviceNotAvailable",
            "The service is temporarily unavailable. Please retry after some time.",
        ),
        _ => ("generalException", "An unexpected error occurred."),
    };
    let mut response = graph_error(status, code, message);
    if let Ok(value) = HeaderValue::from_str(&failure.retry_after_secs.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    Some(response)
}

/// A refused Graph request, turned into Graph's error JSON at the handler.
struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl Refusal {
    fn into_response(self) -> Response {
        graph_error(self.status, self.code, &self.message)
    }
}

fn unauthorized(message: &str) -> Refusal {
    Refusal {
        status: StatusCode::UNAUTHORIZED,
        code: "InvalidAuthenticationToken",
        message: message.to_owned(),
    }
}

fn forbidden() -> Refusal {
    Refusal {
        status: StatusCode::FORBIDDEN,
        code: "Authorization_RequestDenied",
        message: "Insufficient privileges to complete the operation.".to_owned(),
    }
}

/// Validates the bearer token for reading users; returns its tenant.
fn authorize(state: &State, headers: &HeaderMap) -> Result<String, Refusal> {
    authorize_for(state, headers, USER_READ_ALL)
}

/// Validates the bearer token for an app holding `role`; returns its tenant.
fn authorize_for(state: &State, headers: &HeaderMap, role: &str) -> Result<String, Refusal> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| unauthorized("Access token is empty."))?;
    let jws = crypto::parse_compact(token)
        .ok_or_else(|| unauthorized("IDX14100: JWT is not well formed, there are no dots (.)."))?;
    let key = jws.header["kid"]
        .as_str()
        .and_then(|kid| state.keys.find(kid));
    let signed = jws.header["alg"] == "RS256"
        && key
            .is_some_and(|k| k.verify(RsaAlg::Rs256, jws.signing_input.as_bytes(), &jws.signature));
    if !signed {
        return Err(unauthorized(
            "Access token validation failure. Invalid signature.",
        ));
    }
    let claims = &jws.claims;
    let aud = claims["aud"].as_str().unwrap_or_default();
    if aud.trim_end_matches('/') != GRAPH_RESOURCE && aud != GRAPH_APP_ID {
        return Err(unauthorized(
            "Access token validation failure. Invalid audience.",
        ));
    }
    let now = now();
    let exp = claims["exp"].as_u64().unwrap_or(0);
    let nbf = claims["nbf"].as_u64().unwrap_or(0);
    if now >= exp || nbf > now {
        return Err(unauthorized(
            "Lifetime validation failed, the token is expired.",
        ));
    }
    let tid = claims["tid"].as_str().unwrap_or_default();
    let Some(tenant) = state.tenant(tid) else {
        return Err(unauthorized(
            "Access token validation failure. Invalid issuer.",
        ));
    };
    if claims["iss"].as_str() != Some(sts_issuer(tid).as_str()) {
        return Err(unauthorized(
            "Access token validation failure. Invalid issuer.",
        ));
    }
    let allowed = if claims["idtyp"] == "app" {
        let has_role = claims["roles"]
            .as_array()
            .is_some_and(|roles| roles.iter().any(|r| r == role));
        let appid = claims["appid"].as_str().unwrap_or_default();
        // Consent is checked now, not when the token was issued: a revoked grant is felt at
        // once.
        has_role && tenant.consented.contains(appid)
    } else {
        claims["scp"].as_str().is_some_and(|s| {
            s.split(' ')
                .any(|p| p == "User.Read.All" || p == "User.ReadBasic.All")
        })
    };
    if !allowed {
        return Err(forbidden());
    }
    Ok(tid.to_owned())
}

fn bad_request(code: &'static str, message: &str) -> Refusal {
    Refusal {
        status: StatusCode::BAD_REQUEST,
        code,
        message: message.to_owned(),
    }
}

fn selection(params: &Params) -> Result<Vec<String>, Refusal> {
    let Some(select) = params.get("$select") else {
        return Ok(DEFAULT_SELECT.iter().map(|s| (*s).to_owned()).collect());
    };
    let mut fields = Vec::new();
    for field in select.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        let Some(known) = KNOWN.iter().find(|k| k.eq_ignore_ascii_case(field)) else {
            return Err(bad_request(
                "Request_BadRequest",
                &format!(
                    "Could not find a property named '{field}' on type 'microsoft.graph.user'."
                ),
            ));
        };
        if !fields.iter().any(|f: &String| f == known) {
            fields.push((*known).to_owned());
        }
    }
    Ok(fields)
}

fn render(user: &EntraUser, select: &[String]) -> Map<String, Value> {
    let mut names = user.display_name.splitn(2, ' ');
    let given = names.next().unwrap_or_default().to_owned();
    let surname = names.next().map(str::to_owned);
    select
        .iter()
        .map(|field| {
            let value = match field.as_str() {
                "id" => json!(user.id),
                "displayName" => json!(user.display_name),
                "mail" => json!(user.mail),
                "userPrincipalName" => json!(user.user_principal_name),
                "accountEnabled" => json!(user.account_enabled),
                "givenName" => json!(given),
                "surname" => json!(surname),
                "businessPhones" => json!([]),
                _ => Value::Null,
            };
            (field.clone(), value)
        })
        .collect()
}

fn page(state: &State, graph: &str, tid: &str, params: &Params) -> Result<Value, Refusal> {
    if params.get("$skip").is_some() {
        return Err(bad_request(
            "Request_UnsupportedQuery",
            "'$skip' is not supported by the service.",
        ));
    }
    let top = match params.get("$top") {
        None => 100,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=999).contains(&n) => n,
            _ => {
                return Err(bad_request(
                    "Request_UnsupportedQuery",
                    &format!(
                        "Invalid page size specified: '{raw}'. Must be between 1 and 999 inclusive."
                    ),
                ));
            }
        },
    };
    let select = selection(params)?;
    let after = match params.get("$skiptoken") {
        None => 0,
        Some(token) => b64url_decode(token)
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| {
                s.strip_prefix(SKIPTOKEN_PREFIX)
                    .and_then(|n| n.parse::<u64>().ok())
            })
            .ok_or_else(|| bad_request("Request_BadRequest", "Invalid paging token."))?,
    };
    let Some(tenant) = state.tenant(tid) else {
        return Err(unauthorized(
            "Access token validation failure. Invalid issuer.",
        ));
    };
    let filter = match params.get("$filter") {
        None => Vec::new(),
        Some(raw) => parse_filter(raw).ok_or_else(|| {
            bad_request(
                "Request_UnsupportedQuery",
                &format!("Unsupported or invalid query filter clause specified: '{raw}'."),
            )
        })?,
    };
    let remaining: Vec<_> = tenant
        .users
        .iter()
        .filter(|e| e.seq > after && matches_filter(&e.user, &filter))
        .collect();
    let page: Vec<_> = remaining.iter().take(top).collect();
    let value: Vec<Value> = page
        .iter()
        .map(|e| Value::Object(render(&e.user, &select)))
        .collect();
    let context = match params.get("$select") {
        Some(_) => format!("{graph}/v1.0/$metadata#users({})", select.join(",")),
        None => format!("{graph}/v1.0/$metadata#users"),
    };
    let mut body = json!({ "@odata.context": context });
    if remaining.len() > page.len()
        && let Some(last) = page.last()
    {
        let token = b64url(format!("{SKIPTOKEN_PREFIX}{}", last.seq).as_bytes());
        let mut link = format!("{graph}/v1.0/users?");
        if let Some(raw) = params.get("$select") {
            link.push_str(&format!("$select={}&", encode(raw)));
        }
        if let Some(raw) = params.get("$top") {
            link.push_str(&format!("$top={}&", encode(raw)));
        }
        if let Some(raw) = params.get("$filter") {
            link.push_str(&format!("$filter={}&", encode(raw)));
        }
        link.push_str(&format!("$skiptoken={token}"));
        body["@odata.nextLink"] = json!(link);
    }
    body["value"] = json!(value);
    Ok(body)
}

/// `startswith(prop,'value') or startswith(prop,'value') …` as (property, lower-cased value).
fn parse_filter(raw: &str) -> Option<Vec<(String, String)>> {
    let mut clauses = Vec::new();
    let mut rest = raw.trim();
    loop {
        let inner = rest.strip_prefix("startswith(")?;
        let (prop, after_prop) = inner.split_once(',')?;
        let prop = prop.trim();
        if ![
            "displayName",
            "mail",
            "userPrincipalName",
            "givenName",
            "surname",
        ]
        .contains(&prop)
        {
            return None;
        }
        let quoted = after_prop.trim_start().strip_prefix('\'')?;
        // The value ends at a quote not followed by another ('' is a quote).
        let mut value = String::new();
        let mut chars = quoted.char_indices().peekable();
        let end = loop {
            let (i, c) = chars.next()?;
            if c == '\'' {
                if chars.peek().map(|(_, n)| *n) == Some('\'') {
                    chars.next();
                    value.push('\'');
                    continue;
                }
                break i;
            }
            value.push(c);
        };
        let tail = quoted[end + 1..]
            .trim_start()
            .strip_prefix(')')?
            .trim_start();
        clauses.push((prop.to_owned(), value.to_lowercase()));
        if tail.is_empty() {
            return Some(clauses);
        }
        rest = tail
            .strip_prefix("or ")
            .or_else(|| tail.strip_prefix("OR "))?
            .trim_start();
    }
}

fn matches_filter(user: &EntraUser, clauses: &[(String, String)]) -> bool {
    clauses.is_empty()
        || clauses.iter().any(|(prop, prefix)| {
            let value = match prop.as_str() {
                "displayName" => Some(user.display_name.as_str()),
                "mail" => user.mail.as_deref(),
                "userPrincipalName" => Some(user.user_principal_name.as_str()),
                _ => None,
            };
            value.is_some_and(|v| v.to_lowercase().starts_with(prefix.as_str()))
        })
}

fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
