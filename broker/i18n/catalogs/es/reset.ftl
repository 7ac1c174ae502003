# The self-service password reset: its page and its mails.
# Arguments are written { $name }; every catalog has the same messages as this one.

## The reset page

reset-title = Restablece tu contraseña
reset-intro = Escribe tu dirección de correo electrónico. Si aquí inicias sesión con una contraseña, te enviaremos un enlace para elegir una nueva.
reset-email-label = Correo electrónico
reset-send = Enviar el enlace
# After the form: the same words whether or not the address has an account.
reset-sent = Si { $email } puede iniciar sesión aquí con una contraseña, ya va de camino un enlace para elegir una nueva. Funciona una sola vez, en los próximos { $minutes } minutos.
reset-sent-hint = ¿No te llega el correo en unos minutos? Revisa la carpeta de spam y comprueba que es la dirección con la que inicias sesión.
reset-back = Volver al inicio de sesión
reset-error-enter-email = Escribe tu dirección de correo electrónico.
reset-error-too-many = Demasiadas solicitudes de restablecimiento. Espera un rato y vuelve a intentarlo.
reset-unavailable = Aquí no se puede restablecer la contraseña por correo electrónico. Pide a tu administrador que la restablezca.

## The mails (plain text)

reset-mail-subject = Restablece tu contraseña de { $product }
reset-mail-body =
    Alguien ha pedido restablecer la contraseña de { $email } en { $product }.

    Para elegir una contraseña nueva, abre este enlace en los próximos { $minutes } minutos. Funciona una sola vez:
    { $link }

    Al establecer una contraseña nueva se cerrarán todas tus sesiones.
    Si no lo has pedido tú, ignora este correo: tu contraseña seguirá igual.
reset-mail-sso-subject = Cómo iniciar sesión en { $product }
reset-mail-sso-body =
    Alguien ha pedido restablecer la contraseña de { $email } en { $product }.

    Tu cuenta no tiene contraseña aquí: inicias sesión con la cuenta de tu organización, a través de { $upstream }. Si has olvidado esa contraseña, pide ayuda al soporte informático de tu organización.

    Si no lo has pedido tú, ignora este correo.
