# The admin console (/admin): what administrators read. Organisation ids, emails, audit
# event names and the reasons the broker gives for refusing something are shown as they are,
# through arguments. Arguments are written { $name }; every catalog has the same messages as
# this one.

## Every console page

# The name of the console's menu, read out by screen readers.
console-nav-label = Console d’administration
console-orgs-title = Organisations
console-audit-title = Journal d’audit
console-new-org-title = Nouvelle organisation
# Who is signed in, when they are an operator (an administrator of everything).
console-operator = { $email } (opérateur)
console-sign-out = Se déconnecter

## Words shared by the list of organisations and an organisation's page

console-organisation = Organisation
console-tenant = Locataire
console-consent = Consentement administrateur
console-users = Utilisateurs
console-sso = Authentification unique (SSO)
console-last-sync = Dernière synchronisation
# Where an organisation is defined: created in the console at run time.
console-origin-runtime = créée ici
# Where an organisation is defined: in the policy file.
console-origin-file = fichier de stratégie
# A runtime organisation the policy file overrides; $detail says why, as the broker words it.
console-out-of-force = Non appliquée : le fichier de stratégie prévaut. { $detail }
# Admin consent: nothing heard from the tenant yet.
console-consent-not-yet = pas encore
# Admin consent was granted; $time is a date and time.
console-consent-granted = accordé le { $time }
# Admin consent was refused; $error is Microsoft Entra's error code, $time a date and time.
console-consent-refused = refusé ({ $error }) le { $time }
# The single sign-on setting of an organisation (also the choices of the form).
console-sso-off = désactivée
console-sso-per-user = par utilisateur
console-sso-all = tous les utilisateurs synchronisés
# Last sync: never synced with the tenant.
console-never = jamais

## The list of organisations

console-orgs-none = Vous ne pouvez administrer aucune organisation.

## An organisation's page

# Where the organisation is defined (a label; the next three messages are its values).
console-defined = Définie
console-defined-file = dans le fichier de stratégie (lecture seule ici)
console-defined-here = ici, dans la console
# A link to the form that changes or deletes a runtime organisation.
console-change-or-delete = modifier ou supprimer
console-domains = Domaines
console-grant-consent = Accorder le consentement administrateur
console-sync-now = Synchroniser maintenant
console-fetch-users = Récupérer les utilisateurs
console-admins = Administrateurs
# After an administrator's email: where they were made one.
console-admin-in-file = dans le fichier de stratégie
console-admin-granted-here = désigné ici
console-remove-admin-label = Retirer { $email } des administrateurs
console-remove-admin = Retirer
console-admins-none = Aucun, en dehors des opérateurs.
console-add-admin-label = Ajouter un administrateur (adresse e-mail)
console-add-admin = Ajouter l’administrateur
# The heading of the organisation's users; $count is how many.
console-users-count = Utilisateurs ({ $count })
console-users-none = Aucun utilisateur de cette organisation ne figure encore dans l’annuaire.
console-user = Utilisateur
console-signs-in-with = Connexion avec
console-status-actions = État et actions
# How a user signs in now.
console-method-sso = authentification unique
console-method-password = mot de passe
console-method-none = aucune
# The per-user single sign-on switch: what a screen reader says, and the button's text.
console-user-sso-on-label = Authentification unique pour { $email } : activée ; la désactiver
console-user-sso-on = Activée · désactiver
console-user-sso-off-label = Authentification unique pour { $email } : désactivée ; l’activer
console-user-sso-off = Désactivée · activer
# The disable switch: the user is disabled now, and the button enables them.
console-enable-label = Activer { $email }
console-enable = Désactivé · activer
# The disable switch: the user is active now, and the button disables them.
console-disable-label = Désactiver { $email } et fermer toutes ses sessions
console-disable = Actif · désactiver
console-revoke-label = Fermer toutes les sessions de { $email }
console-revoke = Déconnecter partout
console-password-link-label = Lien de mot de passe pour { $email }
console-password-link-button = Lien de mot de passe
# Shown once, followed by the link itself; $time is a date and time.
console-password-link = Un lien de mot de passe, utilisable une seule fois jusqu’au { $time }. Transmettez-le à l’utilisateur par un canal de confiance ; il ne sera plus affiché :

## What a page says after an action

