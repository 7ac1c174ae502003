# The pages a user sees: sign-in, account, devices, sign-out, password, errors.
# Arguments are written { $name }; every catalog has the same messages as this one.

## Every page

footer-privacy = Datenschutz
footer-terms = Nutzungsbedingungen
footer-help = Hilfe
# Alternative text of a logo image.
logo-alt = { $name }
# A date and time in UTC. $month is 1 to 12; $hour and $minute have two digits.
date-time = { $day }. { $month ->
        [1] Januar
        [2] Februar
        [3] März
        [4] April
        [5] Mai
        [6] Juni
        [7] Juli
        [8] August
        [9] September
        [10] Oktober
        [11] November
       *[12] Dezember
    } { $year }, { $hour }:{ $minute } UTC
date-unknown = unbekannt

## The login page

login-title = Anmelden
login-to-continue = Weiter zu { $client }
login-email-label = E-Mail-Adresse
login-next = Weiter
login-password-title = Passwort eingeben
login-password-label = Passwort
login-sign-in = Anmelden
login-forgot-password = Passwort vergessen?
login-different-account = Anderes Konto verwenden
login-continue-with = Weiter mit { $upstream }
login-your-organisation = Ihrer Organisation
login-or-password = oder mit Ihrem Passwort
login-sign-in-with-password = Mit Passwort anmelden
login-error-enter-email = Geben Sie Ihre E-Mail-Adresse ein.
login-error-bad-credentials = Die E-Mail-Adresse oder das Passwort ist falsch.
login-error-too-many = Zu viele Versuche. Warten Sie einige Minuten, und versuchen Sie es dann erneut.
login-error-busy = Die Anmeldung ist gerade stark ausgelastet. Warten Sie einen Moment, und versuchen Sie es dann erneut.
login-no-request = Die Anmeldung beginnt in der Anwendung, die Sie verwenden möchten. Um Ihr Konto hier anzuzeigen, öffnen Sie Ihre Kontoseite.
login-go-to-account = Zu Ihrem Konto
# The account page's own sign-in, read as "to continue to your account".
login-your-account = Ihrem Konto

## Error pages

error-title = Die Anmeldung konnte nicht fortgesetzt werden
# A technical detail from the application's request, shown as it is.
error-detail = { $detail }
error-restart = Diese Anmeldung ist abgelaufen oder wurde in einem anderen Browser geöffnet. Kehren Sie zur Anwendung zurück, und beginnen Sie von vorn.
error-session-ended = Ihre Sitzung wurde beendet. Bitte melden Sie sich erneut an.
error-form-expired = Das Formular ist abgelaufen. Bitte versuchen Sie es erneut.
error-form-unreadable = Das Formular konnte nicht gelesen werden. Gehen Sie zurück, und versuchen Sie es erneut.
error-address-malformed = Die Adresse ist fehlerhaft (ein Parameter ist doppelt vorhanden oder ungültig).
error-too-many-title = Zu viele Versuche
error-too-many = Warten Sie einige Minuten, und versuchen Sie es dann erneut.
error-store-title = Die Anmeldung ist zurzeit nicht verfügbar
error-store = Der Anmeldedienst kann seine Datenbank nicht erreichen. Versuchen Sie es in einer Minute erneut.
error-internal-title = Ein Fehler ist aufgetreten
error-internal = Der Anmeldedienst konnte Ihre Anfrage nicht abschließen. Versuchen Sie es erneut.
error-busy-title = Zurzeit stark ausgelastet
error-busy = Der Dienst ist zurzeit stark ausgelastet. Warten Sie einen Moment, und versuchen Sie es dann erneut.
error-unavailable-title = Zurzeit nicht verfügbar
error-unavailable = Der Dienst kann seine Datenbank nicht erreichen. Versuchen Sie es in einer Minute erneut.
error-request-failed = Die Anfrage konnte nicht abgeschlossen werden. Versuchen Sie es erneut.
error-not-found-title = Nicht gefunden
error-not-found = Unter dieser Adresse ist nichts vorhanden.
error-invalid-request-title = Diese Anmeldeanfrage ist ungültig
authorize-no-client-id = Die Anfrage enthält keine client_id.
authorize-unknown-client = Die Anwendung, die Sie hierher weitergeleitet hat, ist bei diesem Anmeldedienst nicht registriert.
authorize-no-redirect-uri = Die Anfrage enthält keine redirect_uri.
error-unregistered-redirect = Die Anwendung möchte zu einer Adresse zurückkehren, die für sie nicht registriert ist.
error-upstream-unavailable-title = Die Anmeldung über { $upstream } ist zurzeit nicht verfügbar
error-upstream-unavailable = Versuchen Sie es in einigen Minuten erneut. Wenn das Problem weiterhin besteht, wenden Sie sich an Ihren Administrator.
error-upstream-keys = Die Anmeldeschlüssel der Organisation können nicht abgerufen werden. Versuchen Sie es später erneut.
error-upstream-refused-title = Die Anmeldung über { $upstream } wurde nicht abgeschlossen
error-upstream-cancelled = Die Anmeldung wurde abgebrochen oder abgelehnt. Kehren Sie zur Anwendung zurück, und versuchen Sie es erneut.
error-upstream-not-set-up = Ihr Konto ist für die Anmeldung hier nicht eingerichtet. Wenden Sie sich an Ihren Administrator.
error-upstream-unverified = Die Antwort des Anmeldediensts Ihrer Organisation konnte nicht überprüft werden. Kehren Sie zur Anwendung zurück, und versuchen Sie es erneut.

