# The pages a user sees: sign-in, account, devices, sign-out, password, errors.
# Arguments are written { $name }; every catalog has the same messages as this one.

## Every page

footer-privacy = Ochrana osobních údajů
footer-terms = Podmínky použití
footer-help = Nápověda
# Alternative text of a logo image.
logo-alt = { $name }
# A date and time in UTC. $month is 1 to 12; $hour and $minute have two digits.
# Month names in the genitive: "5. prosince 2026, 11:02 UTC".
date-time = { $day }. { $month ->
        [1] ledna
        [2] února
        [3] března
        [4] dubna
        [5] května
        [6] června
        [7] července
        [8] srpna
        [9] září
        [10] října
        [11] listopadu
       *[12] prosince
    } { $year }, { $hour }:{ $minute } UTC
date-unknown = neznámé

## The login page

login-title = Přihlášení
login-to-continue = Pokračovat do { $client }
login-email-label = E-mailová adresa
login-next = Další
login-password-title = Zadejte heslo
login-password-label = Heslo
login-sign-in = Přihlásit se
login-forgot-password = Zapomněli jste heslo?
login-different-account = Použít jiný účet
login-continue-with = Pokračovat přes { $upstream }
login-your-organisation = vaši organizaci
login-or-password = nebo použijte heslo
login-sign-in-with-password = Přihlásit se heslem
login-error-enter-email = Zadejte svou e-mailovou adresu.
login-error-bad-credentials = E-mailová adresa nebo heslo nejsou správné.
login-error-too-many = Příliš mnoho pokusů. Počkejte několik minut a zkuste to znovu.
login-error-busy = Přihlašovací služba je teď velmi vytížená. Chvíli počkejte a zkuste to znovu.
login-no-request = Přihlášení začíná v aplikaci, kterou chcete používat. Pokud chcete zobrazit svůj účet zde, otevřete stránku svého účtu.
login-go-to-account = Přejít na váš účet
# The account page's own sign-in, read as "to continue to your account" (genitive after "do").
login-your-account = vašeho účtu

## Error pages

error-title = V přihlášení nelze pokračovat
# A technical detail from the application's request, shown as it is.
error-detail = { $detail }
error-restart = Platnost tohoto přihlášení vypršela nebo bylo otevřeno v jiném prohlížeči. Vraťte se do aplikace a začněte znovu.
error-session-ended = Vaše relace skončila. Přihlaste se prosím znovu.
error-form-expired = Platnost formuláře vypršela. Zkuste to prosím znovu.
error-form-unreadable = Formulář se nepodařilo přečíst. Vraťte se zpět a zkuste to znovu.
error-address-malformed = Adresa má chybný formát (některý parametr se opakuje nebo je neplatný).
error-too-many-title = Příliš mnoho pokusů
error-too-many = Počkejte několik minut a zkuste to znovu.
error-store-title = Přihlášení je momentálně nedostupné
error-store = Přihlašovací služba se nemůže spojit se svou databází. Zkuste to znovu za minutu.
error-internal-title = Něco se pokazilo
error-internal = Přihlašovací služba nemohla dokončit váš požadavek. Zkuste to znovu.
error-busy-title = Služba je momentálně přetížená
error-busy = Služba je teď velmi vytížená. Chvíli počkejte a zkuste to znovu.
error-unavailable-title = Momentálně nedostupné
error-unavailable = Služba se nemůže spojit se svou databází. Zkuste to znovu za minutu.
error-request-failed = Požadavek se nepodařilo dokončit. Zkuste to znovu.
error-not-found-title = Nenalezeno
error-not-found = Na této adrese nic není.
error-invalid-request-title = Tento požadavek na přihlášení je neplatný
authorize-no-client-id = V požadavku chybí client_id.
authorize-unknown-client = Aplikace, která vás sem poslala, není v této přihlašovací službě zaregistrovaná.
authorize-no-redirect-uri = V požadavku chybí redirect_uri.
error-unregistered-redirect = Aplikace požádala o návrat na adresu, která pro ni není zaregistrovaná.
error-upstream-unavailable-title = Přihlášení přes { $upstream } je momentálně nedostupné
error-upstream-unavailable = Zkuste to znovu za několik minut. Pokud potíže přetrvávají, obraťte se na svého správce.
error-upstream-keys = Přihlašovací klíče organizace nelze načíst. Zkuste to později.
error-upstream-refused-title = Přihlášení přes { $upstream } nebylo dokončeno
error-upstream-cancelled = Přihlášení bylo zrušeno nebo odmítnuto. Vraťte se do aplikace a zkuste to znovu.
error-upstream-not-set-up = Váš účet není pro přihlášení zde nastavený. Obraťte se na svého správce.
error-upstream-unverified = Odpověď přihlašovací služby vaší organizace se nepodařilo ověřit. Vraťte se do aplikace a zkuste to znovu.

## The account page

