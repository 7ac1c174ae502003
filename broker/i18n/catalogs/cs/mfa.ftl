# Jednorázové kódy (TOTP) jako druhý faktor: krok s kódem při přihlášení, nastavení, stránka účtu.

## Krok s kódem při přihlášení

mfa-otp-title = Zadejte kód
mfa-otp-label = Kód
mfa-otp-hint = Šestimístný kód z vaší ověřovací aplikace, nebo jeden z vašich záložních kódů.
mfa-verify = Ověřit
mfa-error-wrong-code = Tento kód není správný. Zadejte aktuální kód z ověřovací aplikace, nebo nepoužitý záložní kód.
mfa-error-code-used = Tento kód už byl použit. Počkejte na další kód ve své ověřovací aplikaci.

## Nastavení ověřovací aplikace (při přihlášení a na stránce účtu)

mfa-setup-title = Nastavte ověřovací aplikaci
mfa-setup-required = Pro přihlášení je zde vyžadován druhý krok. Pokračujte nastavením ověřovací aplikace.
mfa-setup-scan = Naskenujte tento QR kód ověřovací aplikací, například Microsoft Authenticator, Google Authenticator nebo správcem hesel. Potom zadejte šestimístný kód, který zobrazí.
mfa-setup-qr-label = QR kód k naskenování ověřovací aplikací
mfa-setup-key = Nejde to naskenovat? Zadejte do aplikace tento klíč:
mfa-setup-link = Odkaz pro nastavení
mfa-setup-code-label = Kód z aplikace
mfa-setup-confirm = Zapnout
mfa-setup-done = Vaše ověřovací aplikace je nastavena.
mfa-setup-expired = Nastavení trvalo příliš dlouho. Začněte je znovu na stránce svého účtu.
mfa-recovery-title = Uložte si záložní kódy
mfa-recovery-intro = Pokud ztratíte telefon, každý z těchto kódů vás jednou přihlásí místo kódu z aplikace. Uložte si je na bezpečné místo: zobrazují se jen nyní.
mfa-continue = Pokračovat

## Stránka účtu

mfa-account-title = Dvoufázové přihlášení
mfa-account-on = Kódy z ověřovací aplikace jsou zapnuté od
mfa-account-off = Přihlašujete se jen heslem. Přidejte kódy z ověřovací aplikace jako druhý krok.
mfa-account-set-up = Nastavit ověřovací aplikaci
mfa-account-remove = Vypnout kódy z ověřovací aplikace
mfa-back-to-account = Zpět na váš účet
# How a session signed in, on the account page.
mfa-method-password-and-code = Heslo a druhý krok
