//! The pages in the customer's colours and the reader's language: `ui_locales`, then
//! `Accept-Language`, then the default; the broker's, the application's and the
//! organisation's brand; the logos served from the policy's folder; no page showing a
//! message id instead of words. The same in Chromium: `browser.rs`.

use std::sync::Arc;

use idbroker::i18n::{Catalogs, Lang};
use idbroker::op::pkce;

use crate::support::broker::{PASSWORD, TestBroker, password_hash};
use crate::support::browser::{Browser, Page, html_escape};

/// A logo whose bytes say whose it is.
fn svg(colour: &str) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 10"><rect width="40" height="10" fill="{colour}"/></svg>"#
    )
}

pub const CONTOSO_COLOUR: &str = "#7a1f5c";

/// A broker with a brand, an application with a logo, and two organisations of password
/// users: contoso with its own logo and colour, fabrikam with none.
pub struct World {
    pub tb: TestBroker,
    _assets: tempfile::TempDir,
}

pub async fn world() -> World {
    let assets = tempfile::tempdir().unwrap();
    std::fs::write(assets.path().join("broker.svg"), svg("#2557d6")).unwrap();
    std::fs::write(assets.path().join("contoso.svg"), svg(CONTOSO_COLOUR)).unwrap();
    std::fs::write(assets.path().join("timesheets.svg"), svg("#0b7a3e")).unwrap();
    let extra = format!(
        r##"branding:
  assets: {assets}
  product_name: Example Sign-in
  logo: broker.svg
  links: {{privacy: "https://example.com/privacy", help: "https://example.com/help"}}
  forgot_password: https://example.com/forgot
organizations:
  - id: contoso
    domains: [contoso.com]
    branding: {{logo: contoso.svg, primary_color: "{CONTOSO_COLOUR}"}}
  - id: fabrikam
    domains: [fabrikam.com]
"##,
        assets = assets.path().display()
    );
    let users = format!(
        r#"users:
  - email: ada@contoso.com
    name: Ada Contoso
    password_hash: "{hash}"
  - email: bob@fabrikam.com
    name: Bob Fabrikam
    password_hash: "{hash}"
"#,
        hash = password_hash()
    );
    let clients = "  - id: timesheets\n    name: Time Sheets\n    redirect_uris: [http://127.0.0.1:9000/callback]\n    branding: {logo: timesheets.svg}\n";
    let tb = TestBroker::start_with_clients(
        clients,
        &extra,
        Some(&users),
        idbroker::clock::Clock::System,
    )
    .await;
    World {
        tb,
        _assets: assets,
    }
}

/// `/authorize` of the time sheets application, with `extra` parameters.
pub fn authorize(base: &str, extra: &str) -> String {
    format!(
        "{base}/authorize?response_type=code&client_id=timesheets&redirect_uri=http://127.0.0.1:9000/callback&scope=openid&state=s&code_challenge={}&code_challenge_method=S256{extra}",
        pkce::s256_challenge("verifier-verifier-verifier-verifier-verifier-0001")
    )
}

fn shipped() -> Arc<Catalogs> {
    Arc::new(Catalogs::shipped())
}

fn lang(tag: &str) -> Lang {
    shipped().exactly(tag).unwrap()
}

async fn open(b: &mut Browser, w: &World, extra: &str) -> Page {
    let first = b.get(&authorize(&w.tb.base, extra)).await;
    b.follow(&w.tb.base, first).await
}

async fn identifier(b: &mut Browser, w: &World, page: &Page, who: &str) -> Page {
    b.submit(&w.tb.url("/login/identifier"), page, &[("identifier", who)])
        .await
}

async fn password(b: &mut Browser, w: &World, page: &Page, pw: &str) -> Page {
    b.submit(&w.tb.url("/login/password"), page, &[("password", pw)])
        .await
}

#[track_caller]
fn says(page: &Page, tag: &str, id: &str) {
    let text = html_escape(&lang(tag).t(id));
    assert!(
        page.body.contains(&format!("<html lang=\"{tag}\">")),
        "not in {tag}:\n{}",
        page.body
    );
    assert!(
        page.body.contains(&text),
        "{tag} page lacks {id} ({text}):\n{}",
        page.body
    );
}

