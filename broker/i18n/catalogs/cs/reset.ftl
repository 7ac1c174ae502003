# The self-service password reset: its page and its mails.
# Arguments are written { $name }; every catalog has the same messages as this one.

## The reset page

reset-title = Obnovení hesla
reset-intro = Zadejte svou e-mailovou adresu. Pokud se zde přihlašujete heslem, pošleme vám odkaz, kterým si nastavíte nové.
reset-email-label = E-mailová adresa
reset-send = Odeslat odkaz
# After the form: the same words whether or not the address has an account.
reset-sent = Pokud se { $email } může zde přihlásit heslem, odkaz pro nastavení nového je na cestě. Funguje jednou, do { $minutes } minut.
reset-sent-hint = E-mail nepřišel ani po několika minutách? Podívejte se do složky se spamem a ověřte, že jde o adresu, kterou se přihlašujete.
reset-back = Zpět na přihlášení
reset-error-enter-email = Zadejte svou e-mailovou adresu.
reset-error-too-many = Příliš mnoho žádostí o obnovení. Chvíli počkejte a zkuste to znovu.
reset-unavailable = Obnovení hesla e-mailem zde není k dispozici. Požádejte svého správce, aby vám heslo obnovil.

## The mails (plain text)

reset-mail-subject = Obnovení hesla ke službě { $product }
reset-mail-body =
    Někdo požádal o obnovení hesla účtu { $email } ke službě { $product }.

    Nové heslo si nastavíte otevřením tohoto odkazu do { $minutes } minut. Funguje jednou:
    { $link }

    Nastavením nového hesla budete všude odhlášeni.
    Pokud jste o obnovení nežádali, tento e-mail ignorujte: vaše heslo zůstane beze změny.
reset-mail-sso-subject = Jak se přihlásit ke službě { $product }
reset-mail-sso-body =
    Někdo požádal o obnovení hesla účtu { $email } ke službě { $product }.

    Váš účet zde nemá heslo: přihlašujete se účtem své organizace, přes { $upstream }. Pokud jste toto heslo zapomněli, obraťte se na IT podporu své organizace.

    Pokud jste o obnovení nežádali, tento e-mail ignorujte.
