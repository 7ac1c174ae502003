# The pages a user sees: sign-in, account, devices, sign-out, password, errors.
# Arguments are written { $name }; every catalog has the same messages as this one.

## Every page

footer-privacy = Privacy
footer-terms = Terms of use
footer-help = Help
# Alternative text of a logo image.
logo-alt = { $name }
# A date and time in UTC. $month is 1 to 12; $hour and $minute have two digits.
date-time = { $month ->
        [1] January
        [2] February
        [3] March
        [4] April
        [5] May
        [6] June
        [7] July
        [8] August
        [9] September
        [10] October
        [11] November
       *[12] December
    } { $day }, { $year }, { $hour }:{ $minute } UTC
date-unknown = unknown

## The login page

login-title = Sign in
login-to-continue = to continue to { $client }
login-email-label = Email address
login-next = Next
login-password-title = Enter your password
login-password-label = Password
login-sign-in = Sign in
login-forgot-password = Forgot password?
login-different-account = Use a different account
login-continue-with = Continue with { $upstream }
login-your-organisation = your organisation
login-or-password = or use your password
login-sign-in-with-password = Sign in with password
login-error-enter-email = Enter your email address.
login-error-bad-credentials = The email address or password is incorrect.
login-error-too-many = Too many attempts. Wait a few minutes, then try again.
login-error-busy = Sign-in is very busy right now. Wait a moment, then try again.
login-no-request = Sign-in starts at the application you want to use. To see your account here, open your account page.
login-go-to-account = Go to your account
# The account page's own sign-in, read as "to continue to your account".
login-your-account = your account

## Error pages

error-title = Sign-in could not continue
# A technical detail from the application's request, shown as it is.
error-detail = { $detail }
error-restart = This sign-in has expired or was opened in another browser. Go back to the application and start again.
error-session-ended = Your session ended; please sign in again.
error-form-expired = The form expired; please try again.
error-form-unreadable = The form could not be read. Go back and try again.
error-address-malformed = The address is malformed (a parameter is repeated or invalid).
error-too-many-title = Too many attempts
error-too-many = Wait a few minutes, then try again.
error-store-title = Sign-in is unavailable right now
error-store = The sign-in service cannot reach its database. Try again in a minute.
error-internal-title = Something went wrong
error-internal = The sign-in service could not complete your request. Try again.
error-busy-title = Very busy right now
error-busy = The service is very busy. Wait a moment, then try again.
error-unavailable-title = Unavailable right now
error-unavailable = The service cannot reach its database. Try again in a minute.
error-request-failed = The request could not be completed. Try again.
error-not-found-title = Not found
error-not-found = There is nothing at this address.
error-invalid-request-title = This sign-in request is not valid
authorize-no-client-id = The request has no client_id.
authorize-unknown-client = The application that sent you here is not registered with this sign-in service.
authorize-no-redirect-uri = The request has no redirect_uri.
error-unregistered-redirect = The application asked to return to an address that is not registered for it.
error-upstream-unavailable-title = { $upstream } sign-in is unavailable right now
error-upstream-unavailable = Try again in a few minutes. If it keeps happening, contact your administrator.
error-upstream-keys = The organisation's sign-in keys cannot be fetched; retry later.
error-upstream-refused-title = { $upstream } sign-in did not complete
error-upstream-cancelled = The sign-in was cancelled or refused. Go back to the application and try again.
error-upstream-not-set-up = Your account is not set up for sign-in here. Contact your administrator.
error-upstream-unverified = The answer from your organisation's sign-in could not be verified. Go back to the application and try again.

## The account page

account-title = Your account
account-name = Name
account-email = Email
account-organisation = Organisation
account-method = Signed in with
account-signed-in-at = Signed in at
account-user-id = User id
account-sessions = Active sessions
# Before the date a session started: "since 5 December 2026, 11:02 UTC".
account-since = since
account-this-browser = (this browser)
account-sign-out = Sign out
account-sign-out-everywhere = Sign out everywhere
account-unavailable = The account page is not available.
account-sign-in-expired = The sign-in expired. Open your account page again.
account-bad-issuer-title = Sign-in unavailable
account-bad-issuer = The issuer URL is not valid.
account-callback-title = Sign-in did not complete
account-callback-failed = The sign-in ended with: { $error }
method-password = Password
method-sso = Single sign-on ({ $upstream })
method-sso-plain = Single sign-on
# A browser and its system on the list of sessions, e.g. "Chrome on Linux".
user-agent = { $browser } on { $os }
user-agent-unknown = Unknown browser
signed-out-title = You are signed out
signed-out = You have been signed out of { $product }.
sign-in-again = Sign in again

## Devices (RFC 8628)

device-title = Connect a device
device-intro = Enter the code shown on your device. Only enter a code you got from a device you are setting up yourself.
device-code-label = Code
device-continue = Continue
device-bad-code = That code is not valid or has expired. Check the code shown on your device.
device-gone = This device sign-in has expired or was already answered. Start again on your device.
device-consent-title = Allow { $client }?
device-consent-text = { $client } on a device showing this code asks to sign in as { $email }:
device-consent-hint = Allow it only if you started this sign-in on that device yourself.
device-allow = Allow
device-deny = Deny
device-connected-title = Device connected
device-connected = You are signed in on your device. You can close this window.
device-denied-title = Device not connected
device-denied = You denied the request. Nothing was signed in.

## Signing out

logout-title = Sign out?
logout-client-asks = { $client } asks to sign you out.
logout-question = Do you want to sign out?
logout-button = Sign out
logout-invalid-title = Sign-out request not valid
logout-bad-hint = The sign-out request carried an invalid ID token.
logout-two-clients = The sign-out request names two different applications.
logout-no-client = The sign-out request does not say which application it comes from.

## Setting a password (a link from an administrator)

password-set-title = Set your password
password-new = New password
password-repeat = Repeat the new password
password-rule = At least { $min } characters.
password-set-button = Set password
password-set-done-title = Password set
password-set-done = Your password is set. You can now sign in with it.
password-link-unusable-title = This link cannot be used
password-link-gone = This link has expired or was already used.
password-too-short = The password needs at least { $min } characters.
password-too-long = The password may have at most { $max } bytes.
password-differ = The two passwords differ.

## Admin consent (Microsoft Entra sends the administrator back here)

consent-granted-title = Consent granted
consent-granted = Admin consent was granted for { $organization }. The broker can now read this tenant's users; you can close this page.
consent-back = Back to the organisation in the admin console
consent-not-granted-title = Consent was not granted
consent-not-granted = Microsoft Entra did not grant consent for { $organization }: { $error }. { $description }
consent-not-recorded-title = Consent not recorded
consent-no-state = This consent response has no valid state. Start again from a new consent link.
consent-link-gone = This consent link has expired or was already used. Create a new consent link.
consent-not-reported = Microsoft did not report that consent was granted. Try the consent link again.
consent-wrong-tenant = Consent was granted in a different Microsoft Entra tenant than this organisation's. Sign in to the organisation's own tenant and use a new consent link.
