# The pages a user sees: sign-in, account, devices, sign-out, password, errors.
# Arguments are written { $name }; every catalog has the same messages as this one.

## Every page

footer-privacy = Privacy
footer-terms = Gebruiksvoorwaarden
footer-help = Help
# Alternative text of a logo image.
logo-alt = { $name }
# A date and time in UTC. $month is 1 to 12; $hour and $minute have two digits.
date-time = { $day } { $month ->
        [1] januari
        [2] februari
        [3] maart
        [4] april
        [5] mei
        [6] juni
        [7] juli
        [8] augustus
        [9] september
        [10] oktober
        [11] november
       *[12] december
    } { $year }, { $hour }:{ $minute } UTC
date-unknown = onbekend

## The login page

login-title = Aanmelden
login-to-continue = Doorgaan naar { $client }
login-email-label = E-mailadres
login-next = Volgende
login-password-title = Voer je wachtwoord in
login-password-label = Wachtwoord
login-sign-in = Aanmelden
login-forgot-password = Wachtwoord vergeten?
login-different-account = Een ander account gebruiken
login-continue-with = Doorgaan met { $upstream }
login-your-organisation = je organisatie
login-or-password = of gebruik je wachtwoord
login-sign-in-with-password = Aanmelden met wachtwoord
login-error-enter-email = Voer je e-mailadres in.
login-error-bad-credentials = Het e-mailadres of wachtwoord is onjuist.
login-error-too-many = Te veel pogingen. Wacht een paar minuten en probeer het dan opnieuw.
login-error-busy = Het is op dit moment erg druk bij de aanmeldservice. Wacht even en probeer het dan opnieuw.
login-no-request = Aanmelden begint in de app die je wilt gebruiken. Open je accountpagina om je account hier te bekijken.
login-go-to-account = Naar je account
# The account page's own sign-in, read as "to continue to your account".
login-your-account = je account

## Error pages

error-title = Aanmelden kan niet worden voortgezet
# A technical detail from the application's request, shown as it is.
error-detail = { $detail }
error-restart = Deze aanmelding is verlopen of is in een andere browser geopend. Ga terug naar de app en begin opnieuw.
error-session-ended = Je sessie is beëindigd. Meld je opnieuw aan.
error-form-expired = Het formulier is verlopen. Probeer het opnieuw.
error-form-unreadable = Het formulier kan niet worden gelezen. Ga terug en probeer het opnieuw.
error-address-malformed = Het adres is onjuist opgebouwd (een parameter komt dubbel voor of is ongeldig).
error-too-many-title = Te veel pogingen
error-too-many = Wacht een paar minuten en probeer het dan opnieuw.
error-store-title = Aanmelden is op dit moment niet beschikbaar
error-store = De aanmeldservice kan de database niet bereiken. Probeer het over een minuut opnieuw.
error-internal-title = Er is iets misgegaan
error-internal = De aanmeldservice kan je aanvraag niet voltooien. Probeer het opnieuw.
error-busy-title = Op dit moment erg druk
error-busy = Het is op dit moment erg druk bij de service. Wacht even en probeer het dan opnieuw.
error-unavailable-title = Op dit moment niet beschikbaar
error-unavailable = De service kan de database niet bereiken. Probeer het over een minuut opnieuw.
error-request-failed = De aanvraag kan niet worden voltooid. Probeer het opnieuw.
error-not-found-title = Niet gevonden
error-not-found = Er is niets op dit adres.
error-invalid-request-title = Deze aanmeldaanvraag is ongeldig
authorize-no-client-id = De aanvraag bevat geen client_id.
authorize-unknown-client = De app die je hierheen heeft gestuurd, is niet geregistreerd bij deze aanmeldservice.
authorize-no-redirect-uri = De aanvraag bevat geen redirect_uri.
error-unregistered-redirect = De app wil terugkeren naar een adres dat niet voor die app is geregistreerd.
error-upstream-unavailable-title = Aanmelden via { $upstream } is op dit moment niet beschikbaar
error-upstream-unavailable = Probeer het over een paar minuten opnieuw. Blijft het probleem zich voordoen, neem dan contact op met je beheerder.
error-upstream-keys = De aanmeldsleutels van de organisatie kunnen niet worden opgehaald. Probeer het later opnieuw.
error-upstream-refused-title = Aanmelden via { $upstream } is niet voltooid
error-upstream-cancelled = Het aanmelden is geannuleerd of geweigerd. Ga terug naar de app en probeer het opnieuw.
error-upstream-not-set-up = Je account is niet ingesteld om je hier aan te melden. Neem contact op met je beheerder.
error-upstream-unverified = Het antwoord van de aanmeldservice van je organisatie kan niet worden geverifieerd. Ga terug naar de app en probeer het opnieuw.

## The account page