## The account page

account-title = Ihr Konto
account-name = Name
account-email = E-Mail
account-organisation = Organisation
account-method = Angemeldet mit
account-signed-in-at = Angemeldet am
account-user-id = Benutzer-ID
account-sessions = Aktive Sitzungen
# Before the date a session started: "seit 5. Dezember 2026, 11:02 UTC".
account-since = seit
account-this-browser = (dieser Browser)
account-sign-out = Abmelden
account-sign-out-everywhere = Überall abmelden
account-unavailable = Die Kontoseite ist nicht verfügbar.
account-sign-in-expired = Die Anmeldung ist abgelaufen. Öffnen Sie Ihre Kontoseite erneut.
account-bad-issuer-title = Anmeldung nicht verfügbar
account-bad-issuer = Die Aussteller-URL ist ungültig.
account-callback-title = Anmeldung nicht abgeschlossen
account-callback-failed = Die Anmeldung wurde mit folgendem Fehler beendet: { $error }
method-password = Passwort
method-sso = Single Sign-On ({ $upstream })
method-sso-plain = Single Sign-On
# A browser and its system on the list of sessions, e.g. "Chrome unter Linux".
user-agent = { $browser } unter { $os }
user-agent-unknown = Unbekannter Browser
signed-out-title = Sie sind abgemeldet
signed-out = Sie wurden von { $product } abgemeldet.
sign-in-again = Erneut anmelden

## Devices (RFC 8628)

device-title = Gerät verbinden
device-intro = Geben Sie den Code ein, der auf Ihrem Gerät angezeigt wird. Geben Sie nur einen Code ein, den Sie von einem Gerät erhalten haben, das Sie selbst einrichten.
device-code-label = Code
device-continue = Weiter
device-bad-code = Dieser Code ist ungültig oder abgelaufen. Überprüfen Sie den Code, der auf Ihrem Gerät angezeigt wird.
device-gone = Diese Geräteanmeldung ist abgelaufen oder wurde bereits beantwortet. Beginnen Sie auf Ihrem Gerät von vorn.
device-consent-title = { $client } zulassen?
device-consent-text = { $client } auf einem Gerät, das diesen Code anzeigt, möchte sich als { $email } anmelden:
device-consent-hint = Lassen Sie dies nur zu, wenn Sie diese Anmeldung selbst auf diesem Gerät gestartet haben.
device-allow = Zulassen
device-deny = Ablehnen
device-connected-title = Gerät verbunden
device-connected = Sie sind auf Ihrem Gerät angemeldet. Sie können dieses Fenster jetzt schließen.
device-denied-title = Gerät nicht verbunden
device-denied = Sie haben die Anfrage abgelehnt. Es wurde keine Anmeldung vorgenommen.

## Signing out

logout-title = Abmelden?
logout-client-asks = { $client } möchte Sie abmelden.
logout-question = Möchten Sie sich abmelden?
logout-button = Abmelden
logout-invalid-title = Ungültige Abmeldeanfrage
logout-bad-hint = Die Abmeldeanfrage enthielt ein ungültiges ID token.
logout-two-clients = Die Abmeldeanfrage nennt zwei verschiedene Anwendungen.
logout-no-client = Die Abmeldeanfrage gibt nicht an, von welcher Anwendung sie stammt.

## Setting a password (a link from an administrator)

password-set-title = Passwort festlegen
password-new = Neues Passwort
password-repeat = Neues Passwort wiederholen
password-rule = Mindestens { $min } Zeichen.
password-set-button = Passwort festlegen
password-set-done-title = Passwort festgelegt
password-set-done = Ihr Passwort wurde festgelegt. Sie können sich jetzt damit anmelden.
password-link-unusable-title = Dieser Link kann nicht verwendet werden
password-link-gone = Dieser Link ist abgelaufen oder wurde bereits verwendet.
password-too-short = Das Passwort muss mindestens { $min } Zeichen lang sein.
password-too-long = Das Passwort darf höchstens { $max } Bytes lang sein.
password-differ = Die beiden Passwörter stimmen nicht überein.

## Admin consent (Microsoft Entra sends the administrator back here)

consent-granted-title = Zustimmung erteilt
consent-granted = Die Administratorzustimmung für { $organization } wurde erteilt. Der Broker kann jetzt die Benutzer dieses Mandanten lesen. Sie können diese Seite schließen.
consent-back = Zurück zur Organisation in der Verwaltungskonsole
consent-not-granted-title = Zustimmung nicht erteilt
consent-not-granted = Microsoft Entra hat die Zustimmung für { $organization } nicht erteilt: { $error }. { $description }
consent-not-recorded-title = Zustimmung nicht gespeichert
consent-no-state = Diese Zustimmungsantwort enthält keinen gültigen state-Parameter. Beginnen Sie mit einem neuen Zustimmungslink von vorn.
consent-link-gone = Dieser Zustimmungslink ist abgelaufen oder wurde bereits verwendet. Erstellen Sie einen neuen Zustimmungslink.
consent-not-reported = Microsoft hat nicht gemeldet, dass die Zustimmung erteilt wurde. Verwenden Sie den Zustimmungslink erneut.
consent-wrong-tenant = Die Zustimmung wurde in einem anderen Microsoft Entra-Mandanten erteilt als dem dieser Organisation. Melden Sie sich beim Mandanten der Organisation an, und verwenden Sie einen neuen Zustimmungslink.
