# Eenmalige codes (TOTP) als tweede factor: de codestap bij het aanmelden, het instellen, de accountpagina.

## De codestap bij het aanmelden

mfa-otp-title = Voer je code in
mfa-otp-label = Code
mfa-otp-hint = De 6-cijferige code uit je authenticator-app, of een van je herstelcodes.
mfa-verify = Controleren
mfa-error-wrong-code = Die code klopt niet. Voer de huidige code uit je authenticator-app in, of een ongebruikte herstelcode.
mfa-error-code-used = Deze code is al gebruikt. Wacht op de volgende code in je authenticator-app.

## Een authenticator-app instellen (bij het aanmelden en op de accountpagina)

mfa-setup-title = Stel een authenticator-app in
mfa-setup-required = Hier is een tweede stap nodig om je aan te melden. Stel een authenticator-app in om verder te gaan.
mfa-setup-scan = Scan deze QR-code met een authenticator-app, zoals Microsoft Authenticator, Google Authenticator of een wachtwoordmanager. Voer daarna de 6-cijferige code in die de app toont.
mfa-setup-qr-label = QR-code om te scannen met je authenticator-app
mfa-setup-key = Lukt scannen niet? Voer dan deze sleutel in de app in:
mfa-setup-link = Instellingslink
mfa-setup-code-label = Code uit de app
mfa-setup-confirm = Inschakelen
mfa-setup-done = Je authenticator-app is ingesteld.
mfa-setup-expired = Het instellen duurde te lang. Begin opnieuw vanaf je account.
mfa-recovery-title = Bewaar je herstelcodes
mfa-recovery-intro = Als je je telefoon kwijtraakt, meldt elk van deze codes je één keer aan in plaats van een code uit de app. Bewaar ze op een veilige plek: ze worden alleen nu getoond.
mfa-continue = Doorgaan

## De accountpagina

mfa-account-title = Aanmelden in twee stappen
mfa-account-on = Codes uit een authenticator-app staan aan sinds
mfa-account-off = Je meldt je alleen met je wachtwoord aan. Voeg codes uit een authenticator-app toe als tweede stap.
mfa-account-set-up = Authenticator-app instellen
mfa-account-remove = Authenticator-codes uitschakelen
mfa-back-to-account = Terug naar je account
# How a session signed in, on the account page.
mfa-method-password-and-code = Wachtwoord en een tweede stap
