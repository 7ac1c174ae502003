passkey-or = or
# How the user signed in, on the account page.
passkey-method = Passkey
passkey-use = Use a passkey
passkey-error-failed = That passkey could not be used. Try again, or sign in another way.
passkey-unavailable = Passkeys are not available on this server.
passkey-error-register = The passkey could not be added. Please try again.
passkey-error-not-found = That passkey no longer exists.
passkey-error-not-fresh = For your security, sign in again before you change your passkeys.
# The name of a passkey its user did not name; $date is when it was added.
passkey-default-name = Passkey of { $date }
passkeys-title = Passkeys
passkeys-none = You have no passkeys yet.
passkeys-created = added
passkeys-last-used = last used
passkeys-never-used = never used
passkeys-remove = Remove
passkeys-name-label = Name of the new passkey (optional)
passkeys-name-placeholder = e.g. Work laptop
passkeys-add = Add a passkey
passkeys-needs-script = Adding a passkey needs JavaScript.
passkeys-sign-in-again-hint = To add or remove passkeys, sign in again first.
passkeys-sign-in-again = Sign in again
