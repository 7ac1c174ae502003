# The admin console (/admin): what administrators read. Organisation ids, emails, audit
# event names and the reasons the broker gives for refusing something are shown as they are,
# through arguments. Arguments are written { $name }; every catalog has the same messages as
# this one.

## Every console page

# The name of the console's menu, read out by screen readers.
console-nav-label = Verwaltungskonsole
console-orgs-title = Organisationen
console-audit-title = Überwachungsprotokoll
console-new-org-title = Neue Organisation
# Who is signed in, when they are an operator (an administrator of everything).
console-operator = { $email } (Betreiber)
console-sign-out = Abmelden

## Words shared by the list of organisations and an organisation's page

console-organisation = Organisation
console-tenant = Mandant
console-consent = Administratorzustimmung
console-users = Benutzer
console-sso = Single Sign-On
console-last-sync = Letzte Synchronisierung
# Where an organisation is defined: created in the console at run time.
console-origin-runtime = hier erstellt
# Where an organisation is defined: in the policy file.
console-origin-file = Richtliniendatei
# A runtime organisation the policy file overrides; $detail says why, as the broker words it.
console-out-of-force = Nicht wirksam: Die Richtliniendatei hat Vorrang. { $detail }
# Admin consent: nothing heard from the tenant yet.
console-consent-not-yet = noch nicht
# Admin consent was granted; $time is a date and time.
console-consent-granted = erteilt am { $time }
# Admin consent was refused; $error is Microsoft Entra's error code, $time a date and time.
console-consent-refused = abgelehnt ({ $error }) am { $time }
# The single sign-on setting of an organisation (also the choices of the form).
console-sso-off = aus
console-sso-per-user = pro Benutzer
console-sso-all = alle synchronisierten Benutzer
# Last sync: never synced with the tenant.
console-never = nie

## The list of organisations

console-orgs-none = Es gibt keine Organisation, die Sie verwalten dürfen.

## An organisation's page

# Where the organisation is defined (a label; the next three messages are its values).
console-defined = Definiert
console-defined-file = in der Richtliniendatei (hier schreibgeschützt)
console-defined-here = hier in der Konsole
# A link to the form that changes or deletes a runtime organisation.
console-change-or-delete = ändern oder löschen
console-domains = Domänen
console-grant-consent = Administratorzustimmung erteilen
console-sync-now = Jetzt synchronisieren
console-fetch-users = Benutzer abrufen
console-admins = Administratoren
# After an administrator's email: where they were made one.
console-admin-in-file = in der Richtliniendatei
console-admin-granted-here = hier ernannt
console-remove-admin-label = { $email } als Administrator entfernen
console-remove-admin = Entfernen
console-admins-none = Keine außer den Betreibern.
console-add-admin-label = Administrator hinzufügen (E-Mail)
console-add-admin = Administrator hinzufügen
# The heading of the organisation's users; $count is how many.
console-users-count = Benutzer ({ $count })
console-users-none = Es ist noch kein Benutzer dieser Organisation im Verzeichnis.
console-user = Benutzer
console-signs-in-with = Anmeldung mit
console-status-actions = Status und Aktionen
# How a user signs in now.
console-method-sso = Single Sign-On
console-method-password = Passwort
console-method-none = keine
# The per-user single sign-on switch: what a screen reader says, and the button's text.
console-user-sso-on-label = Single Sign-On für { $email }: ein; ausschalten
console-user-sso-on = Ein · ausschalten
console-user-sso-off-label = Single Sign-On für { $email }: aus; einschalten
console-user-sso-off = Aus · einschalten
# The disable switch: the user is disabled now, and the button enables them.
console-enable-label = { $email } aktivieren
console-enable = Deaktiviert · aktivieren
# The disable switch: the user is active now, and the button disables them.
console-disable-label = { $email } deaktivieren und überall abmelden
console-disable = Aktiv · deaktivieren
console-revoke-label = { $email } überall abmelden
console-revoke = Überall abmelden
console-password-link-label = Passwortlink für { $email }
console-password-link-button = Passwortlink
# Shown once, followed by the link itself; $time is a date and time.
console-password-link = Ein Passwortlink, einmalig gültig bis { $time }. Geben Sie ihn über einen vertrauenswürdigen Kanal an den Benutzer weiter; er wird nicht erneut angezeigt:

## What a page says after an action

