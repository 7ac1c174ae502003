# The pages a user sees: sign-in, account, devices, sign-out, password, errors.
# Arguments are written { $name }; every catalog has the same messages as this one.

## Every page

footer-privacy = Privacidad
footer-terms = Términos de uso
footer-help = Ayuda
# Alternative text of a logo image.
logo-alt = { $name }
# A date and time in UTC. $month is 1 to 12; $hour and $minute have two digits.
date-time = { $day } de { $month ->
        [1] enero
        [2] febrero
        [3] marzo
        [4] abril
        [5] mayo
        [6] junio
        [7] julio
        [8] agosto
        [9] septiembre
        [10] octubre
        [11] noviembre
       *[12] diciembre
    } de { $year }, { $hour }:{ $minute } UTC
date-unknown = desconocida

## The login page

login-title = Iniciar sesión
login-to-continue = Ir a { $client }
login-email-label = Correo electrónico
login-next = Siguiente
login-password-title = Escribe tu contraseña
login-password-label = Contraseña
login-sign-in = Iniciar sesión
login-forgot-password = ¿Olvidaste tu contraseña?
login-different-account = Usar otra cuenta
login-continue-with = Continuar con { $upstream }
login-your-organisation = tu organización
login-or-password = o usa tu contraseña
login-sign-in-with-password = Iniciar sesión con contraseña
login-error-enter-email = Escribe tu dirección de correo electrónico.
login-error-bad-credentials = La dirección de correo electrónico o la contraseña no son correctas.
login-error-too-many = Demasiados intentos. Espera unos minutos y vuelve a intentarlo.
login-error-busy = El servicio de inicio de sesión está muy ocupado ahora mismo. Espera un momento y vuelve a intentarlo.
login-no-request = El inicio de sesión empieza en la aplicación que quieres usar. Para ver tu cuenta aquí, abre la página de tu cuenta.
login-go-to-account = Ir a tu cuenta
# The account page's own sign-in, read as "to continue to your account".
login-your-account = tu cuenta

## Error pages

error-title = No se pudo continuar con el inicio de sesión
# A technical detail from the application's request, shown as it is.
error-detail = { $detail }
error-restart = Este inicio de sesión ha caducado o se abrió en otro navegador. Vuelve a la aplicación y empieza de nuevo.
error-session-ended = Tu sesión ha finalizado. Vuelve a iniciar sesión.
error-form-expired = El formulario ha caducado. Inténtalo de nuevo.
error-form-unreadable = No se pudo leer el formulario. Vuelve atrás e inténtalo de nuevo.
error-address-malformed = La dirección tiene un formato incorrecto (hay un parámetro repetido o no válido).
error-too-many-title = Demasiados intentos
error-too-many = Espera unos minutos y vuelve a intentarlo.
error-store-title = El inicio de sesión no está disponible en este momento
error-store = El servicio de inicio de sesión no puede conectarse con su base de datos. Vuelve a intentarlo dentro de un minuto.
error-internal-title = Algo salió mal
error-internal = El servicio de inicio de sesión no pudo completar tu solicitud. Inténtalo de nuevo.
error-busy-title = Servicio muy ocupado
error-busy = El servicio está muy ocupado en este momento. Espera un poco y vuelve a intentarlo.
error-unavailable-title = No disponible en este momento
error-unavailable = El servicio no puede conectarse con su base de datos. Vuelve a intentarlo dentro de un minuto.
error-request-failed = No se pudo completar la solicitud. Inténtalo de nuevo.
error-not-found-title = No encontrado
error-not-found = No hay nada en esta dirección.
error-invalid-request-title = Esta solicitud de inicio de sesión no es válida
authorize-no-client-id = La solicitud no incluye client_id.
authorize-unknown-client = La aplicación que te ha enviado aquí no está registrada en este servicio de inicio de sesión.
authorize-no-redirect-uri = La solicitud no incluye redirect_uri.
error-unregistered-redirect = La aplicación ha pedido volver a una dirección que no está registrada para ella.
error-upstream-unavailable-title = El inicio de sesión con { $upstream } no está disponible en este momento
error-upstream-unavailable = Vuelve a intentarlo dentro de unos minutos. Si el problema continúa, ponte en contacto con tu administrador.
error-upstream-keys = No se pueden obtener las claves de inicio de sesión de la organización. Vuelve a intentarlo más tarde.
error-upstream-refused-title = El inicio de sesión con { $upstream } no se completó
error-upstream-cancelled = El inicio de sesión se canceló o se rechazó. Vuelve a la aplicación e inténtalo de nuevo.
error-upstream-not-set-up = Tu cuenta no está configurada para iniciar sesión aquí. Ponte en contacto con tu administrador.
error-upstream-unverified = No se pudo verificar la respuesta del inicio de sesión de tu organización. Vuelve a la aplicación e inténtalo de nuevo.

## The account page

