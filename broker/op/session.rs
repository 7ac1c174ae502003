//! Whether a browser's session may answer an authorization request without a login page.

use super::authorize::Prompt;
use crate::clock::UnixTime;
use crate::directory::{Session, User};

/// What to do with the session the browser presented (if any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionUse {
    /// Issue a code from the session at once (single sign-on).
    Reuse,
    /// Show the login page.
    Login,
    /// `prompt=none` and no usable session: answer `login_required` (OIDC Core §3.1.2.6).
    LoginRequired,
}

/// Is this session still good for this user? Expired, disabled, or revoked after it began
/// (`tokens_valid_after`) all mean no.
pub fn is_live(session: &Session, user: &User, now: UnixTime) -> bool {
    session.expires_at > now && !user.disabled && session.auth.auth_time >= user.tokens_valid_after
}

/// OIDC Core §3.1.2.1 `prompt` and `max_age`: `max_age` elapsed since `auth_time` forces a
/// new authentication, as does `prompt=login`; `prompt=none` never shows a page.
pub fn decide(
    live_session: Option<&Session>,
    prompt: Prompt,
    max_age: Option<u64>,
    now: UnixTime,
) -> SessionUse {
    let fresh_enough =
        |s: &Session| max_age.is_none_or(|m| now.saturating_sub(s.auth.auth_time) <= m);
    match (prompt, live_session) {
        (Prompt::Login, _) => SessionUse::Login,
        (Prompt::None, Some(s)) if fresh_enough(s) => SessionUse::Reuse,
        (Prompt::None, _) => SessionUse::LoginRequired,
        (Prompt::Default, Some(s)) if fresh_enough(s) => SessionUse::Reuse,
        (Prompt::Default, _) => SessionUse::Login,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::Authentication;

    fn session(auth_time: u64) -> Session {
        Session {
            id: "s".into(),
            user_id: "u".into(),
            auth: Authentication {
                auth_time,
                amr: vec!["pwd".into()],
                idp: None,
                organization: None,
                acr: None,
            },
            created_at: auth_time,
            expires_at: auth_time + 3600,
            user_agent: None,
            ip: None,
        }
    }

    #[test]
    fn prompt_and_max_age_table() {
        let s = session(1000);
        let cases = [
            (Some(&s), Prompt::Default, None, 1100, SessionUse::Reuse),
            (None, Prompt::Default, None, 1100, SessionUse::Login),
            (Some(&s), Prompt::Login, None, 1100, SessionUse::Login),
            (Some(&s), Prompt::None, None, 1100, SessionUse::Reuse),
            (None, Prompt::None, None, 1100, SessionUse::LoginRequired),
            (
                Some(&s),
                Prompt::Default,
                Some(100),
                1100,
                SessionUse::Reuse,
            ),
            (Some(&s), Prompt::Default, Some(99), 1100, SessionUse::Login),
            (
                Some(&s),
                Prompt::None,
                Some(99),
                1100,
                SessionUse::LoginRequired,
            ),
            (Some(&s), Prompt::Default, Some(0), 1000, SessionUse::Reuse),
        ];
        for (sess, prompt, max_age, now, want) in cases {
            assert_eq!(
                decide(sess, prompt, max_age, now),
                want,
                "{prompt:?} {max_age:?} {now}"
            );
        }
    }
}