/// Every message id of the catalogs that `html` shows as a word of its own.
fn ids_shown(html: &str) -> Vec<String> {
    let catalogs = shipped();
    catalogs
        .ids()
        .filter(|id| {
            html.match_indices(id).any(|(i, _)| {
                let before = html[..i].chars().next_back();
                let after = html[i + id.len()..].chars().next();
                let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '-');
                !word(before) && !word(after)
            })
        })
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn the_browsers_language_then_ui_locales_choose_the_pages_words() {
    let w = world().await;
    // No preference: the default, English.
    let page = open(&mut Browser::new(), &w, "").await;
    says(&page, "en", "login-title");

    let mut b = Browser::speaking("de-DE,de;q=0.9,en;q=0.5");
    let page = open(&mut b, &w, "").await;
    says(&page, "de", "login-title");
    says(&page, "de", "login-email-label");
    says(&page, "de", "login-next");
    // The next step too, and an error on it.
    let step = identifier(&mut b, &w, &page, "ada@contoso.com").await;
    says(&step, "de", "login-password-title");
    let wrong = b
        .post(
            &w.tb.url("/login/password"),
            &[
                ("tx", &step.field("tx")),
                ("csrf", &step.field("csrf")),
                ("password", "not it"),
            ],
        )
        .await;
    says(&wrong, "de", "login-error-bad-credentials");

    // ui_locales beats Accept-Language, for the whole login.
    let mut b = Browser::speaking("de-DE,de;q=0.9");
    let page = open(&mut b, &w, "&ui_locales=fr-CA%20de").await;
    says(&page, "fr", "login-title");
    let step = identifier(&mut b, &w, &page, "bob@fabrikam.com").await;
    says(&step, "fr", "login-password-title");

    // Pages outside a login, and errors made far from their handler.
    let mut cs = Browser::speaking("cs");
    let missing = cs.get(&w.tb.url("/no-such-page")).await;
    assert_eq!(missing.status, 404);
    says(&missing, "cs", "error-not-found-title");
    let stale = cs
        .post(
            &w.tb.url("/login/identifier"),
            &[("tx", "gone"), ("csrf", "x"), ("identifier", "a@b.c")],
        )
        .await;
    says(&stale, "cs", "error-restart");
    let bad = cs
        .get(&w.tb.url("/authorize?client_id=nobody&ui_locales=nl"))
        .await;
    says(&bad, "nl", "authorize-unknown-client");
}

#[tokio::test]
async fn no_page_in_any_language_shows_a_message_id() {
    let w = world().await;
    for tag in shipped().locales() {
        let mut b = Browser::speaking(tag);
        let mut pages = vec![("identifier", open(&mut b, &w, "").await)];
        let step = identifier(&mut b, &w, &pages[0].1, "bob@fabrikam.com").await;
        let wrong = password(&mut b, &w, &step, "not it").await;
        pages.push(("password", step));
        pages.push(("password error", wrong));
        pages.push(("login without tx", b.get(&w.tb.url("/login")).await));
        pages.push(("device", b.get(&w.tb.url("/device")).await));
        pages.push(("logout", b.get(&w.tb.url("/logout")).await));
        pages.push(("not found", b.get(&w.tb.url("/nope")).await));
        pages.push((
            "password link",
            b.get(&w.tb.url("/password/set?token=gone")).await,
        ));
        for (name, page) in pages {
            assert!(
                page.body.contains(&format!("<html lang=\"{tag}\">")),
                "{tag} {name}:\n{}",
                page.body
            );
            let shown = ids_shown(&page.body);
            assert!(
                shown.is_empty(),
                "{tag} {name} shows {shown:?}:\n{}",
                page.body
            );
        }
    }
}

