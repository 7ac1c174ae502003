# The admin console (/admin): what administrators read. Organisation ids, emails, audit
# event names and the reasons the broker gives for refusing something are shown as they are,
# through arguments. Arguments are written { $name }; every catalog has the same messages as
# this one.

## Every console page

# The name of the console's menu, read out by screen readers.
console-nav-label = Admin console
console-orgs-title = Organisations
console-audit-title = Audit log
console-new-org-title = New organisation
# Who is signed in, when they are an operator (an administrator of everything).
console-operator = { $email } (operator)
console-sign-out = Sign out

## Words shared by the list of organisations and an organisation's page

console-organisation = Organisation
console-tenant = Tenant
console-consent = Admin consent
console-users = Users
console-sso = Single sign-on
console-last-sync = Last sync
# Where an organisation is defined: created in the console at run time.
console-origin-runtime = created here
# Where an organisation is defined: in the policy file.
console-origin-file = policy file
# A runtime organisation the policy file overrides; $detail says why, as the broker words it.
console-out-of-force = Out of force: the policy file wins. { $detail }
# Admin consent: nothing heard from the tenant yet.
console-consent-not-yet = not yet
# Admin consent was granted; $time is a date and time.
console-consent-granted = granted { $time }
# Admin consent was refused; $error is Microsoft Entra's error code, $time a date and time.
console-consent-refused = refused ({ $error }) { $time }
# The single sign-on setting of an organisation (also the choices of the form).
console-sso-off = off
console-sso-per-user = per user
console-sso-all = all synced users
# Last sync: never synced with the tenant.
console-never = never

## The list of organisations

console-orgs-none = There is no organisation you may administer.

## An organisation's page

# Where the organisation is defined (a label; the next three messages are its values).
console-defined = Defined
console-defined-file = in the policy file (read-only here)
console-defined-here = here, in the console
# A link to the form that changes or deletes a runtime organisation.
console-change-or-delete = change or delete
console-domains = Domains
console-grant-consent = Grant admin consent
console-sync-now = Sync now
console-fetch-users = Fetch users
console-admins = Administrators
# After an administrator's email: where they were made one.
console-admin-in-file = in the policy file
console-admin-granted-here = granted here
console-remove-admin-label = Remove { $email } as an administrator
console-remove-admin = Remove
console-admins-none = None besides the operators.
console-add-admin-label = Add an administrator (email)
console-add-admin = Add administrator
# The heading of the organisation's users; $count is how many.
console-users-count = Users ({ $count })
console-users-none = No user of this organisation is in the directory yet.
console-user = User
console-signs-in-with = Signs in with
console-status-actions = Status and actions
# How a user signs in now.
console-method-sso = single sign-on
console-method-password = password
console-method-none = none
# The per-user single sign-on switch: what a screen reader says, and the button's text.
console-user-sso-on-label = Single sign-on for { $email }: on; switch it off
console-user-sso-on = On · switch off
console-user-sso-off-label = Single sign-on for { $email }: off; switch it on
console-user-sso-off = Off · switch on
# The disable switch: the user is disabled now, and the button enables them.
console-enable-label = Enable { $email }
console-enable = Disabled · enable
# The disable switch: the user is active now, and the button disables them.
console-disable-label = Disable { $email } and sign them out everywhere
console-disable = Active · disable
console-revoke-label = Sign { $email } out everywhere
console-revoke = Sign out everywhere
console-password-link-label = A password link for { $email }
console-password-link-button = Password link
# Shown once, followed by the link itself; $time is a date and time.
console-password-link = A password link, valid once until { $time } — give it to the user over a channel you trust; it is not shown again:

## What a page says after an action

console-done-created = The organisation was created.
console-done-sync = The users were synced with the tenant.
console-done-sso-on = Single sign-on was switched on.
console-done-sso-off = Single sign-on was switched off.
console-done-disabled = The user was disabled and signed out everywhere.
console-done-enabled = The user was enabled.
console-done-revoked = The user was signed out everywhere.
console-done-admin-granted = The administrator was added.
console-done-changed = The organisation's settings were saved.
console-done-deleted = The organisation was deleted; its users stay in the directory.
console-done-admin-removed = The administrator was removed.
# Exactly one user was imported from the tenant.
console-done-imported-one = 1 user imported. Switch single sign-on on for those who should use it.
# Any other number of users imported from the tenant: $count is how many (never 1).
console-done-imported = { $count } users imported. Switch single sign-on on for those who should use it.

## The tenant's users, to import

# The page's title; $organization is the organisation's id.
console-tenant-users-title = Users of the { $organization } tenant
console-tenant-users-heading = Users of the tenant
console-search-label = Name or email starts with
console-search = Search
console-tenant-users-none = No user of the tenant matches.
console-tick-to-import = Tick the users to import
# After a user of the tenant who is already in the directory.
console-imported = imported
console-disabled-in-tenant = disabled in the tenant
console-import-selected = Import selected
console-next-page = Next page
console-import-none = Tick at least one user to import.

## The audit log

console-audit-user-label = User (email or id)
console-audit-event-label = Event starts with
# The filter of the audit log's period, and the column of when each record was written.
console-audit-time = Time
console-period-all = all kept
console-period-1d = last 24 hours
console-period-7d = last 7 days
console-period-30d = last 30 days
console-filter = Filter
console-audit-none = No record matches.
console-audit-event = Event
console-audit-outcome = Outcome
# Who did it (an administrator).
console-audit-by = By
# The user the record is about.
console-audit-user = User
# The IP address the request came from.
console-audit-from = From
console-audit-detail = Detail

## Creating or changing an organisation

# The title of the form of an existing organisation; $organization is its id.
console-settings-title = { $organization }: settings
console-form-intro = The same rules as an organisation of the policy file. One the file defines later wins over this one.
console-settings-not-saved = The settings were not saved:
console-org-not-created = The organisation was not created:
console-id = Id
console-id-hint = Letters, digits, - and _; it names the organisation everywhere.
console-domains-label = Email domains
console-domains-hint = Separated by commas, e.g. contoso.com, contoso.co.uk
# The upstream identity provider the organisation's users sign in through.
console-upstream-label = Sign in through
console-upstream-none = no upstream (passwords only)
console-tenant-label = Entra tenant
console-tenant-hint = The tenant id, or one of the tenant's verified domains.
console-password-fallback = Users with a password may use it instead
console-jit = Create users on their first sign-in (just in time)
console-sync-interval-label = Re-sync every
# Keep the examples (1h, 5m, 30d) as they are: that is what the field takes.
console-sync-interval-hint = Empty for never, or e.g. 1h (5m to 30d).
console-save-settings = Save settings
console-create-org = Create organisation
console-delete-org = Delete organisation { $organization }

## Refusals

console-not-admin-title = Not an administrator
console-not-admin = You are signed in as { $email }, who may not use the admin console. Sign out and sign in as an administrator.
console-forbidden-title = Not allowed
console-forbidden = You may not administer this, or it does not exist.
# The title of a page saying why an action was refused; the reason follows.
console-cannot-title = This cannot be done
console-form-expired = The form expired; go back, reload the page and try again.

## A user's second factors (one-time codes, passkeys)

console-factor-totp = one-time codes
console-factor-passkeys = passkeys: { $count }
console-remove-totp = Remove one-time codes
console-remove-totp-label = Remove the one-time codes of { $email }
console-remove-passkeys = Remove passkeys
console-remove-passkeys-label = Remove the passkeys of { $email }
console-done-totp-removed = The user's one-time codes were removed.
console-done-passkeys-removed = The user's passkeys were removed.
