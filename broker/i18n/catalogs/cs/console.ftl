# The admin console (/admin): what administrators read. Organisation ids, emails, audit
# event names and the reasons the broker gives for refusing something are shown as they are,
# through arguments. Arguments are written { $name }; every catalog has the same messages as
# this one.

## Every console page

# The name of the console's menu, read out by screen readers.
console-nav-label = Konzole pro správu
console-orgs-title = Organizace
console-audit-title = Protokol auditu
console-new-org-title = Nová organizace
# Who is signed in, when they are an operator (an administrator of everything).
console-operator = { $email } (operátor)
console-sign-out = Odhlásit se

## Words shared by the list of organisations and an organisation's page

console-organisation = Organizace
console-tenant = Tenant
console-consent = Souhlas správce
console-users = Uživatelé
console-sso = Jednotné přihlášení
console-last-sync = Poslední synchronizace
# Where an organisation is defined: created in the console at run time.
console-origin-runtime = vytvořena zde
# Where an organisation is defined: in the policy file.
console-origin-file = soubor zásad
# A runtime organisation the policy file overrides; $detail says why, as the broker words it.
console-out-of-force = Neplatí: přednost má soubor zásad. { $detail }
# Admin consent: nothing heard from the tenant yet.
console-consent-not-yet = zatím ne
# Admin consent was granted; $time is a date and time.
console-consent-granted = udělen { $time }
# Admin consent was refused; $error is Microsoft Entra's error code, $time a date and time.
console-consent-refused = odmítnut ({ $error }) { $time }
# The single sign-on setting of an organisation (also the choices of the form).
console-sso-off = vypnuto
console-sso-per-user = podle uživatele
console-sso-all = všichni synchronizovaní uživatelé
# Last sync: never synced with the tenant.
console-never = nikdy

## The list of organisations

console-orgs-none = Nemáte žádnou organizaci, kterou byste mohli spravovat.

## An organisation's page

# Where the organisation is defined (a label; the next three messages are its values).
console-defined = Definována
console-defined-file = v souboru zásad (zde jen pro čtení)
console-defined-here = zde, v konzoli
# A link to the form that changes or deletes a runtime organisation.
console-change-or-delete = změnit nebo odstranit
console-domains = Domény
console-grant-consent = Udělit souhlas správce
console-sync-now = Synchronizovat
console-fetch-users = Načíst uživatele
console-admins = Správci
# After an administrator's email: where they were made one.
console-admin-in-file = v souboru zásad
console-admin-granted-here = přidán zde
console-remove-admin-label = Odebrat { $email } ze správců
console-remove-admin = Odebrat
console-admins-none = Žádní kromě operátorů.
console-add-admin-label = Přidat správce (e-mail)
console-add-admin = Přidat správce
# The heading of the organisation's users; $count is how many.
console-users-count = Uživatelé ({ $count })
console-users-none = V adresáři zatím není žádný uživatel této organizace.
console-user = Uživatel
console-signs-in-with = Způsob přihlášení
console-status-actions = Stav a akce
# How a user signs in now.
console-method-sso = jednotné přihlášení
console-method-password = heslo
console-method-none = žádný
# The per-user single sign-on switch: what a screen reader says, and the button's text.
console-user-sso-on-label = Jednotné přihlášení pro { $email }: zapnuto; vypnout
console-user-sso-on = Zapnuto · vypnout
console-user-sso-off-label = Jednotné přihlášení pro { $email }: vypnuto; zapnout
console-user-sso-off = Vypnuto · zapnout
# The disable switch: the user is disabled now, and the button enables them.
console-enable-label = Povolit uživatele { $email }
console-enable = Zakázán · povolit
# The disable switch: the user is active now, and the button disables them.
console-disable-label = Zakázat uživatele { $email } a všude ho odhlásit
console-disable = Aktivní · zakázat
console-revoke-label = Odhlásit uživatele { $email } všude
console-revoke = Odhlásit všude
console-password-link-label = Odkaz na nastavení hesla pro uživatele { $email }
console-password-link-button = Odkaz na heslo
# Shown once, followed by the link itself; $time is a date and time.
console-password-link = Odkaz na nastavení hesla, jednorázově platný do { $time }. Předejte ho uživateli důvěryhodnou cestou; znovu se už nezobrazí:

## What a page says after an action

