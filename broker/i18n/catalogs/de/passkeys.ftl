passkey-or = oder
# How the user signed in, on the account page.
passkey-method = Passkey
passkey-use = Passkey verwenden
passkey-error-failed = Dieser Passkey konnte nicht verwendet werden. Versuchen Sie es erneut oder melden Sie sich anders an.
passkey-unavailable = Passkeys sind auf diesem Server nicht verfügbar.
passkey-error-register = Der Passkey konnte nicht hinzugefügt werden. Bitte versuchen Sie es erneut.
passkey-error-not-found = Diesen Passkey gibt es nicht mehr.
passkey-error-not-fresh = Melden Sie sich zu Ihrer Sicherheit erneut an, bevor Sie Ihre Passkeys ändern.
# The name of a passkey its user did not name; $date is when it was added.
passkey-default-name = Passkey vom { $date }
passkeys-title = Passkeys
passkeys-none = Sie haben noch keine Passkeys.
passkeys-created = hinzugefügt
passkeys-last-used = zuletzt verwendet
passkeys-never-used = nie verwendet
passkeys-remove = Entfernen
passkeys-name-label = Name des neuen Passkeys (optional)
passkeys-name-placeholder = z. B. Arbeitslaptop
passkeys-add = Passkey hinzufügen
passkeys-needs-script = Zum Hinzufügen eines Passkeys wird JavaScript benötigt.
passkeys-sign-in-again-hint = Um Passkeys hinzuzufügen oder zu entfernen, melden Sie sich zuerst erneut an.
passkeys-sign-in-again = Erneut anmelden
