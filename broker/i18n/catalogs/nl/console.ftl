# The admin console (/admin): what administrators read. Organisation ids, emails, audit
# event names and the reasons the broker gives for refusing something are shown as they are,
# through arguments. Arguments are written { $name }; every catalog has the same messages as
# this one.

## Every console page

# The name of the console's menu, read out by screen readers.
console-nav-label = Beheerconsole
console-orgs-title = Organisaties
console-audit-title = Auditlogboek
console-new-org-title = Nieuwe organisatie
# Who is signed in, when they are an operator (an administrator of everything).
console-operator = { $email } (operator)
console-sign-out = Afmelden

## Words shared by the list of organisations and an organisation's page

console-organisation = Organisatie
console-tenant = Tenant
console-consent = Beheerderstoestemming
console-users = Gebruikers
console-sso = Eenmalige aanmelding
console-last-sync = Laatste synchronisatie
# Where an organisation is defined: created in the console at run time.
console-origin-runtime = hier gemaakt
# Where an organisation is defined: in the policy file.
console-origin-file = beleidsbestand
# A runtime organisation the policy file overrides; $detail says why, as the broker words it.
console-out-of-force = Niet van kracht: het beleidsbestand gaat voor. { $detail }
# Admin consent: nothing heard from the tenant yet.
console-consent-not-yet = nog niet
# Admin consent was granted; $time is a date and time.
console-consent-granted = verleend op { $time }
# Admin consent was refused; $error is Microsoft Entra's error code, $time a date and time.
console-consent-refused = geweigerd ({ $error }) op { $time }
# The single sign-on setting of an organisation (also the choices of the form).
console-sso-off = uit
console-sso-per-user = per gebruiker
console-sso-all = alle gesynchroniseerde gebruikers
# Last sync: never synced with the tenant.
console-never = nooit

## The list of organisations

console-orgs-none = Er is geen organisatie die je mag beheren.

## An organisation's page

# Where the organisation is defined (a label; the next three messages are its values).
console-defined = Gedefinieerd
console-defined-file = in het beleidsbestand (hier alleen-lezen)
console-defined-here = hier, in de console
# A link to the form that changes or deletes a runtime organisation.
console-change-or-delete = wijzigen of verwijderen
console-domains = Domeinen
console-grant-consent = Beheerderstoestemming verlenen
console-sync-now = Nu synchroniseren
console-fetch-users = Gebruikers ophalen
console-admins = Beheerders
# After an administrator's email: where they were made one.
console-admin-in-file = in het beleidsbestand
console-admin-granted-here = hier toegevoegd
console-remove-admin-label = { $email } verwijderen als beheerder
console-remove-admin = Verwijderen
console-admins-none = Geen, behalve de operators.
console-add-admin-label = Een beheerder toevoegen (e-mail)
console-add-admin = Beheerder toevoegen
# The heading of the organisation's users; $count is how many.
console-users-count = Gebruikers ({ $count })
console-users-none = Er staat nog geen gebruiker van deze organisatie in de directory.
console-user = Gebruiker
console-signs-in-with = Meldt zich aan met
console-status-actions = Status en acties
# How a user signs in now.
console-method-sso = eenmalige aanmelding
console-method-password = wachtwoord
console-method-none = geen
# The per-user single sign-on switch: what a screen reader says, and the button's text.
console-user-sso-on-label = Eenmalige aanmelding voor { $email }: aan; uitschakelen
console-user-sso-on = Aan · uitschakelen
console-user-sso-off-label = Eenmalige aanmelding voor { $email }: uit; inschakelen
console-user-sso-off = Uit · inschakelen
# The disable switch: the user is disabled now, and the button enables them.
console-enable-label = { $email } inschakelen
console-enable = Uitgeschakeld · inschakelen
# The disable switch: the user is active now, and the button disables them.
console-disable-label = { $email } uitschakelen en overal afmelden
console-disable = Actief · uitschakelen
console-revoke-label = { $email } overal afmelden
console-revoke = Overal afmelden
console-password-link-label = Een wachtwoordlink voor { $email }
console-password-link-button = Wachtwoordlink
# Shown once, followed by the link itself; $time is a date and time.
console-password-link = Een wachtwoordlink, eenmalig geldig tot { $time }. Geef deze via een vertrouwd kanaal aan de gebruiker; de link wordt niet opnieuw getoond:

## What a page says after an action

