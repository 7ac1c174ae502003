# The pages a user sees: sign-in, account, devices, sign-out, password, errors.
# Arguments are written { $name }; every catalog has the same messages as this one.

## Every page

footer-privacy = Confidentialité
footer-terms = Conditions d’utilisation
footer-help = Aide
# Alternative text of a logo image.
logo-alt = { $name }
# A date and time in UTC. $month is 1 to 12; $hour and $minute have two digits.
date-time = { $day } { $month ->
        [1] janvier
        [2] février
        [3] mars
        [4] avril
        [5] mai
        [6] juin
        [7] juillet
        [8] août
        [9] septembre
        [10] octobre
        [11] novembre
       *[12] décembre
    } { $year }, { $hour }:{ $minute } UTC
date-unknown = inconnue

## The login page

login-title = Connexion
login-to-continue = Accéder à { $client }
login-email-label = Adresse e-mail
login-next = Suivant
login-password-title = Saisissez votre mot de passe
login-password-label = Mot de passe
login-sign-in = Se connecter
login-forgot-password = Mot de passe oublié ?
login-different-account = Utiliser un autre compte
login-continue-with = Continuer avec { $upstream }
login-your-organisation = votre organisation
login-or-password = ou utilisez votre mot de passe
login-sign-in-with-password = Se connecter avec un mot de passe
login-error-enter-email = Saisissez votre adresse e-mail.
login-error-bad-credentials = L’adresse e-mail ou le mot de passe est incorrect.
login-error-too-many = Trop de tentatives. Patientez quelques minutes, puis réessayez.
login-error-busy = Le service de connexion est très sollicité en ce moment. Patientez un instant, puis réessayez.
login-no-request = La connexion commence dans l’application que vous souhaitez utiliser. Pour consulter votre compte ici, ouvrez la page de votre compte.
login-go-to-account = Accéder à votre compte
# The account page's own sign-in, read as "to continue to your account".
login-your-account = votre compte

## Error pages

error-title = Impossible de poursuivre la connexion
# A technical detail from the application's request, shown as it is.
error-detail = { $detail }
error-restart = Cette connexion a expiré ou a été ouverte dans un autre navigateur. Revenez à l’application et recommencez.
error-session-ended = Votre session a pris fin. Veuillez vous reconnecter.
error-form-expired = Le formulaire a expiré. Veuillez réessayer.
error-form-unreadable = Le formulaire n’a pas pu être lu. Revenez en arrière et réessayez.
error-address-malformed = L’adresse est mal formée (un paramètre est répété ou non valide).
error-too-many-title = Trop de tentatives
error-too-many = Patientez quelques minutes, puis réessayez.
error-store-title = La connexion est indisponible pour le moment
error-store = Le service de connexion ne parvient pas à joindre sa base de données. Réessayez dans une minute.
error-internal-title = Un problème est survenu
error-internal = Le service de connexion n’a pas pu traiter votre demande. Réessayez.
error-busy-title = Service très sollicité
error-busy = Le service est très sollicité en ce moment. Patientez un instant, puis réessayez.
error-unavailable-title = Indisponible pour le moment
error-unavailable = Le service ne parvient pas à joindre sa base de données. Réessayez dans une minute.
error-request-failed = La demande n’a pas pu aboutir. Réessayez.
error-not-found-title = Page introuvable
error-not-found = Il n’y a rien à cette adresse.
error-invalid-request-title = Cette demande de connexion n’est pas valide
authorize-no-client-id = La demande ne contient pas de client_id.
authorize-unknown-client = L’application d’où vous venez n’est pas inscrite auprès de ce service de connexion.
authorize-no-redirect-uri = La demande ne contient pas de redirect_uri.
error-unregistered-redirect = L’application a demandé à revenir à une adresse qui n’est pas enregistrée pour elle.
error-upstream-unavailable-title = La connexion via { $upstream } est indisponible pour le moment
error-upstream-unavailable = Réessayez dans quelques minutes. Si le problème persiste, contactez votre administrateur.
error-upstream-keys = Impossible de récupérer les clés de connexion de l’organisation. Réessayez plus tard.
error-upstream-refused-title = La connexion via { $upstream } n’a pas abouti
error-upstream-cancelled = La connexion a été annulée ou refusée. Revenez à l’application et réessayez.
error-upstream-not-set-up = Votre compte n’est pas configuré pour se connecter ici. Contactez votre administrateur.
error-upstream-unverified = La réponse du service de connexion de votre organisation n’a pas pu être vérifiée. Revenez à l’application et réessayez.

## The account page

