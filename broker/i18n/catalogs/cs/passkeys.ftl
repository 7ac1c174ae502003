passkey-or = nebo
# How the user signed in, on the account page.
passkey-method = Přístupový klíč
passkey-use = Použít přístupový klíč
passkey-error-failed = Tento přístupový klíč nelze použít. Zkuste to znovu nebo se přihlaste jinak.
passkey-unavailable = Přístupové klíče nejsou na tomto serveru k dispozici.
passkey-error-register = Přístupový klíč se nepodařilo přidat. Zkuste to prosím znovu.
passkey-error-not-found = Tento přístupový klíč už neexistuje.
passkey-error-not-fresh = Z bezpečnostních důvodů se před změnou přístupových klíčů znovu přihlaste.
# The name of a passkey its user did not name; $date is when it was added.
passkey-default-name = Přístupový klíč z { $date }
passkeys-title = Přístupové klíče
passkeys-none = Zatím nemáte žádné přístupové klíče.
passkeys-created = přidán
passkeys-last-used = naposledy použit
passkeys-never-used = dosud nepoužit
passkeys-remove = Odebrat
passkeys-name-label = Název nového přístupového klíče (nepovinné)
passkeys-name-placeholder = např. Pracovní notebook
passkeys-add = Přidat přístupový klíč
passkeys-needs-script = Přidání přístupového klíče vyžaduje JavaScript.
passkeys-sign-in-again-hint = Chcete-li přidat nebo odebrat přístupové klíče, nejprve se znovu přihlaste.
passkeys-sign-in-again = Znovu se přihlásit