account-title = Je account
account-name = Naam
account-email = E-mail
account-organisation = Organisatie
account-method = Aangemeld met
account-signed-in-at = Aangemeld op
account-user-id = Gebruikers-ID
account-sessions = Actieve sessies
# Before the date a session started: "sinds 5 december 2026, 11:02 UTC".
account-since = sinds
account-this-browser = (deze browser)
account-sign-out = Afmelden
account-sign-out-everywhere = Overal afmelden
account-unavailable = De accountpagina is niet beschikbaar.
account-sign-in-expired = De aanmelding is verlopen. Open je accountpagina opnieuw.
account-bad-issuer-title = Aanmelden niet beschikbaar
account-bad-issuer = De URL van de uitgever is ongeldig.
account-callback-title = Aanmelden niet voltooid
account-callback-failed = Het aanmelden is beëindigd met: { $error }
method-password = Wachtwoord
method-sso = Eenmalige aanmelding ({ $upstream })
method-sso-plain = Eenmalige aanmelding
# A browser and its system on the list of sessions, e.g. "Chrome op Linux".
user-agent = { $browser } op { $os }
user-agent-unknown = Onbekende browser
signed-out-title = Je bent afgemeld
signed-out = Je bent afgemeld bij { $product }.
sign-in-again = Opnieuw aanmelden

## Devices (RFC 8628)

device-title = Een apparaat verbinden
device-intro = Voer de code in die op je apparaat wordt weergegeven. Voer alleen een code in van een apparaat dat je zelf instelt.
device-code-label = Code
device-continue = Doorgaan
device-bad-code = Die code is ongeldig of verlopen. Controleer de code die op je apparaat wordt weergegeven.
device-gone = Deze apparaataanmelding is verlopen of al beantwoord. Begin opnieuw op je apparaat.
device-consent-title = { $client } toestaan?
device-consent-text = { $client } op een apparaat dat deze code weergeeft, wil zich aanmelden als { $email }:
device-consent-hint = Sta dit alleen toe als je deze aanmelding zelf op dat apparaat hebt gestart.
device-allow = Toestaan
device-deny = Weigeren
device-connected-title = Apparaat verbonden
device-connected = Je bent aangemeld op je apparaat. Je kunt dit venster sluiten.
device-denied-title = Apparaat niet verbonden
device-denied = Je hebt de aanvraag geweigerd. Er is niets aangemeld.

## Signing out

logout-title = Afmelden?
logout-client-asks = { $client } vraagt je om je af te melden.
logout-question = Wil je je afmelden?
logout-button = Afmelden
logout-invalid-title = Ongeldige afmeldaanvraag
logout-bad-hint = De afmeldaanvraag bevatte een ongeldig ID token.
logout-two-clients = De afmeldaanvraag noemt twee verschillende apps.
logout-no-client = De afmeldaanvraag vermeldt niet van welke app deze afkomstig is.

## Setting a password (a link from an administrator)

password-set-title = Je wachtwoord instellen
password-new = Nieuw wachtwoord
password-repeat = Herhaal het nieuwe wachtwoord
password-rule = Minstens { $min } tekens.
password-set-button = Wachtwoord instellen
password-set-done-title = Wachtwoord ingesteld
password-set-done = Je wachtwoord is ingesteld. Je kunt je er nu mee aanmelden.
password-link-unusable-title = Deze link kan niet worden gebruikt
password-link-gone = Deze link is verlopen of al gebruikt.
password-too-short = Het wachtwoord moet minstens { $min } tekens bevatten.
password-too-long = Het wachtwoord mag maximaal { $max } bytes bevatten.
password-differ = De twee wachtwoorden komen niet overeen.

## Admin consent (Microsoft Entra sends the administrator back here)

consent-granted-title = Toestemming verleend
consent-granted = Beheerderstoestemming is verleend voor { $organization }. De broker kan nu de gebruikers van deze tenant lezen. Je kunt deze pagina sluiten.
consent-back = Terug naar de organisatie in de beheerconsole
consent-not-granted-title = Toestemming niet verleend
consent-not-granted = Microsoft Entra heeft geen toestemming verleend voor { $organization }: { $error }. { $description }
consent-not-recorded-title = Toestemming niet vastgelegd
consent-no-state = Dit toestemmingsantwoord heeft geen geldige state-parameter. Begin opnieuw met een nieuwe toestemmingslink.
consent-link-gone = Deze toestemmingslink is verlopen of al gebruikt. Maak een nieuwe toestemmingslink.
consent-not-reported = Microsoft heeft niet gemeld dat de toestemming is verleend. Probeer de toestemmingslink opnieuw.
consent-wrong-tenant = De toestemming is verleend in een andere Microsoft Entra-tenant dan die van deze organisatie. Meld je aan bij de eigen tenant van de organisatie en gebruik een nieuwe toestemmingslink.