account-title = Votre compte
account-name = Nom
account-email = E-mail
account-organisation = Organisation
account-method = Méthode de connexion
account-signed-in-at = Date de connexion
account-user-id = Identifiant utilisateur
account-sessions = Sessions actives
# Before the date a session started: "depuis le 5 décembre 2026, 11:02 UTC".
account-since = depuis le
account-this-browser = (ce navigateur)
account-sign-out = Se déconnecter
account-sign-out-everywhere = Se déconnecter partout
account-unavailable = La page du compte n’est pas disponible.
account-sign-in-expired = La connexion a expiré. Ouvrez à nouveau la page de votre compte.
account-bad-issuer-title = Connexion indisponible
account-bad-issuer = L’URL de l’émetteur n’est pas valide.
account-callback-title = La connexion n’a pas abouti
account-callback-failed = La connexion s’est terminée avec l’erreur : { $error }
method-password = Mot de passe
method-sso = Authentification unique ({ $upstream })
method-sso-plain = Authentification unique (SSO)
# A browser and its system on the list of sessions, e.g. "Chrome sous Linux".
user-agent = { $browser } sous { $os }
user-agent-unknown = Navigateur inconnu
signed-out-title = Vous êtes déconnecté
signed-out = Vous avez été déconnecté de { $product }.
sign-in-again = Se reconnecter

## Devices (RFC 8628)

device-title = Connecter un appareil
device-intro = Saisissez le code affiché sur votre appareil. Ne saisissez qu’un code provenant d’un appareil que vous configurez vous-même.
device-code-label = Code
device-continue = Continuer
device-bad-code = Ce code n’est pas valide ou a expiré. Vérifiez le code affiché sur votre appareil.
device-gone = Cette connexion d’appareil a expiré ou a déjà reçu une réponse. Recommencez sur votre appareil.
device-consent-title = Autoriser { $client } ?
device-consent-text = { $client }, sur un appareil qui affiche ce code, demande à se connecter en tant que { $email } :
device-consent-hint = N’autorisez cette connexion que si vous l’avez lancée vous-même sur cet appareil.
device-allow = Autoriser
device-deny = Refuser
device-connected-title = Appareil connecté
device-connected = Vous êtes connecté sur votre appareil. Vous pouvez fermer cette fenêtre.
device-denied-title = Appareil non connecté
device-denied = Vous avez refusé la demande. Aucune connexion n’a été effectuée.

## Signing out

logout-title = Se déconnecter ?
logout-client-asks = { $client } demande à vous déconnecter.
logout-question = Voulez-vous vous déconnecter ?
logout-button = Se déconnecter
logout-invalid-title = Demande de déconnexion non valide
logout-bad-hint = La demande de déconnexion contenait un ID token non valide.
logout-two-clients = La demande de déconnexion désigne deux applications différentes.
logout-no-client = La demande de déconnexion n’indique pas de quelle application elle provient.

## Setting a password (a link from an administrator)

password-set-title = Définissez votre mot de passe
password-new = Nouveau mot de passe
password-repeat = Confirmez le nouveau mot de passe
password-rule = Au moins { $min } caractères.
password-set-button = Définir le mot de passe
password-set-done-title = Mot de passe défini
password-set-done = Votre mot de passe est défini. Vous pouvez maintenant l’utiliser pour vous connecter.
password-link-unusable-title = Ce lien ne peut pas être utilisé
password-link-gone = Ce lien a expiré ou a déjà été utilisé.
password-too-short = Le mot de passe doit contenir au moins { $min } caractères.
password-too-long = Le mot de passe ne doit pas dépasser { $max } octets.
password-differ = Les deux mots de passe ne correspondent pas.

## Admin consent (Microsoft Entra sends the administrator back here)

consent-granted-title = Consentement accordé
consent-granted = Le consentement administrateur a été accordé pour { $organization }. Le broker peut désormais lire les utilisateurs de ce locataire. Vous pouvez fermer cette page.
consent-back = Retour à l’organisation dans la console d’administration
consent-not-granted-title = Le consentement n’a pas été accordé
consent-not-granted = Microsoft Entra n’a pas accordé le consentement pour { $organization } : { $error }. { $description }
consent-not-recorded-title = Consentement non enregistré
consent-no-state = Cette réponse de consentement ne contient pas de paramètre state valide. Recommencez avec un nouveau lien de consentement.
consent-link-gone = Ce lien de consentement a expiré ou a déjà été utilisé. Créez un nouveau lien de consentement.
consent-not-reported = Microsoft n’a pas indiqué que le consentement avait été accordé. Réessayez avec le lien de consentement.
consent-wrong-tenant = Le consentement a été accordé dans un locataire Microsoft Entra autre que celui de cette organisation. Connectez-vous au locataire de l’organisation et utilisez un nouveau lien de consentement.
