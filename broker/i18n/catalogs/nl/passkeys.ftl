passkey-or = of
# How the user signed in, on the account page.
passkey-method = Passkey
passkey-use = Een passkey gebruiken
passkey-error-failed = Die passkey kon niet worden gebruikt. Probeer het opnieuw of meld je op een andere manier aan.
passkey-unavailable = Passkeys zijn op deze server niet beschikbaar.
passkey-error-register = De passkey kon niet worden toegevoegd. Probeer het opnieuw.
passkey-error-not-found = Die passkey bestaat niet meer.
passkey-error-not-fresh = Meld je voor je veiligheid opnieuw aan voordat je je passkeys wijzigt.
# The name of a passkey its user did not name; $date is when it was added.
passkey-default-name = Passkey van { $date }
passkeys-title = Passkeys
passkeys-none = Je hebt nog geen passkeys.
passkeys-created = toegevoegd
passkeys-last-used = laatst gebruikt
passkeys-never-used = nooit gebruikt
passkeys-remove = Verwijderen
passkeys-name-label = Naam van de nieuwe passkey (optioneel)
passkeys-name-placeholder = bijv. Werklaptop
passkeys-add = Een passkey toevoegen
passkeys-needs-script = Voor het toevoegen van een passkey is JavaScript nodig.
passkeys-sign-in-again-hint = Meld je eerst opnieuw aan om passkeys toe te voegen of te verwijderen.
passkeys-sign-in-again = Opnieuw aanmelden