account-title = Váš účet
account-name = Jméno
account-email = E-mail
account-organisation = Organizace
account-method = Způsob přihlášení
account-signed-in-at = Čas přihlášení
account-user-id = ID uživatele
account-sessions = Aktivní relace
# Before the date a session started: "od 5. prosince 2026, 11:02 UTC".
account-since = od
account-this-browser = (tento prohlížeč)
account-sign-out = Odhlásit se
account-sign-out-everywhere = Odhlásit se všude
account-unavailable = Stránka účtu není k dispozici.
account-sign-in-expired = Platnost přihlášení vypršela. Otevřete stránku účtu znovu.
account-bad-issuer-title = Přihlášení není k dispozici
account-bad-issuer = URL vydavatele není platná.
account-callback-title = Přihlášení nebylo dokončeno
account-callback-failed = Přihlášení skončilo chybou: { $error }
method-password = Heslo
method-sso = Jednotné přihlášení ({ $upstream })
method-sso-plain = Jednotné přihlášení
# A browser and its system on the list of sessions, e.g. "Chrome v systému Linux".
user-agent = { $browser } v systému { $os }
user-agent-unknown = Neznámý prohlížeč
signed-out-title = Jste odhlášeni
signed-out = Byli jste odhlášeni ze služby { $product }.
sign-in-again = Přihlásit se znovu

## Devices (RFC 8628)

device-title = Připojit zařízení
device-intro = Zadejte kód zobrazený na vašem zařízení. Zadávejte pouze kód ze zařízení, které sami nastavujete.
device-code-label = Kód
device-continue = Pokračovat
device-bad-code = Tento kód je neplatný nebo vypršela jeho platnost. Zkontrolujte kód zobrazený na vašem zařízení.
device-gone = Platnost tohoto přihlášení zařízení vypršela nebo už bylo zodpovězeno. Začněte znovu na svém zařízení.
device-consent-title = Povolit aplikaci { $client }?
device-consent-text = Aplikace { $client } na zařízení, které zobrazuje tento kód, žádá o přihlášení jako { $email }:
device-consent-hint = Povolte to pouze v případě, že jste toto přihlášení na daném zařízení zahájili sami.
device-allow = Povolit
device-deny = Odmítnout
device-connected-title = Zařízení je připojeno
device-connected = Na zařízení jste přihlášeni. Toto okno můžete zavřít.
device-denied-title = Zařízení nebylo připojeno
device-denied = Požadavek jste odmítli. K žádnému přihlášení nedošlo.

## Signing out

logout-title = Odhlásit se?
logout-client-asks = Aplikace { $client } žádá o vaše odhlášení.
logout-question = Chcete se odhlásit?
logout-button = Odhlásit se
logout-invalid-title = Neplatný požadavek na odhlášení
logout-bad-hint = Požadavek na odhlášení obsahoval neplatný ID token.
logout-two-clients = Požadavek na odhlášení uvádí dvě různé aplikace.
logout-no-client = Požadavek na odhlášení neuvádí, ze které aplikace pochází.

## Setting a password (a link from an administrator)

password-set-title = Nastavte si heslo
password-new = Nové heslo
password-repeat = Zopakujte nové heslo
password-rule = Alespoň { $min } znaků.
password-set-button = Nastavit heslo
password-set-done-title = Heslo je nastavené
password-set-done = Vaše heslo je nastavené. Nyní se s ním můžete přihlásit.
password-link-unusable-title = Tento odkaz nelze použít
password-link-gone = Platnost tohoto odkazu vypršela nebo už byl použit.
password-too-short = Heslo musí mít alespoň { $min } znaků.
password-too-long = Heslo může mít nejvýše { $max } bajtů.
password-differ = Zadaná hesla se neshodují.

## Admin consent (Microsoft Entra sends the administrator back here)

consent-granted-title = Souhlas byl udělen
consent-granted = Souhlas správce pro organizaci { $organization } byl udělen. Broker teď může číst uživatele tohoto tenanta. Tuto stránku můžete zavřít.
consent-back = Zpět na organizaci v konzoli pro správu
consent-not-granted-title = Souhlas nebyl udělen
consent-not-granted = Microsoft Entra neudělil souhlas pro organizaci { $organization }: { $error }. { $description }
consent-not-recorded-title = Souhlas nebyl zaznamenán
consent-no-state = Tato odpověď na žádost o souhlas nemá platný parametr state. Začněte znovu s novým odkazem pro udělení souhlasu.
consent-link-gone = Platnost tohoto odkazu pro udělení souhlasu vypršela nebo už byl použit. Vytvořte nový odkaz pro udělení souhlasu.
consent-not-reported = Microsoft neoznámil, že byl souhlas udělen. Zkuste odkaz pro udělení souhlasu použít znovu.
consent-wrong-tenant = Souhlas byl udělen v jiném tenantovi Microsoft Entra, než je tenant této organizace. Přihlaste se do vlastního tenanta organizace a použijte nový odkaz pro udělení souhlasu.
