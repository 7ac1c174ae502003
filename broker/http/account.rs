//! `/account`: the built-in account page, a first-party client of the broker. It signs in
//! through `/authorize` with PKCE like any application, then shows the session.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::chrome::{Chrome, For};
use super::cookies::Names;
use super::error::PageError;
use super::extract::{Browser, PageForm, PageQuery};
use super::pages::{self, AccountPage, PasskeyLine, PasskeysSection, SessionLine};
use crate::i18n::Msg;
use crate::service::Broker;
use crate::service::account::{ACCOUNT_SIGN_IN_SECS, Landing};
use crate::service::passkeys::PasskeyForm;
use crate::store::Session;

pub async fn page(
    State(broker): State<Arc<Broker>>,
    Browser(ctx): Browser,
    jar: CookieJar,
) -> Result<Response, PageError> {
    let Some(view) = broker.sign_in().account(ctx.session.as_deref()).await? else {
        return Ok(start_sign_in(&broker, jar, Landing::Account));
    };
    let policy = broker.policy();
    let c = Chrome::current(For::default());
    let method = |s: &Session| match &s.auth.idp {
        // The upstream's display name ("Microsoft"), or its id if it left the policy.
        Some(idp) => c.t1(
            "method-sso",
            "upstream",
            policy
                .upstream(idp)
                .map_or(idp.as_str(), |u| u.display_name.as_str()),
        ),
        // RFC 8176 `hwk`: a passkey sign-in (`service/passkeys.rs`).
        None if s.auth.amr.iter().any(|m| m == "hwk") => c.t("passkey-method"),
        None if s.auth.amr.iter().any(|m| m == "mfa") => c.t("mfa-method-password-and-code"),
        None => c.t("method-password"),
    };
    let sessions = view
        .sessions
        .iter()
        .map(|(s, current)| SessionLine {
            method: method(s),
            since: pages::moment(&c, s.auth.auth_time),
            device: device_name(&c, s.user_agent.as_deref()),
            current: *current,
        })
        .collect();
    let passkeys = PasskeysSection {
        allowed: view.passkeys.allowed,
        fresh: view.passkeys.fresh,
        keys: view
            .passkeys
            .keys
            .iter()
            .map(|k| PasskeyLine {
                id: k.id.clone(),
                name: if k.name.is_empty() {
                    c.t1("passkey-default-name", "date", &c.date_time(k.created_at))
                } else {
                    k.name.clone()
                },
                created: pages::moment(&c, k.created_at),
                last_used: k.last_used_at.map(|t| pages::moment(&c, t)),
            })
            .collect(),
        registration: view.passkeys.registration.as_ref(),
    };
    let page = AccountPage {
        passkeys,
        name: &view.user.name,
        email: &view.user.email,
        organization: view.user.organization.as_deref(),
        method: method(&view.current),
        signed_in_at: pages::moment(&c, view.current.auth.auth_time),
        user_id: &view.user.id,
        sessions,
        csrf: &view.csrf,
        totp_since: view.totp_enrolled_at.map(|t| pages::moment(&c, t)),
        c,
    };
    Ok(pages::render(StatusCode::OK, &page))
}

/// A session's browser in words ("Chrome on Linux"), read from its `User-Agent` by woothee;
/// "Unknown browser" when it says nothing recognisable.
fn device_name(c: &Chrome, user_agent: Option<&str>) -> String {
    let parser = woothee::parser::Parser::new();
    // Browsers on computers, phones and consoles; libraries and crawlers are no browser.
    let browser = |r: &woothee::parser::WootheeResult<'_>| {
        matches!(
            r.category,
            "pc" | "smartphone" | "mobilephone" | "appliance"
        )
    };
    let Some(parsed) = user_agent.and_then(|ua| parser.parse(ua)).filter(browser) else {
        return c.t("user-agent-unknown");
    };
    let known = |s: &str| !s.is_empty() && s != woothee::woothee::VALUE_UNKNOWN;
    match (known(parsed.name), known(parsed.os)) {
        (true, true) => c.t2("user-agent", "browser", parsed.name, "os", parsed.os),
        (true, false) => parsed.name.to_owned(),
        _ => c.t("user-agent-unknown"),
    }
}

/// Sends the browser through `/authorize` as the account client, back to `landing`'s
/// callback, remembering what the callback needs in a short-lived cookie. The admin console
/// signs in the same way.
pub(super) fn start_sign_in(broker: &Broker, jar: CookieJar, landing: Landing) -> Response {
    let Ok(start) = broker.sign_in().first_party_sign_in(landing) else {
        return pages::message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "account-bad-issuer-title",
            "account-bad-issuer",
            true,
        );
    };
    let names = Names::for_issuer(&broker.policy().issuer);
    let jar = jar.add(names.build(names.account, start.flow, Some(ACCOUNT_SIGN_IN_SECS)));
    (jar, Redirect::to(&start.location)).into_response()
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

pub async fn callback(
    State(broker): State<Arc<Broker>>,
    jar: CookieJar,
    PageQuery(q): PageQuery<CallbackQuery>,
) -> Result<Response, PageError> {
    first_party_callback(&broker, jar, q, Landing::Account).await
}

