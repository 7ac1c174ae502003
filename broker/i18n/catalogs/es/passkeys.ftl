passkey-or = o
# How the user signed in, on the account page.
passkey-method = Llave de acceso
passkey-use = Usar una llave de acceso
passkey-error-failed = No se pudo usar esa llave de acceso. Inténtalo de nuevo o inicia sesión de otra forma.
passkey-unavailable = Las llaves de acceso no están disponibles en este servidor.
passkey-error-register = No se pudo añadir la llave de acceso. Inténtalo de nuevo.
passkey-error-not-found = Esa llave de acceso ya no existe.
passkey-error-not-fresh = Por tu seguridad, vuelve a iniciar sesión antes de cambiar tus llaves de acceso.
# The name of a passkey its user did not name; $date is when it was added.
passkey-default-name = Llave de acceso del { $date }
passkeys-title = Llaves de acceso
passkeys-none = Todavía no tienes llaves de acceso.
passkeys-created = añadida
passkeys-last-used = último uso
passkeys-never-used = nunca usada
passkeys-remove = Quitar
passkeys-name-label = Nombre de la nueva llave de acceso (opcional)
passkeys-name-placeholder = p. ej. Portátil del trabajo
passkeys-add = Añadir una llave de acceso
passkeys-needs-script = Para añadir una llave de acceso se necesita JavaScript.
passkeys-sign-in-again-hint = Para añadir o quitar llaves de acceso, vuelve a iniciar sesión primero.
passkeys-sign-in-again = Volver a iniciar sesión
