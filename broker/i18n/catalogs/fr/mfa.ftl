# Codes à usage unique (TOTP) comme second facteur : l’étape du code, la configuration, la page du compte.

## L’étape du code à la connexion

mfa-otp-title = Saisissez votre code
mfa-otp-label = Code
mfa-otp-hint = Le code à 6 chiffres de votre application d’authentification, ou l’un de vos codes de récupération.
mfa-verify = Vérifier
mfa-error-wrong-code = Ce code est incorrect. Saisissez le code actuel de votre application d’authentification, ou un code de récupération inutilisé.
mfa-error-code-used = Ce code a déjà été utilisé. Attendez le code suivant dans votre application d’authentification.

## Configurer une application d’authentification (à la connexion et sur la page du compte)

mfa-setup-title = Configurer une application d’authentification
mfa-setup-required = Une seconde étape est requise pour vous connecter ici. Configurez une application d’authentification pour continuer.
mfa-setup-scan = Scannez ce code QR avec une application d’authentification, comme Microsoft Authenticator, Google Authenticator ou un gestionnaire de mots de passe. Saisissez ensuite le code à 6 chiffres qu’elle affiche.
mfa-setup-qr-label = Code QR à scanner avec votre application d’authentification
mfa-setup-key = Impossible de le scanner ? Saisissez plutôt cette clé dans l’application :
mfa-setup-link = Lien de configuration
mfa-setup-code-label = Code de l’application
mfa-setup-confirm = Activer
mfa-setup-done = Votre application d’authentification est configurée.
mfa-setup-expired = La configuration a pris trop de temps. Recommencez-la depuis votre compte.
mfa-recovery-title = Enregistrez vos codes de récupération
mfa-recovery-intro = Si vous perdez votre téléphone, chacun de ces codes vous connecte une fois à la place d’un code de l’application. Conservez-les en lieu sûr : ils ne sont affichés que maintenant.
mfa-continue = Continuer

## La page du compte

mfa-account-title = Connexion en deux étapes
mfa-account-on = Les codes d’une application d’authentification sont activés depuis le
mfa-account-off = Votre mot de passe seul vous connecte. Ajoutez les codes d’une application d’authentification comme seconde étape.
mfa-account-set-up = Configurer une application d’authentification
mfa-account-remove = Désactiver les codes d’authentification
mfa-back-to-account = Retour à votre compte
# How a session signed in, on the account page.
mfa-method-password-and-code = Mot de passe et une seconde étape
