# The self-service password reset: its page and its mails.
# Arguments are written { $name }; every catalog has the same messages as this one.

## The reset page

reset-title = Passwort zurücksetzen
reset-intro = Geben Sie Ihre E-Mail-Adresse ein. Wenn Sie sich hier mit einem Passwort anmelden, senden wir Ihnen einen Link, mit dem Sie ein neues festlegen können.
reset-email-label = E-Mail-Adresse
reset-send = Link senden
# After the form: the same words whether or not the address has an account.
reset-sent = Wenn sich { $email } hier mit einem Passwort anmelden kann, ist ein Link zum Festlegen eines neuen unterwegs. Er funktioniert einmal, innerhalb von { $minutes } Minuten.
reset-sent-hint = Nach einigen Minuten keine E-Mail? Sehen Sie im Spam-Ordner nach, und prüfen Sie, ob es die Adresse ist, mit der Sie sich anmelden.
reset-back = Zurück zur Anmeldung
reset-error-enter-email = Geben Sie Ihre E-Mail-Adresse ein.
reset-error-too-many = Zu viele Anfragen zum Zurücksetzen. Warten Sie eine Weile, und versuchen Sie es dann erneut.
reset-unavailable = Das Zurücksetzen des Passworts per E-Mail ist hier nicht verfügbar. Bitten Sie Ihren Administrator, Ihr Passwort zurückzusetzen.

## The mails (plain text)

reset-mail-subject = Ihr Passwort für { $product } zurücksetzen
reset-mail-body =
    Jemand hat angefordert, das Passwort von { $email } für { $product } zurückzusetzen.

    Um ein neues Passwort festzulegen, öffnen Sie diesen Link innerhalb von { $minutes } Minuten. Er funktioniert einmal:
    { $link }

    Wenn Sie ein neues Passwort festlegen, werden Sie überall abgemeldet.
    Wenn Sie dies nicht angefordert haben, ignorieren Sie diese E-Mail: Ihr Passwort bleibt unverändert.
reset-mail-sso-subject = So melden Sie sich bei { $product } an
reset-mail-sso-body =
    Jemand hat angefordert, das Passwort von { $email } für { $product } zurückzusetzen.

    Ihr Konto hat hier kein Passwort: Sie melden sich mit dem Konto Ihrer Organisation an, über { $upstream }. Wenn Sie dieses Passwort vergessen haben, wenden Sie sich an die IT Ihrer Organisation.

    Wenn Sie dies nicht angefordert haben, ignorieren Sie diese E-Mail.