console-done-created = L’organisation a été créée.
console-done-sync = Les utilisateurs ont été synchronisés avec le locataire.
console-done-sso-on = L’authentification unique a été activée.
console-done-sso-off = L’authentification unique a été désactivée.
console-done-disabled = L’utilisateur a été désactivé et toutes ses sessions ont été fermées.
console-done-enabled = L’utilisateur a été activé.
console-done-revoked = Toutes les sessions de l’utilisateur ont été fermées.
console-done-admin-granted = L’administrateur a été ajouté.
console-done-changed = Les paramètres de l’organisation ont été enregistrés.
console-done-deleted = L’organisation a été supprimée ; ses utilisateurs restent dans l’annuaire.
console-done-admin-removed = L’administrateur a été retiré.
# Exactly one user was imported from the tenant.
console-done-imported-one = 1 utilisateur importé. Activez l’authentification unique pour ceux qui doivent l’utiliser.
# Any other number of users imported from the tenant: $count is how many (never 1).
console-done-imported = { $count } utilisateurs importés. Activez l’authentification unique pour ceux qui doivent l’utiliser.

## The tenant's users, to import

# The page's title; $organization is the organisation's id.
console-tenant-users-title = Utilisateurs du locataire { $organization }
console-tenant-users-heading = Utilisateurs du locataire
console-search-label = Le nom ou l’adresse e-mail commence par
console-search = Rechercher
console-tenant-users-none = Aucun utilisateur du locataire ne correspond.
console-tick-to-import = Cochez les utilisateurs à importer
# After a user of the tenant who is already in the directory.
console-imported = importé
console-disabled-in-tenant = désactivé dans le locataire
console-import-selected = Importer la sélection
console-next-page = Page suivante
console-import-none = Cochez au moins un utilisateur à importer.

## The audit log

console-audit-user-label = Utilisateur (adresse e-mail ou ID)
console-audit-event-label = L’événement commence par
# The filter of the audit log's period, and the column of when each record was written.
console-audit-time = Date
console-period-all = tout l’historique conservé
console-period-1d = dernières 24 heures
console-period-7d = 7 derniers jours
console-period-30d = 30 derniers jours
console-filter = Filtrer
console-audit-none = Aucun enregistrement ne correspond.
console-audit-event = Événement
console-audit-outcome = Résultat
# Who did it (an administrator).
console-audit-by = Par
# The user the record is about.
console-audit-user = Utilisateur
# The IP address the request came from.
console-audit-from = Provenance
console-audit-detail = Détail

## Creating or changing an organisation

# The title of the form of an existing organisation; $organization is its id.
console-settings-title = { $organization } : paramètres
console-form-intro = Les mêmes règles s’appliquent que pour une organisation du fichier de stratégie. Si le fichier définit ultérieurement la même organisation, c’est celle du fichier qui prévaut.
console-settings-not-saved = Les paramètres n’ont pas été enregistrés :
console-org-not-created = L’organisation n’a pas été créée :
console-id = Identifiant
console-id-hint = Lettres, chiffres, - et _. L’identifiant désigne l’organisation partout.
console-domains-label = Domaines de messagerie
console-domains-hint = Séparés par des virgules, par exemple contoso.com, contoso.co.uk
# The upstream identity provider the organisation's users sign in through.
console-upstream-label = Connexion via
console-upstream-none = aucun fournisseur d’identité (mots de passe uniquement)
console-tenant-label = Locataire Entra
console-tenant-hint = L’ID du locataire ou l’un de ses domaines vérifiés.
console-password-fallback = Les utilisateurs qui ont un mot de passe peuvent l’utiliser à la place
console-jit = Créer les utilisateurs lors de leur première connexion (juste-à-temps)
console-sync-interval-label = Intervalle de resynchronisation
# Keep the examples (1h, 5m, 30d) as they are: that is what the field takes.
console-sync-interval-hint = Vide pour jamais, ou par exemple 1h (de 5m à 30d).
console-save-settings = Enregistrer les paramètres
console-create-org = Créer l’organisation
console-delete-org = Supprimer l’organisation { $organization }

## Refusals

console-not-admin-title = Vous n’êtes pas administrateur
console-not-admin = Vous êtes connecté en tant que { $email }, qui n’a pas accès à la console d’administration. Déconnectez-vous, puis connectez-vous en tant qu’administrateur.
console-forbidden-title = Action non autorisée
console-forbidden = Vous ne pouvez pas administrer cet élément, ou il n’existe pas.
# The title of a page saying why an action was refused; the reason follows.
console-cannot-title = Action impossible
console-form-expired = Le formulaire a expiré. Revenez en arrière, rechargez la page et réessayez.

## A user's second factors (one-time codes, passkeys)

console-factor-totp = codes d’authentification
console-factor-passkeys = clés d’accès : { $count }
console-remove-totp = Supprimer les codes d’authentification
console-remove-totp-label = Supprimer les codes d’authentification de { $email }
console-remove-passkeys = Supprimer les clés d’accès
console-remove-passkeys-label = Supprimer les clés d’accès de { $email }
console-done-totp-removed = Les codes d’authentification de l’utilisateur ont été supprimés.
console-done-passkeys-removed = Les clés d’accès de l’utilisateur ont été supprimées.
