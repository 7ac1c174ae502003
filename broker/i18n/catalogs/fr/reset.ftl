# The self-service password reset: its page and its mails.
# Arguments are written { $name }; every catalog has the same messages as this one.

## The reset page

reset-title = Réinitialisez votre mot de passe
reset-intro = Saisissez votre adresse e-mail. Si vous vous connectez ici avec un mot de passe, nous vous enverrons un lien pour en choisir un nouveau.
reset-email-label = Adresse e-mail
reset-send = Envoyer le lien
# After the form: the same words whether or not the address has an account.
reset-sent = Si { $email } peut se connecter ici avec un mot de passe, un lien pour en choisir un nouveau est en route. Il ne fonctionne qu’une fois, dans les { $minutes } minutes.
reset-sent-hint = Pas d’e-mail après quelques minutes ? Vérifiez votre dossier de courrier indésirable, et que l’adresse est bien celle avec laquelle vous vous connectez.
reset-back = Retour à la connexion
reset-error-enter-email = Saisissez votre adresse e-mail.
reset-error-too-many = Trop de demandes de réinitialisation. Patientez un moment, puis réessayez.
reset-unavailable = La réinitialisation du mot de passe par e-mail n’est pas disponible ici. Demandez à votre administrateur de réinitialiser votre mot de passe.

## The mails (plain text)

reset-mail-subject = Réinitialisez votre mot de passe { $product }
reset-mail-body =
    Quelqu’un a demandé la réinitialisation du mot de passe de { $email } pour { $product }.

    Pour choisir un nouveau mot de passe, ouvrez ce lien dans les { $minutes } minutes. Il ne fonctionne qu’une fois :
    { $link }

    Définir un nouveau mot de passe vous déconnecte partout.
    Si vous n’êtes pas à l’origine de cette demande, ignorez cet e-mail : votre mot de passe reste inchangé.
reset-mail-sso-subject = Comment vous connecter à { $product }
reset-mail-sso-body =
    Quelqu’un a demandé la réinitialisation du mot de passe de { $email } pour { $product }.

    Votre compte n’a pas de mot de passe ici : vous vous connectez avec le compte de votre organisation, via { $upstream }. Si vous avez oublié ce mot de passe, adressez-vous au support informatique de votre organisation.

    Si vous n’êtes pas à l’origine de cette demande, ignorez cet e-mail.