#[tokio::test]
async fn an_organisations_brand_shows_from_the_step_that_knows_it() {
    let w = world().await;
    let policy = w.tb.broker.policy();
    let broker_logo = policy.branding.logo.as_ref().unwrap().url();
    let contoso = &policy.org_by_id["contoso"].branding;
    let contoso_logo = contoso.logo.as_ref().unwrap().url();
    let contoso_theme = contoso.theme.as_ref().unwrap().url();
    let app_logo = policy
        .client("timesheets")
        .unwrap()
        .logo
        .as_ref()
        .unwrap()
        .url();

    let mut b = Browser::new();
    let page = open(&mut b, &w, "").await;
    assert!(page.body.contains(&broker_logo) && !page.body.contains(&contoso_logo));
    assert!(
        page.body.contains("to continue to Time Sheets"),
        "{}",
        page.body
    );
    assert!(page.body.contains(&app_logo));
    assert!(page.body.contains("https://example.com/privacy"));

    let step = identifier(&mut b, &w, &page, "ada@contoso.com").await;
    assert!(step.body.contains(&contoso_logo), "{}", step.body);
    assert!(step.body.contains(&contoso_theme));
    assert!(!step.body.contains(&broker_logo));
    assert!(step.body.contains("https://example.com/forgot"));

    // A fabrikam user sees the broker's brand; an unknown contoso address sees contoso's,
    // as a known one does: the brand is the domain's, never the user's.
    let mut b = Browser::new();
    let page = open(&mut b, &w, "").await;
    let fabrikam = identifier(&mut b, &w, &page, "bob@fabrikam.com").await;
    assert!(fabrikam.body.contains(&broker_logo) && !fabrikam.body.contains(&contoso_logo));
    assert!(!fabrikam.body.contains(&contoso_theme));
    let mut b = Browser::new();
    let page = open(&mut b, &w, "").await;
    let unknown = identifier(&mut b, &w, &page, "nobody@contoso.com").await;
    let strip = |p: &Page, who: &str| {
        p.body
            .replace(&p.field("tx"), "TX")
            .replace(&p.field("csrf"), "CSRF")
            .replace(who, "WHO")
    };
    assert_eq!(
        strip(&step, "ada@contoso.com"),
        strip(&unknown, "nobody@contoso.com")
    );

    // From the first page with a hint.
    for hint in ["&login_hint=ada%40contoso.com", "&domain_hint=Contoso.com"] {
        let page = open(&mut Browser::new(), &w, hint).await;
        assert!(page.body.contains(&contoso_logo), "{hint}: {}", page.body);
        assert!(page.body.contains(&contoso_theme), "{hint}");
    }
}

#[tokio::test]
async fn logos_and_themes_are_served_with_their_type_and_cached_for_good() {
    let w = world().await;
    let policy = w.tb.broker.policy();
    let http = reqwest::Client::new();
    let logo = policy.org_by_id["contoso"].branding.logo.as_ref().unwrap();
    let resp = http.get(w.tb.url(&logo.url())).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let h = resp.headers().clone();
    assert_eq!(h["content-type"], "image/svg+xml");
    assert_eq!(h["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
    assert_eq!(resp.text().await.unwrap(), svg(CONTOSO_COLOUR));

    let theme = policy.org_by_id["contoso"].branding.theme.as_ref().unwrap();
    let resp = http.get(w.tb.url(&theme.url())).send().await.unwrap();
    assert_eq!(resp.headers()["content-type"], "text/css; charset=utf-8");
    assert!(resp.text().await.unwrap().contains(CONTOSO_COLOUR));

    for path in [
        "/branding/0123456789abcdef.svg",
        "/branding/..%2Fbroker.yaml",
        "/branding/",
    ] {
        let resp = http.get(w.tb.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), 404, "{path}");
    }
}

#[tokio::test]
async fn the_account_page_names_browsers_and_times_in_the_readers_language() {
    let w = world().await;
    let mut b = Browser::speaking("de");
    let first = b.get(&w.tb.url("/account")).await;
    let page = b.follow(&w.tb.base, first).await;
    let step = identifier(&mut b, &w, &page, "bob@fabrikam.com").await;
    let done = password(&mut b, &w, &step, PASSWORD).await;
    let account = b.follow(&w.tb.base, done).await;
    says(&account, "de", "account-title");
    // The test browser's User-Agent names no known browser.
    says(&account, "de", "user-agent-unknown");
    assert!(account.body.contains("<time "), "{}", account.body);
    let year = time::OffsetDateTime::now_utc().year().to_string();
    assert!(account.body.contains(&year));
}
