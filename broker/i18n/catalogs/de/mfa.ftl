# Einmalcodes (TOTP) als zweiter Faktor: der Code-Schritt der Anmeldung, die Einrichtung, die Kontoseite.

## Der Code-Schritt der Anmeldung

mfa-otp-title = Code eingeben
mfa-otp-label = Code
mfa-otp-hint = Der 6-stellige Code aus Ihrer Authenticator-App oder einer Ihrer Wiederherstellungscodes.
mfa-verify = Bestätigen
mfa-error-wrong-code = Dieser Code ist nicht richtig. Geben Sie den aktuellen Code aus Ihrer Authenticator-App oder einen unbenutzten Wiederherstellungscode ein.
mfa-error-code-used = Dieser Code wurde bereits verwendet. Warten Sie auf den nächsten Code in Ihrer Authenticator-App.

## Eine Authenticator-App einrichten (bei der Anmeldung und auf der Kontoseite)

mfa-setup-title = Authenticator-App einrichten
mfa-setup-required = Für die Anmeldung hier ist ein zweiter Schritt erforderlich. Richten Sie eine Authenticator-App ein, um fortzufahren.
mfa-setup-scan = Scannen Sie diesen QR-Code mit einer Authenticator-App, etwa Microsoft Authenticator, Google Authenticator oder einem Passwortmanager. Geben Sie dann den 6-stelligen Code ein, den sie anzeigt.
mfa-setup-qr-label = QR-Code zum Scannen mit Ihrer Authenticator-App
mfa-setup-key = Scannen nicht möglich? Geben Sie stattdessen diesen Schlüssel in der App ein:
mfa-setup-link = Einrichtungslink
mfa-setup-code-label = Code aus der App
mfa-setup-confirm = Einschalten
mfa-setup-done = Ihre Authenticator-App ist eingerichtet.
mfa-setup-expired = Die Einrichtung hat zu lange gedauert. Beginnen Sie sie auf Ihrer Kontoseite erneut.
mfa-recovery-title = Wiederherstellungscodes speichern
mfa-recovery-intro = Wenn Sie Ihr Telefon verlieren, meldet Sie jeder dieser Codes einmal an, anstelle eines Codes aus der App. Bewahren Sie sie sicher auf: Sie werden nur jetzt angezeigt.
mfa-continue = Weiter

## Die Kontoseite

mfa-account-title = Anmeldung in zwei Schritten
mfa-account-on = Codes aus einer Authenticator-App sind eingeschaltet seit
mfa-account-off = Sie melden sich nur mit Ihrem Passwort an. Fügen Sie Codes aus einer Authenticator-App als zweiten Schritt hinzu.
mfa-account-set-up = Authenticator-App einrichten
mfa-account-remove = Authenticator-Codes ausschalten
mfa-back-to-account = Zurück zu Ihrem Konto
# How a session signed in, on the account page.
mfa-method-password-and-code = Passwort und ein zweiter Schritt
