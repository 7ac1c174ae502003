//! A scripted browser for protocol tests: keeps cookies, never follows redirects on its own
//! (so each hop can be asserted), and reads form fields out of our pages.

use std::collections::HashMap;

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

pub struct Browser {
    http: reqwest::Client,
    pub cookies: HashMap<String, String>,
}

pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    /// The value of the input named `name` in the page (first occurrence).
    pub fn field(&self, name: &str) -> String {
        field(&self.body, name).unwrap_or_else(|| panic!("no field {name} in page:\n{}", self.body))
    }

    pub fn has_field(&self, name: &str) -> bool {
        field(&self.body, name).is_some()
    }

    /// The query parameter `name` of the redirect target.
    pub fn location_param(&self, name: &str) -> Option<String> {
        let loc = self.location.as_deref()?;
        let url = url::Url::parse(loc)
            .or_else(|_| url::Url::parse(&format!("http://x{loc}")))
            .ok()?;
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

pub fn field(html: &str, name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\" value=\"");
    let start = html.find(&needle)? + needle.len();
    let end = html[start..].find('"')? + start;
    Some(html_unescape(&html[start..end]))
}

/// `text` escaped as askama escapes it in a page.
pub fn html_escape(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

fn html_unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&#47;", "/")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

impl Browser {
    pub fn new() -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                // Browsers always say who they are; the audit trail records it.
                .user_agent("Mozilla/5.0 (idbroker test browser)")
                .build()
                .unwrap(),
            cookies: HashMap::new(),
        }
    }

    /// A browser whose requests reach the broker through a trusted proxy that reports
    /// `ip` as the client address (`X-Forwarded-For`), so that per-IP limits see `ip`.
    pub fn forwarded_for(ip: &str) -> Browser {
        Browser::with_headers(&[("x-forwarded-for", ip)])
    }

    /// A browser that asks for pages in `accept_language` (`Accept-Language`).
    pub fn speaking(accept_language: &str) -> Browser {
        Browser::with_headers(&[("accept-language", accept_language)])
    }

    fn with_headers(pairs: &[(&'static str, &str)]) -> Browser {
        let mut headers = reqwest::header::HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, value.parse().unwrap());
        }
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .user_agent("Mozilla/5.0 (idbroker test browser)")
                .default_headers(headers)
                .build()
                .unwrap(),
            cookies: HashMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn finish(&mut self, resp: reqwest::Response) -> Page {
        for sc in resp.headers().get_all(SET_COOKIE) {
            let sc = sc.to_str().unwrap();
            let pair = sc.split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            let removal = sc.to_ascii_lowercase().contains("max-age=0") || v.is_empty();
            if removal {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        let status = resp.status();
        let headers = resp.headers().clone();
        let location = headers
            .get(LOCATION)
            .map(|v| v.to_str().unwrap().to_owned());
        let body = resp.text().await.unwrap();
        Page {
            status,
            location,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, url: &str) -> Page {
        let resp = self
            .http
            .get(url)
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.finish(resp).await
    }

    pub async fn post(&mut self, url: &str, form: &[(&str, &str)]) -> Page {
        let resp = self
            .http
            .post(url)
            .header(COOKIE, self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        self.finish(resp).await
    }

    /// Follows redirects within `base` until a page, or a redirect leaving `base`.
    /// Posts a form of `page` to `url`: its `tx` and `csrf`, and `fields`.
    pub async fn submit(&mut self, url: &str, page: &Page, fields: &[(&str, &str)]) -> Page {
        let (tx, csrf) = (page.field("tx"), page.field("csrf"));
        let mut form = vec![("tx", tx.as_str()), ("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        self.post(url, &form).await
    }

    pub async fn follow(&mut self, base: &str, mut page: Page) -> Page {
        for _ in 0..10 {
            let Some(loc) = page.location.clone() else {
                return page;
            };
            let next = if loc.starts_with('/') {
                format!("{base}{loc}")
            } else if loc.starts_with(base) {
                loc
            } else {
                return page;
            };
            page = self.get(&next).await;
        }
        panic!("redirect loop");
    }
}

/// Signs `user` in through the login page, starting from an `/authorize` URL, and returns
/// the redirect back to the client (with `code` and `state`).
pub async fn sign_in(
    browser: &mut Browser,
    base: &str,
    authorize_url: &str,
    user: &str,
    password: &str,
) -> Page {
    let first = browser.get(authorize_url).await;
    let page = browser.follow(base, first).await;
    assert_eq!(page.status, StatusCode::OK, "login page: {}", page.body);
    let tx = page.field("tx");
    let csrf = page.field("csrf");
    let step = browser
        .post(
            &format!("{base}/login/identifier"),
            &[("tx", &tx), ("csrf", &csrf), ("identifier", user)],
        )
        .await;
    assert_eq!(step.status, StatusCode::OK, "password step: {}", step.body);
    assert!(step.body.contains("name=\"password\""), "{}", step.body);
    browser
        .post(
            &format!("{base}/login/password"),
            &[("tx", &tx), ("csrf", &csrf), ("password", password)],
        )
        .await
}
