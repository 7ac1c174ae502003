//! What every page wears around its content: the language it speaks and the brand it shows.
//!
//! The page routes run inside [`scope`], which keeps the request's `Accept-Language` (and a
//! `ui_locales` of the address, for `/authorize`'s own error pages) and the policy in force
//! for the rest of the request. A page then asks for its [`Chrome`]: error pages made far
//! from the handler ([`super::error::PageError`]) speak the reader's language without every
//! function on the way carrying it. Outside a page route the chrome is the policy default's.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;

use crate::i18n::{Lang, Msg};
use crate::policy::{Asset, Policy};
use crate::service::Broker;

/// What a page request said about its reader.
#[derive(Clone)]
struct PageRequest {
    policy: Arc<Policy>,
    accept_language: Option<String>,
    ui_locales: Option<String>,
}

tokio::task_local! {
    static PAGE_REQUEST: PageRequest;
}

/// The most of `Accept-Language` or `ui_locales` kept.
const MAX_PREFERENCE_BYTES: usize = 256;

/// The middleware of the page routes: remembers the reader's languages for [`Chrome`].
pub async fn scope(State(broker): State<Arc<Broker>>, req: Request, next: Next) -> Response {
    let accept_language = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(|s| clip(s).to_owned());
    let ui_locales = req.uri().query().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "ui_locales")
            .map(|(_, v)| clip(&v).to_owned())
    });
    let request = PageRequest {
        policy: broker.policy(),
        accept_language,
        ui_locales,
    };
    PAGE_REQUEST.scope(request, next.run(req)).await
}

fn clip(s: &str) -> &str {
    let mut end = s.len().min(MAX_PREFERENCE_BYTES);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A logo on a page.
pub struct Logo {
    pub url: String,
    pub alt: String,
}

impl Logo {
    fn of(asset: &Asset, alt: &str) -> Logo {
        Logo {
            url: asset.url(),
            alt: alt.to_owned(),
        }
    }
}

/// The application being signed in to, as the login page names it.
pub struct App {
    pub name: String,
    pub logo: Option<Logo>,
}

/// A page's language, brand and footer.
pub struct Chrome {
    pub lang: Lang,
    pub product: String,
    /// The organisation's logo once it is known, else the broker's.
    pub logo: Option<Logo>,
    pub app: Option<App>,
    /// The theme's stylesheet (the accent colours), when the policy sets colours.
    pub theme: Option<String>,
    pub favicon: Option<String>,
    /// The footer's links: label and address.
    pub links: Vec<(String, String)>,
    /// Where "Forgot password?" leads, when the policy says.
    pub forgot_password: Option<String>,
}

/// Who a page is for, as far as the page knows: a login knows its client, its `ui_locales`,
/// and, once the identifier is typed (or hinted), the organisation.
#[derive(Default, Clone, Copy)]
pub struct For<'a> {
    pub ui_locales: Option<&'a str>,
    pub client: Option<&'a str>,
    pub organization: Option<&'a str>,
}

impl Chrome {
    /// The chrome of the current page request (the policy default's outside one).
    pub fn current(who: For<'_>) -> Chrome {
        match PAGE_REQUEST.try_with(|r| Chrome::of(r, who)) {
            Ok(chrome) => chrome,
            Err(_) => Chrome::plain(),
        }
    }

    /// The shipped catalogs and no brand: for an answer outside any page request.
    fn plain() -> Chrome {
        Chrome {
            lang: crate::i18n::shipped().lang(),
            product: crate::policy::DEFAULT_PRODUCT_NAME.to_owned(),
            logo: None,
            app: None,
            theme: None,
            favicon: None,
            links: Vec::new(),
            forgot_password: None,
        }
    }

    fn of(r: &PageRequest, who: For<'_>) -> Chrome {
        let policy = &r.policy;
        let brand = &policy.branding;
        let lang = policy.i18n.negotiate(
            who.ui_locales.or(r.ui_locales.as_deref()),
            r.accept_language.as_deref(),
        );
        let org = who.organization.and_then(|o| policy.org_by_id.get(o));
        let org_logo = org.and_then(|o| {
            let logo = o.branding.logo.as_ref()?;
            Some(Logo::of(logo, &o.id))
        });
        let logo = org_logo.or_else(|| {
            brand
                .logo
                .as_ref()
                .map(|l| Logo::of(l, &brand.product_name))
        });
        let theme = org
            .and_then(|o| o.branding.theme.as_ref())
            .or(brand.theme.as_ref())
            .map(|t| t.url());
        let app = who.client.and_then(|c| policy.client(c)).and_then(|c| {
            if c.name.is_empty() {
                return None;
            }
            // The account page's own client reads "to continue to your account".
            let name = if c.id == crate::policy::ACCOUNT_CLIENT_ID {
                lang.t("login-your-account")
            } else {
                c.name.clone()
            };
            Some(App {
                logo: c.logo.as_ref().map(|l| Logo::of(l, &name)),
                name,
            })
        });
        let links = [
            ("footer-privacy", &brand.links.privacy),
            ("footer-terms", &brand.links.terms),
            ("footer-help", &brand.links.help),
        ]
        .into_iter()
        .filter_map(|(id, url)| Some((lang.t(id), url.as_ref()?.to_string())))
        .collect();
        Chrome {
            product: brand.product_name.clone(),
            logo,
            app,
            theme,
            favicon: brand.favicon.as_ref().map(|f| f.url()),
            links,
            forgot_password: brand.forgot_password.as_ref().map(|u| u.to_string()),
            lang,
        }
    }

    /// A message without arguments.
    pub fn t(&self, id: &str) -> String {
        self.lang.t(id)
    }

    /// A message with one argument.
    pub fn t1(&self, id: &str, name: &str, value: &str) -> String {
        self.lang.t1(id, name, value)
    }

    /// A message with two arguments.
    pub fn t2(&self, id: &str, name: &str, value: &str, name2: &str, value2: &str) -> String {
        self.lang.t2(id, name, value, name2, value2)
    }

    /// A service's message.
    pub fn msg(&self, m: &Msg) -> String {
        self.lang.msg(m)
    }

    /// A moment in this language, in UTC (the page's script shows it in the reader's zone).
    pub fn date_time(&self, unix: u64) -> String {
        self.lang.date_time(unix)
    }
}

/// A moment as `<time datetime>` wants it (RFC 3339, UTC); empty when out of range.
pub fn machine_time(unix: u64) -> String {
    i64::try_from(unix)
        .ok()
        .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
        .and_then(|at| {
            at.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}