console-done-created = Organizace byla vytvořena.
console-done-sync = Uživatelé byli synchronizováni s tenantem.
console-done-sso-on = Jednotné přihlášení bylo zapnuto.
console-done-sso-off = Jednotné přihlášení bylo vypnuto.
console-done-disabled = Uživatel byl zakázán a všude odhlášen.
console-done-enabled = Uživatel byl povolen.
console-done-revoked = Uživatel byl všude odhlášen.
console-done-admin-granted = Správce byl přidán.
console-done-changed = Nastavení organizace bylo uloženo.
console-done-deleted = Organizace byla odstraněna; její uživatelé zůstávají v adresáři.
console-done-admin-removed = Správce byl odebrán.
# Exactly one user was imported from the tenant.
console-done-imported-one = Byl importován 1 uživatel. Zapněte jednotné přihlášení těm, kdo ho mají používat.
# Any other number of users imported from the tenant: $count is how many (never 1).
console-done-imported = Počet importovaných uživatelů: { $count }. Zapněte jednotné přihlášení těm, kdo ho mají používat.

## The tenant's users, to import

# The page's title; $organization is the organisation's id.
console-tenant-users-title = Uživatelé tenanta { $organization }
console-tenant-users-heading = Uživatelé tenanta
console-search-label = Jméno nebo e-mail začíná na
console-search = Hledat
console-tenant-users-none = Hledání neodpovídá žádný uživatel tenanta.
console-tick-to-import = Zaškrtněte uživatele, které chcete importovat
# After a user of the tenant who is already in the directory.
console-imported = importován
console-disabled-in-tenant = v tenantovi zakázán
console-import-selected = Importovat vybrané
console-next-page = Další stránka
console-import-none = Zaškrtněte alespoň jednoho uživatele k importu.

## The audit log

console-audit-user-label = Uživatel (e-mail nebo ID)
console-audit-event-label = Událost začíná na
# The filter of the audit log's period, and the column of when each record was written.
console-audit-time = Čas
console-period-all = vše uchované
console-period-1d = posledních 24 hodin
console-period-7d = posledních 7 dní
console-period-30d = posledních 30 dní
console-filter = Filtrovat
console-audit-none = Žádný záznam neodpovídá.
console-audit-event = Událost
console-audit-outcome = Výsledek
# Who did it (an administrator).
console-audit-by = Provedl
# The user the record is about.
console-audit-user = Uživatel
# The IP address the request came from.
console-audit-from = Zdroj
console-audit-detail = Podrobnosti

## Creating or changing an organisation

# The title of the form of an existing organisation; $organization is its id.
console-settings-title = { $organization }: nastavení
console-form-intro = Platí stejná pravidla jako pro organizaci ze souboru zásad. Pokud soubor později definuje stejnou organizaci, má přednost soubor.
console-settings-not-saved = Nastavení nebylo uloženo:
console-org-not-created = Organizace nebyla vytvořena:
console-id = ID
console-id-hint = Písmena, číslice, - a _. ID označuje organizaci všude.
console-domains-label = E-mailové domény
console-domains-hint = Oddělené čárkami, např. contoso.com, contoso.co.uk
# The upstream identity provider the organisation's users sign in through.
console-upstream-label = Přihlašování přes
console-upstream-none = žádný poskytovatel identity (jen hesla)
console-tenant-label = Tenant Entra
console-tenant-hint = ID tenanta nebo některá z jeho ověřených domén.
console-password-fallback = Uživatelé s heslem ho mohou použít místo toho
console-jit = Vytvářet uživatele při jejich prvním přihlášení (just-in-time)
console-sync-interval-label = Interval opětovné synchronizace
# Keep the examples (1h, 5m, 30d) as they are: that is what the field takes.
console-sync-interval-hint = Prázdné pole znamená nikdy, jinak např. 1h (5m až 30d).
console-save-settings = Uložit nastavení
console-create-org = Vytvořit organizaci
console-delete-org = Odstranit organizaci { $organization }

## Refusals

console-not-admin-title = Nejste správce
console-not-admin = Jste přihlášeni jako { $email } a tento účet nemůže používat konzoli pro správu. Odhlaste se a přihlaste se jako správce.
console-forbidden-title = Nepovoleno
console-forbidden = Toto nemůžete spravovat, nebo to neexistuje.
# The title of a page saying why an action was refused; the reason follows.
console-cannot-title = Tuto akci nelze provést
console-form-expired = Platnost formuláře vypršela. Vraťte se zpět, obnovte stránku a zkuste to znovu.

## A user's second factors (one-time codes, passkeys)

console-factor-totp = kódy z ověřovací aplikace
console-factor-passkeys = přístupové klíče: { $count }
console-remove-totp = Odebrat kódy z ověřovací aplikace
console-remove-totp-label = Odebrat kódy z ověřovací aplikace uživatele { $email }
console-remove-passkeys = Odebrat přístupové klíče
console-remove-passkeys-label = Odebrat přístupové klíče uživatele { $email }
console-done-totp-removed = Kódy z ověřovací aplikace uživatele byly odebrány.
console-done-passkeys-removed = Přístupové klíče uživatele byly odebrány.