console-done-created = Die Organisation wurde erstellt.
console-done-sync = Die Benutzer wurden mit dem Mandanten synchronisiert.
console-done-sso-on = Single Sign-On wurde eingeschaltet.
console-done-sso-off = Single Sign-On wurde ausgeschaltet.
console-done-disabled = Der Benutzer wurde deaktiviert und überall abgemeldet.
console-done-enabled = Der Benutzer wurde aktiviert.
console-done-revoked = Der Benutzer wurde überall abgemeldet.
console-done-admin-granted = Der Administrator wurde hinzugefügt.
console-done-changed = Die Einstellungen der Organisation wurden gespeichert.
console-done-deleted = Die Organisation wurde gelöscht; ihre Benutzer bleiben im Verzeichnis.
console-done-admin-removed = Der Administrator wurde entfernt.
# Exactly one user was imported from the tenant.
console-done-imported-one = 1 Benutzer importiert. Schalten Sie Single Sign-On für die Benutzer ein, die es verwenden sollen.
# Any other number of users imported from the tenant: $count is how many (never 1).
console-done-imported = { $count } Benutzer importiert. Schalten Sie Single Sign-On für die Benutzer ein, die es verwenden sollen.

## The tenant's users, to import

# The page's title; $organization is the organisation's id.
console-tenant-users-title = Benutzer des Mandanten { $organization }
console-tenant-users-heading = Benutzer des Mandanten
console-search-label = Name oder E-Mail beginnt mit
console-search = Suchen
console-tenant-users-none = Kein Benutzer des Mandanten entspricht der Suche.
console-tick-to-import = Wählen Sie die zu importierenden Benutzer aus
# After a user of the tenant who is already in the directory.
console-imported = importiert
console-disabled-in-tenant = im Mandanten deaktiviert
console-import-selected = Auswahl importieren
console-next-page = Nächste Seite
console-import-none = Wählen Sie mindestens einen Benutzer zum Importieren aus.

## The audit log

console-audit-user-label = Benutzer (E-Mail oder ID)
console-audit-event-label = Ereignis beginnt mit
# The filter of the audit log's period, and the column of when each record was written.
console-audit-time = Zeitpunkt
console-period-all = alle gespeicherten
console-period-1d = letzte 24 Stunden
console-period-7d = letzte 7 Tage
console-period-30d = letzte 30 Tage
console-filter = Filtern
console-audit-none = Keine passenden Einträge.
console-audit-event = Ereignis
console-audit-outcome = Ergebnis
# Who did it (an administrator).
console-audit-by = Ausgeführt von
# The user the record is about.
console-audit-user = Benutzer
# The IP address the request came from.
console-audit-from = Herkunft
console-audit-detail = Details

## Creating or changing an organisation

# The title of the form of an existing organisation; $organization is its id.
console-settings-title = { $organization }: Einstellungen
console-form-intro = Es gelten dieselben Regeln wie für eine Organisation der Richtliniendatei. Definiert die Datei später dieselbe Organisation, hat die Datei Vorrang.
console-settings-not-saved = Die Einstellungen wurden nicht gespeichert:
console-org-not-created = Die Organisation wurde nicht erstellt:
console-id = ID
console-id-hint = Buchstaben, Ziffern, - und _. Die ID bezeichnet die Organisation überall.
console-domains-label = E-Mail-Domänen
console-domains-hint = Durch Kommas getrennt, z. B. contoso.com, contoso.co.uk
# The upstream identity provider the organisation's users sign in through.
console-upstream-label = Anmeldung über
console-upstream-none = kein Identitätsanbieter (nur Passwörter)
console-tenant-label = Entra-Mandant
console-tenant-hint = Die Mandanten-ID oder eine der verifizierten Domänen des Mandanten.
console-password-fallback = Benutzer mit Passwort dürfen stattdessen ihr Passwort verwenden
console-jit = Benutzer bei ihrer ersten Anmeldung erstellen (Just-in-Time)
console-sync-interval-label = Erneut synchronisieren alle
# Keep the examples (1h, 5m, 30d) as they are: that is what the field takes.
console-sync-interval-hint = Leer für nie, oder z. B. 1h (5m bis 30d).
console-save-settings = Einstellungen speichern
console-create-org = Organisation erstellen
console-delete-org = Organisation { $organization } löschen

## Refusals

console-not-admin-title = Kein Administrator
console-not-admin = Sie sind als { $email } angemeldet. Dieses Konto darf die Verwaltungskonsole nicht verwenden. Melden Sie sich ab, und melden Sie sich als Administrator an.
console-forbidden-title = Nicht zulässig
console-forbidden = Sie dürfen dies nicht verwalten, oder es ist nicht vorhanden.
# The title of a page saying why an action was refused; the reason follows.
console-cannot-title = Dies ist nicht möglich
console-form-expired = Das Formular ist abgelaufen. Gehen Sie zurück, laden Sie die Seite neu, und versuchen Sie es erneut.

## A user's second factors (one-time codes, passkeys)

console-factor-totp = Authenticator-Codes
console-factor-passkeys = Passkeys: { $count }
console-remove-totp = Authenticator-Codes entfernen
console-remove-totp-label = Authenticator-Codes von { $email } entfernen
console-remove-passkeys = Passkeys entfernen
console-remove-passkeys-label = Passkeys von { $email } entfernen
console-done-totp-removed = Die Authenticator-Codes des Benutzers wurden entfernt.
console-done-passkeys-removed = Die Passkeys des Benutzers wurden entfernt.