/// The callback of a first-party sign-in: checks the flow cookie's `state`, redeems the code
/// as any client would, and lands on `landing`'s page.
pub(super) async fn first_party_callback(
    broker: &Broker,
    jar: CookieJar,
    q: CallbackQuery,
    landing: Landing,
) -> Result<Response, PageError> {
    let names = Names::for_issuer(&broker.policy().issuer);
    let flow = jar.get(names.account).map(|c| c.value().to_owned());
    let jar = jar.add(names.removal(names.account));
    if let Some(error) = q.error {
        return Ok((
            jar,
            pages::message(
                StatusCode::BAD_REQUEST,
                "account-callback-title",
                Msg::new("account-callback-failed")
                    .arg("error", crate::op::scope::sanitize(&error)),
                true,
            ),
        )
            .into_response());
    }
    let then = broker
        .sign_in()
        .first_party_callback(
            landing,
            flow.as_deref(),
            q.state.as_deref(),
            q.code.as_deref(),
        )
        .await?;
    let page = match (landing, then) {
        (Landing::Account, Some(then)) => then.path(),
        (Landing::Account, None) => "/account",
        (Landing::Admin, _) => "/admin",
    };
    Ok((jar, Redirect::to(page)).into_response())
}

#[derive(Deserialize)]
pub struct SignOutForm {
    csrf: String,
    scope: Option<String>,
}

pub async fn sign_out(
    State(broker): State<Arc<Broker>>,
    Browser(ctx): Browser,
    jar: CookieJar,
    PageForm(f): PageForm<SignOutForm>,
) -> Result<Response, PageError> {
    let names = Names::for_issuer(&broker.policy().issuer);
    if let Some(session) = ctx.session.as_deref() {
        let everywhere = f.scope.as_deref() == Some("everywhere");
        broker
            .sign_in()
            .account_sign_out(session, &f.csrf, everywhere)
            .await?;
    }
    Ok((
        jar.add(names.removal(names.session)),
        pages::signed_out(&broker.policy()),
    )
        .into_response())
}

/// `GET /account/reauth`: a fresh sign-in (`prompt=login`) for the account page, before
/// a change that needs one (passkeys).
pub async fn reauth(State(broker): State<Arc<Broker>>, jar: CookieJar) -> Response {
    let Ok(start) = broker.sign_in().first_party_sign_in_again(Landing::Account) else {
        return pages::message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "account-bad-issuer-title",
            "account-bad-issuer",
            true,
        );
    };
    let names = Names::for_issuer(&broker.policy().issuer);
    let jar = jar.add(names.build(names.account, start.flow, Some(ACCOUNT_SIGN_IN_SECS)));
    (jar, Redirect::to(&start.location)).into_response()
}

#[derive(Deserialize)]
pub struct RegisterPasskeyForm {
    csrf: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    credential: String,
    #[serde(default)]
    name: String,
}

/// `POST /account/passkeys`: the new credential `passkey.js` got from the browser.
pub async fn register_passkey(
    State(broker): State<Arc<Broker>>,
    Browser(ctx): Browser,
    jar: CookieJar,
    PageForm(f): PageForm<RegisterPasskeyForm>,
) -> Result<Response, PageError> {
    let Some(session) = ctx.session.as_deref() else {
        return Ok(start_sign_in(&broker, jar, Landing::Account));
    };
    let form = PasskeyForm {
        csrf: &f.csrf,
        state: &f.state,
        value: &f.credential,
        name: &f.name,
    };
    broker
        .sign_in()
        .register_passkey(session, &form, &ctx)
        .await?;
    Ok(Redirect::to("/account#passkeys").into_response())
}

#[derive(Deserialize)]
pub struct RemovePasskeyForm {
    csrf: String,
    #[serde(default)]
    credential: String,
}

/// `POST /account/passkeys/remove`.
pub async fn remove_passkey(
    State(broker): State<Arc<Broker>>,
    Browser(ctx): Browser,
    jar: CookieJar,
    PageForm(f): PageForm<RemovePasskeyForm>,
) -> Result<Response, PageError> {
    let Some(session) = ctx.session.as_deref() else {
        return Ok(start_sign_in(&broker, jar, Landing::Account));
    };
    let form = PasskeyForm {
        csrf: &f.csrf,
        state: "",
        value: &f.credential,
        name: "",
    };
    broker
        .sign_in()
        .remove_passkey(session, &form, &ctx)
        .await?;
    Ok(Redirect::to("/account#passkeys").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_name_the_browser_and_its_system() {
        let c = Chrome::current(For::default());
        let chrome_linux = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
        assert_eq!(device_name(&c, Some(chrome_linux)), "Chrome on Linux");
        let firefox_windows =
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
        assert_eq!(
            device_name(&c, Some(firefox_windows)),
            "Firefox on Windows 10"
        );
        let safari_iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
        assert_eq!(device_name(&c, Some(safari_iphone)), "Safari on iPhone");
        assert_eq!(device_name(&c, Some("curl/8.5.0")), "Unknown browser");
        assert_eq!(device_name(&c, None), "Unknown browser");
    }
}
