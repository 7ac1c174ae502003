//! The broker's cookies. Under HTTPS they carry the `__Host-` prefix (RFC 6265bis §4.1.3.2:
//! `Secure`, `Path=/`, no `Domain`), and always `HttpOnly` and `SameSite=Lax` (Lax, not
//! Strict: the upstream's redirect back to us is a cross-site top-level navigation that
//! must carry the browser binding).

use axum_extra::extract::cookie::{Cookie, SameSite};

use crate::policy::Issuer;

pub struct Names {
    pub session: &'static str,
    pub browser: &'static str,
    pub account: &'static str,
    /// A browser that signed in with a password before (its own password-attempt allowance).
    pub device: &'static str,
    secure: bool,
}

impl Names {
    pub fn for_issuer(issuer: &Issuer) -> Names {
        if issuer.is_https() {
            Names {
                session: "__Host-idb_session",
                browser: "__Host-idb_browser",
                account: "__Host-idb_account",
                device: "__Host-idb_device",
                secure: true,
            }
        } else {
            Names {
                session: "idb_session",
                browser: "idb_browser",
                account: "idb_account",
                device: "idb_device",
                secure: false,
            }
        }
    }

    /// A cookie with the broker's attributes. `max_age: None` makes a browser-session cookie.
    pub fn build(
        &self,
        name: &'static str,
        value: String,
        max_age: Option<u64>,
    ) -> Cookie<'static> {
        let mut c = Cookie::build((name, value))
            .path("/")
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Lax)
            .build();
        if let Some(secs) = max_age {
            c.set_max_age(time_duration(secs));
        }
        c
    }

    /// A cookie that deletes `name`.
    pub fn removal(&self, name: &'static str) -> Cookie<'static> {
        let mut c = self.build(name, String::new(), Some(0));
        c.make_removal();
        c
    }
}

fn time_duration(secs: u64) -> cookie::time::Duration {
    cookie::time::Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX))
}
