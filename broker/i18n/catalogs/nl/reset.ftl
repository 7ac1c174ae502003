# The self-service password reset: its page and its mails.
# Arguments are written { $name }; every catalog has the same messages as this one.

## The reset page

reset-title = Je wachtwoord opnieuw instellen
reset-intro = Voer je e-mailadres in. Als je hier met een wachtwoord inlogt, sturen we je een link om een nieuw wachtwoord te kiezen.
reset-email-label = E-mailadres
reset-send = Link versturen
# After the form: the same words whether or not the address has an account.
reset-sent = Als { $email } hier met een wachtwoord kan inloggen, is er een link onderweg om een nieuw wachtwoord te kiezen. Die werkt één keer, binnen { $minutes } minuten.
reset-sent-hint = Na een paar minuten nog geen e-mail? Kijk in je spammap en controleer of dit het adres is waarmee je inlogt.
reset-back = Terug naar inloggen
reset-error-enter-email = Voer je e-mailadres in.
reset-error-too-many = Te veel verzoeken om je wachtwoord opnieuw in te stellen. Wacht even en probeer het dan opnieuw.
reset-unavailable = Je wachtwoord opnieuw instellen via e-mail is hier niet mogelijk. Vraag je beheerder om je wachtwoord opnieuw in te stellen.

## The mails (plain text)

reset-mail-subject = Je wachtwoord voor { $product } opnieuw instellen
reset-mail-body =
    Iemand heeft gevraagd het wachtwoord van { $email } voor { $product } opnieuw in te stellen.

    Open deze link binnen { $minutes } minuten om een nieuw wachtwoord te kiezen. De link werkt één keer:
    { $link }

    Met een nieuw wachtwoord word je overal afgemeld.
    Heb je dit niet gevraagd? Negeer dan deze e-mail: je wachtwoord blijft zoals het is.
reset-mail-sso-subject = Zo log je in bij { $product }
reset-mail-sso-body =
    Iemand heeft gevraagd het wachtwoord van { $email } voor { $product } opnieuw in te stellen.

    Je account heeft hier geen wachtwoord: je logt in met het account van je organisatie, via { $upstream }. Ben je dat wachtwoord vergeten? Vraag het dan aan de IT-ondersteuning van je organisatie.

    Heb je dit niet gevraagd? Negeer dan deze e-mail.