account-title = Tu cuenta
account-name = Nombre
account-email = Correo electrónico
account-organisation = Organización
account-method = Método de inicio de sesión
account-signed-in-at = Fecha de inicio de sesión
account-user-id = ID de usuario
account-sessions = Sesiones activas
# Before the date a session started: "desde el 5 de diciembre de 2026, 11:02 UTC".
account-since = desde el
account-this-browser = (este navegador)
account-sign-out = Cerrar sesión
account-sign-out-everywhere = Cerrar sesión en todas partes
account-unavailable = La página de la cuenta no está disponible.
account-sign-in-expired = El inicio de sesión ha caducado. Vuelve a abrir la página de tu cuenta.
account-bad-issuer-title = Inicio de sesión no disponible
account-bad-issuer = La URL del emisor no es válida.
account-callback-title = El inicio de sesión no se completó
account-callback-failed = El inicio de sesión terminó con este error: { $error }
method-password = Contraseña
method-sso = Inicio de sesión único ({ $upstream })
method-sso-plain = Inicio de sesión único
# A browser and its system on the list of sessions, e.g. "Chrome en Linux".
user-agent = { $browser } en { $os }
user-agent-unknown = Navegador desconocido
signed-out-title = Has cerrado sesión
signed-out = Has cerrado sesión en { $product }.
sign-in-again = Volver a iniciar sesión

## Devices (RFC 8628)

device-title = Conectar un dispositivo
device-intro = Escribe el código que aparece en tu dispositivo. Escribe solo un código que hayas obtenido de un dispositivo que estés configurando tú.
device-code-label = Código
device-continue = Continuar
device-bad-code = Ese código no es válido o ha caducado. Comprueba el código que aparece en tu dispositivo.
device-gone = Este inicio de sesión en el dispositivo ha caducado o ya se respondió. Vuelve a empezar en tu dispositivo.
device-consent-title = ¿Permitir el acceso a { $client }?
device-consent-text = { $client }, en un dispositivo que muestra este código, solicita iniciar sesión como { $email }:
device-consent-hint = Permítelo solo si fuiste tú quien empezó este inicio de sesión en ese dispositivo.
device-allow = Permitir
device-deny = Denegar
device-connected-title = Dispositivo conectado
device-connected = Has iniciado sesión en tu dispositivo. Ya puedes cerrar esta ventana.
device-denied-title = Dispositivo no conectado
device-denied = Has denegado la solicitud. No se ha iniciado ninguna sesión.

## Signing out

logout-title = ¿Cerrar sesión?
logout-client-asks = { $client } solicita cerrar tu sesión.
logout-question = ¿Quieres cerrar sesión?
logout-button = Cerrar sesión
logout-invalid-title = Solicitud de cierre de sesión no válida
logout-bad-hint = La solicitud de cierre de sesión incluía un ID token no válido.
logout-two-clients = La solicitud de cierre de sesión menciona dos aplicaciones distintas.
logout-no-client = La solicitud de cierre de sesión no indica de qué aplicación procede.

## Setting a password (a link from an administrator)

password-set-title = Establece tu contraseña
password-new = Nueva contraseña
password-repeat = Repite la nueva contraseña
password-rule = Al menos { $min } caracteres.
password-set-button = Establecer contraseña
password-set-done-title = Contraseña establecida
password-set-done = Tu contraseña se ha establecido. Ya puedes iniciar sesión con ella.
password-link-unusable-title = No se puede usar este enlace
password-link-gone = Este enlace ha caducado o ya se ha usado.
password-too-short = La contraseña debe tener al menos { $min } caracteres.
password-too-long = La contraseña puede tener como máximo { $max } bytes.
password-differ = Las dos contraseñas no coinciden.

## Admin consent (Microsoft Entra sends the administrator back here)

consent-granted-title = Consentimiento concedido
consent-granted = Se ha concedido el consentimiento del administrador para { $organization }. El broker ya puede leer los usuarios de este inquilino. Puedes cerrar esta página.
consent-back = Volver a la organización en la consola de administración
consent-not-granted-title = No se concedió el consentimiento
consent-not-granted = Microsoft Entra no concedió el consentimiento para { $organization }: { $error }. { $description }
consent-not-recorded-title = Consentimiento no registrado
consent-no-state = Esta respuesta de consentimiento no tiene un parámetro state válido. Empieza de nuevo con un nuevo enlace de consentimiento.
consent-link-gone = Este enlace de consentimiento ha caducado o ya se ha usado. Crea un nuevo enlace de consentimiento.
consent-not-reported = Microsoft no indicó que se hubiera concedido el consentimiento. Vuelve a probar el enlace de consentimiento.
consent-wrong-tenant = El consentimiento se concedió en un inquilino de Microsoft Entra distinto del de esta organización. Inicia sesión en el inquilino de la organización y usa un nuevo enlace de consentimiento.