console-done-created = De organisatie is gemaakt.
console-done-sync = De gebruikers zijn gesynchroniseerd met de tenant.
console-done-sso-on = Eenmalige aanmelding is ingeschakeld.
console-done-sso-off = Eenmalige aanmelding is uitgeschakeld.
console-done-disabled = De gebruiker is uitgeschakeld en overal afgemeld.
console-done-enabled = De gebruiker is ingeschakeld.
console-done-revoked = De gebruiker is overal afgemeld.
console-done-admin-granted = De beheerder is toegevoegd.
console-done-changed = De instellingen van de organisatie zijn opgeslagen.
console-done-deleted = De organisatie is verwijderd; de gebruikers blijven in de directory.
console-done-admin-removed = De beheerder is verwijderd.
# Exactly one user was imported from the tenant.
console-done-imported-one = 1 gebruiker geïmporteerd. Schakel eenmalige aanmelding in voor wie die moet gebruiken.
# Any other number of users imported from the tenant: $count is how many (never 1).
console-done-imported = { $count } gebruikers geïmporteerd. Schakel eenmalige aanmelding in voor wie die moet gebruiken.

## The tenant's users, to import

# The page's title; $organization is the organisation's id.
console-tenant-users-title = Gebruikers van de tenant { $organization }
console-tenant-users-heading = Gebruikers van de tenant
console-search-label = Naam of e-mail begint met
console-search = Zoeken
console-tenant-users-none = Er komt geen gebruiker van de tenant overeen.
console-tick-to-import = Vink de gebruikers aan die je wilt importeren
# After a user of the tenant who is already in the directory.
console-imported = geïmporteerd
console-disabled-in-tenant = uitgeschakeld in de tenant
console-import-selected = Selectie importeren
console-next-page = Volgende pagina
console-import-none = Vink minstens één gebruiker aan om te importeren.

## The audit log

console-audit-user-label = Gebruiker (e-mail of ID)
console-audit-event-label = Gebeurtenis begint met
# The filter of the audit log's period, and the column of when each record was written.
console-audit-time = Tijd
console-period-all = alles wat bewaard is
console-period-1d = afgelopen 24 uur
console-period-7d = afgelopen 7 dagen
console-period-30d = afgelopen 30 dagen
console-filter = Filteren
console-audit-none = Er komen geen records overeen.
console-audit-event = Gebeurtenis
console-audit-outcome = Resultaat
# Who did it (an administrator).
console-audit-by = Door
# The user the record is about.
console-audit-user = Gebruiker
# The IP address the request came from.
console-audit-from = Herkomst
console-audit-detail = Details

## Creating or changing an organisation

# The title of the form of an existing organisation; $organization is its id.
console-settings-title = { $organization }: instellingen
console-form-intro = Dezelfde regels als voor een organisatie uit het beleidsbestand. Definieert het bestand later dezelfde organisatie, dan gaat het bestand voor.
console-settings-not-saved = De instellingen zijn niet opgeslagen:
console-org-not-created = De organisatie is niet gemaakt:
console-id = ID
console-id-hint = Letters, cijfers, - en _. De ID duidt de organisatie overal aan.
console-domains-label = E-maildomeinen
console-domains-hint = Gescheiden door komma’s, bijvoorbeeld contoso.com, contoso.co.uk
# The upstream identity provider the organisation's users sign in through.
console-upstream-label = Aanmelden via
console-upstream-none = geen identiteitsprovider (alleen wachtwoorden)
console-tenant-label = Entra-tenant
console-tenant-hint = De tenant-ID of een van de geverifieerde domeinen van de tenant.
console-password-fallback = Gebruikers met een wachtwoord mogen dat in plaats daarvan gebruiken
console-jit = Gebruikers maken bij hun eerste aanmelding (just-in-time)
console-sync-interval-label = Opnieuw synchroniseren elke
# Keep the examples (1h, 5m, 30d) as they are: that is what the field takes.
console-sync-interval-hint = Leeg voor nooit, of bijvoorbeeld 1h (5m tot 30d).
console-save-settings = Instellingen opslaan
console-create-org = Organisatie maken
console-delete-org = Organisatie { $organization } verwijderen

## Refusals

console-not-admin-title = Geen beheerder
console-not-admin = Je bent aangemeld als { $email } en dat account mag de beheerconsole niet gebruiken. Meld je af en meld je aan als beheerder.
console-forbidden-title = Niet toegestaan
console-forbidden = Je mag dit niet beheren, of het bestaat niet.
# The title of a page saying why an action was refused; the reason follows.
console-cannot-title = Dit kan niet
console-form-expired = Het formulier is verlopen. Ga terug, laad de pagina opnieuw en probeer het opnieuw.

## A user's second factors (one-time codes, passkeys)

console-factor-totp = authenticator-codes
console-factor-passkeys = passkeys: { $count }
console-remove-totp = Authenticator-codes verwijderen
console-remove-totp-label = Authenticator-codes van { $email } verwijderen
console-remove-passkeys = Passkeys verwijderen
console-remove-passkeys-label = Passkeys van { $email } verwijderen
console-done-totp-removed = De authenticator-codes van de gebruiker zijn verwijderd.
console-done-passkeys-removed = De passkeys van de gebruiker zijn verwijderd.
