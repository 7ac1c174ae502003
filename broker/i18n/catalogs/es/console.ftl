# The admin console (/admin): what administrators read. Organisation ids, emails, audit
# event names and the reasons the broker gives for refusing something are shown as they are,
# through arguments. Arguments are written { $name }; every catalog has the same messages as
# this one.

## Every console page

# The name of the console's menu, read out by screen readers.
console-nav-label = Consola de administración
console-orgs-title = Organizaciones
console-audit-title = Registro de auditoría
console-new-org-title = Nueva organización
# Who is signed in, when they are an operator (an administrator of everything).
console-operator = { $email } (operador)
console-sign-out = Cerrar sesión

## Words shared by the list of organisations and an organisation's page

console-organisation = Organización
console-tenant = Inquilino
console-consent = Consentimiento del administrador
console-users = Usuarios
console-sso = Inicio de sesión único
console-last-sync = Última sincronización
# Where an organisation is defined: created in the console at run time.
console-origin-runtime = creada aquí
# Where an organisation is defined: in the policy file.
console-origin-file = archivo de directivas
# A runtime organisation the policy file overrides; $detail says why, as the broker words it.
console-out-of-force = Sin efecto: prevalece el archivo de directivas. { $detail }
# Admin consent: nothing heard from the tenant yet.
console-consent-not-yet = todavía no
# Admin consent was granted; $time is a date and time.
console-consent-granted = concedido el { $time }
# Admin consent was refused; $error is Microsoft Entra's error code, $time a date and time.
console-consent-refused = rechazado ({ $error }) el { $time }
# The single sign-on setting of an organisation (also the choices of the form).
console-sso-off = desactivado
console-sso-per-user = por usuario
console-sso-all = todos los usuarios sincronizados
# Last sync: never synced with the tenant.
console-never = nunca

## The list of organisations

console-orgs-none = No hay ninguna organización que puedas administrar.

## An organisation's page

# Where the organisation is defined (a label; the next three messages are its values).
console-defined = Definida
console-defined-file = en el archivo de directivas (aquí, de solo lectura)
console-defined-here = aquí, en la consola
# A link to the form that changes or deletes a runtime organisation.
console-change-or-delete = cambiar o eliminar
console-domains = Dominios
console-grant-consent = Conceder consentimiento del administrador
console-sync-now = Sincronizar ahora
console-fetch-users = Obtener usuarios
console-admins = Administradores
# After an administrator's email: where they were made one.
console-admin-in-file = en el archivo de directivas
console-admin-granted-here = designado aquí
console-remove-admin-label = Quitar a { $email } como administrador
console-remove-admin = Quitar
console-admins-none = Ninguno aparte de los operadores.
console-add-admin-label = Agregar un administrador (correo electrónico)
console-add-admin = Agregar administrador
# The heading of the organisation's users; $count is how many.
console-users-count = Usuarios ({ $count })
console-users-none = Todavía no hay ningún usuario de esta organización en el directorio.
console-user = Usuario
console-signs-in-with = Inicia sesión con
console-status-actions = Estado y acciones
# How a user signs in now.
console-method-sso = inicio de sesión único
console-method-password = contraseña
console-method-none = ninguno
# The per-user single sign-on switch: what a screen reader says, and the button's text.
console-user-sso-on-label = Inicio de sesión único para { $email }: activado; desactivarlo
console-user-sso-on = Activado · desactivar
console-user-sso-off-label = Inicio de sesión único para { $email }: desactivado; activarlo
console-user-sso-off = Desactivado · activar
# The disable switch: the user is disabled now, and the button enables them.
console-enable-label = Habilitar a { $email }
console-enable = Deshabilitado · habilitar
# The disable switch: the user is active now, and the button disables them.
console-disable-label = Deshabilitar a { $email } y cerrar todas sus sesiones
console-disable = Activo · deshabilitar
console-revoke-label = Cerrar todas las sesiones de { $email }
console-revoke = Cerrar sesión en todas partes
console-password-link-label = Enlace de contraseña para { $email }
console-password-link-button = Enlace de contraseña
# Shown once, followed by the link itself; $time is a date and time.
console-password-link = Un enlace de contraseña, válido una sola vez hasta el { $time }. Entrégaselo al usuario por un canal de confianza; no se volverá a mostrar:

## What a page says after an action

