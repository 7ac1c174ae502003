# Códigos de un solo uso (TOTP) como segundo factor: el paso del código, la configuración, la página de la cuenta.

## El paso del código al iniciar sesión

mfa-otp-title = Escribe tu código
mfa-otp-label = Código
mfa-otp-hint = El código de 6 dígitos de tu aplicación de autenticación, o uno de tus códigos de recuperación.
mfa-verify = Verificar
mfa-error-wrong-code = Ese código no es correcto. Escribe el código actual de tu aplicación de autenticación, o un código de recuperación sin usar.
mfa-error-code-used = Este código ya se ha usado. Espera al siguiente código en tu aplicación de autenticación.

## Configurar una aplicación de autenticación (al iniciar sesión y en la página de la cuenta)

mfa-setup-title = Configura una aplicación de autenticación
mfa-setup-required = Aquí se necesita un segundo paso para iniciar sesión. Configura una aplicación de autenticación para continuar.
mfa-setup-scan = Escanea este código QR con una aplicación de autenticación, como Microsoft Authenticator, Google Authenticator o un gestor de contraseñas. Después escribe el código de 6 dígitos que muestre.
mfa-setup-qr-label = Código QR para escanear con tu aplicación de autenticación
mfa-setup-key = ¿No puedes escanearlo? Escribe esta clave en la aplicación:
mfa-setup-link = Enlace de configuración
mfa-setup-code-label = Código de la aplicación
mfa-setup-confirm = Activar
mfa-setup-done = Tu aplicación de autenticación está configurada.
mfa-setup-expired = La configuración ha tardado demasiado. Vuelve a empezarla desde tu cuenta.
mfa-recovery-title = Guarda tus códigos de recuperación
mfa-recovery-intro = Si pierdes tu teléfono, cada uno de estos códigos te permite iniciar sesión una vez en lugar de un código de la aplicación. Guárdalos en un lugar seguro: solo se muestran ahora.
mfa-continue = Continuar

## La página de la cuenta

mfa-account-title = Inicio de sesión en dos pasos
mfa-account-on = Los códigos de una aplicación de autenticación están activados desde
mfa-account-off = Solo tu contraseña te permite iniciar sesión. Añade códigos de una aplicación de autenticación como segundo paso.
mfa-account-set-up = Configurar una aplicación de autenticación
mfa-account-remove = Desactivar los códigos de autenticación
mfa-back-to-account = Volver a tu cuenta
# How a session signed in, on the account page.
mfa-method-password-and-code = Contraseña y un segundo paso
