# One-time codes (TOTP) as a second factor: the login's code step and set-up, the account page.

## The login's code step

mfa-otp-title = Enter your code
mfa-otp-label = Code
mfa-otp-hint = The 6-digit code from your authenticator app, or one of your recovery codes.
mfa-verify = Verify
mfa-error-wrong-code = That code is not right. Enter the current code from your authenticator app, or an unused recovery code.
mfa-error-code-used = This code was already used. Wait for the next code in your authenticator app.

## Setting up an authenticator app (in the login and on the account page)

mfa-setup-title = Set up an authenticator app
mfa-setup-required = A second step is required to sign in here. Set up an authenticator app to continue.
mfa-setup-scan = Scan this QR code with an authenticator app, such as Microsoft Authenticator, Google Authenticator or a password manager. Then enter the 6-digit code it shows.
mfa-setup-qr-label = QR code to scan with your authenticator app
mfa-setup-key = Can’t scan it? Enter this key in the app instead:
mfa-setup-link = Setup link
mfa-setup-code-label = Code from the app
mfa-setup-confirm = Turn on
mfa-setup-done = Your authenticator app is set up.
mfa-setup-expired = The setup took too long. Start it again from your account.
mfa-recovery-title = Save your recovery codes
mfa-recovery-intro = If you lose your phone, each of these codes signs you in once instead of a code from the app. Keep them somewhere safe: they are shown only now.
mfa-continue = Continue

## The account page

mfa-account-title = Two-step sign-in
mfa-account-on = Codes from an authenticator app are on since
mfa-account-off = Your password alone signs you in. Add codes from an authenticator app as a second step.
mfa-account-set-up = Set up an authenticator app
mfa-account-remove = Turn off authenticator codes
mfa-back-to-account = Back to your account
# How a session signed in, on the account page.
mfa-method-password-and-code = Password and a second step
