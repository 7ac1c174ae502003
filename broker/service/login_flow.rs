//! What the login flow's steps share: the page's view, where a step leads, and the messages
//! the user reads. The password and identifier steps (`login.rs`), the upstream leg
//! (`sso.rs`) and the device flow's sign-in (`device.rs`) all answer with these, so they live
//! apart from each of them and none of the three imports another for them.

use url::Url;

pub const MSG_ENTER_EMAIL: &str = "Enter your email address.";
pub const MSG_BAD_CREDENTIALS: &str = "The email address or password is incorrect.";
pub const MSG_TOO_MANY: &str = "Too many attempts. Wait a few minutes, then try again.";
pub const MSG_BUSY: &str = "Sign-in is very busy right now. Wait a moment, then try again.";
pub const MSG_RESTART: &str = "This sign-in has expired or was opened in another browser. Go back to the application and start again.";

/// Which form the login page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Identifier,
    Password,
    /// Password allowed as a fallback: offer both.
    Choice,
}

/// What the login page shows.
#[derive(Debug, Clone)]
pub struct LoginView {
    pub step: Step,
    pub tx: String,
    pub csrf: String,
    /// The identifier typed (password step) or the `login_hint` (identifier step).
    pub identifier: String,
    pub client_name: String,
    /// The upstream's display name, for the choice step.
    pub upstream_name: Option<String>,
    pub error: Option<&'static str>,
    /// Set when the answer is a rate-limit refusal: seconds until retrying makes sense.
    pub retry_after: Option<u64>,
}

/// Where the login goes after a form.
#[derive(Debug)]
pub enum LoginNext {
    /// Show the page again (with an error, or the next step).
    Show(LoginView),
    /// Signed in: set the session cookie and go back to the client.
    Complete {
        redirect: Url,
        session_cookie: String,
    },
    /// Off to the upstream provider.
    Upstream(Url),
    /// Signed in for a device (RFC 8628): show the approve/deny page.
    Device(DeviceConsentView),
    /// The inner step, and a device cookie to set: this browser has just signed in with a
    /// password as the identifier (see [`super::login::DEVICE_COOKIE_TTL`]).
    WithDeviceCookie(Box<LoginNext>, String),
}

/// The approve/deny page after sign-in.
#[derive(Debug, Clone)]
pub struct DeviceConsentView {
    pub tx: String,
    pub csrf: String,
    pub client_name: String,
    pub user_email: String,
    pub user_code: String,
}