console-done-created = Se ha creado la organización.
console-done-sync = Los usuarios se han sincronizado con el inquilino.
console-done-sso-on = Se ha activado el inicio de sesión único.
console-done-sso-off = Se ha desactivado el inicio de sesión único.
console-done-disabled = Se ha deshabilitado al usuario y se han cerrado todas sus sesiones.
console-done-enabled = Se ha habilitado al usuario.
console-done-revoked = Se han cerrado todas las sesiones del usuario.
console-done-admin-granted = Se ha agregado el administrador.
console-done-changed = Se ha guardado la configuración de la organización.
console-done-deleted = Se ha eliminado la organización; sus usuarios permanecen en el directorio.
console-done-admin-removed = Se ha quitado el administrador.
# Exactly one user was imported from the tenant.
console-done-imported-one = Se ha importado 1 usuario. Activa el inicio de sesión único para quienes deban usarlo.
# Any other number of users imported from the tenant: $count is how many (never 1).
console-done-imported = Se han importado { $count } usuarios. Activa el inicio de sesión único para quienes deban usarlo.

## The tenant's users, to import

# The page's title; $organization is the organisation's id.
console-tenant-users-title = Usuarios del inquilino { $organization }
console-tenant-users-heading = Usuarios del inquilino
console-search-label = El nombre o el correo empieza por
console-search = Buscar
console-tenant-users-none = Ningún usuario del inquilino coincide.
console-tick-to-import = Marca los usuarios que quieres importar
# After a user of the tenant who is already in the directory.
console-imported = importado
console-disabled-in-tenant = deshabilitado en el inquilino
console-import-selected = Importar seleccionados
console-next-page = Página siguiente
console-import-none = Marca al menos un usuario para importar.

## The audit log

console-audit-user-label = Usuario (correo o ID)
console-audit-event-label = El evento empieza por
# The filter of the audit log's period, and the column of when each record was written.
console-audit-time = Fecha y hora
console-period-all = todo lo conservado
console-period-1d = últimas 24 horas
console-period-7d = últimos 7 días
console-period-30d = últimos 30 días
console-filter = Filtrar
console-audit-none = Ningún registro coincide.
console-audit-event = Evento
console-audit-outcome = Resultado
# Who did it (an administrator).
console-audit-by = Realizado por
# The user the record is about.
console-audit-user = Usuario
# The IP address the request came from.
console-audit-from = Origen
console-audit-detail = Detalle

## Creating or changing an organisation

# The title of the form of an existing organisation; $organization is its id.
console-settings-title = { $organization }: configuración
console-form-intro = Se aplican las mismas reglas que a una organización del archivo de directivas. Si el archivo define más adelante la misma organización, prevalece la del archivo.
console-settings-not-saved = No se ha guardado la configuración:
console-org-not-created = No se ha creado la organización:
console-id = ID
console-id-hint = Letras, dígitos, - y _. Identifica la organización en todas partes.
console-domains-label = Dominios de correo electrónico
console-domains-hint = Separados por comas, p. ej., contoso.com, contoso.co.uk
# The upstream identity provider the organisation's users sign in through.
console-upstream-label = Iniciar sesión a través de
console-upstream-none = ningún proveedor de identidad (solo contraseñas)
console-tenant-label = Inquilino de Entra
console-tenant-hint = El ID del inquilino o uno de sus dominios verificados.
console-password-fallback = Los usuarios con contraseña pueden usarla en su lugar
console-jit = Crear usuarios en su primer inicio de sesión (just-in-time)
console-sync-interval-label = Volver a sincronizar cada
# Keep the examples (1h, 5m, 30d) as they are: that is what the field takes.
console-sync-interval-hint = Vacío para nunca, o p. ej., 1h (de 5m a 30d).
console-save-settings = Guardar configuración
console-create-org = Crear organización
console-delete-org = Eliminar la organización { $organization }

## Refusals

console-not-admin-title = No eres administrador
console-not-admin = Has iniciado sesión como { $email }, que no puede usar la consola de administración. Cierra sesión e inicia sesión como administrador.
console-forbidden-title = No permitido
console-forbidden = No puedes administrar esto o no existe.
# The title of a page saying why an action was refused; the reason follows.
console-cannot-title = No se puede realizar esta acción
console-form-expired = El formulario ha caducado. Vuelve atrás, recarga la página e inténtalo de nuevo.

## A user's second factors (one-time codes, passkeys)

console-factor-totp = códigos de autenticación
console-factor-passkeys = llaves de acceso: { $count }
console-remove-totp = Quitar los códigos de autenticación
console-remove-totp-label = Quitar los códigos de autenticación de { $email }
console-remove-passkeys = Quitar las llaves de acceso
console-remove-passkeys-label = Quitar las llaves de acceso de { $email }
console-done-totp-removed = Se han quitado los códigos de autenticación del usuario.
console-done-passkeys-removed = Se han quitado las llaves de acceso del usuario.
