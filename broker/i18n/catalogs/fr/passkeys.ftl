passkey-or = ou
# How the user signed in, on the account page.
passkey-method = Clé d’accès
passkey-use = Utiliser une clé d’accès
passkey-error-failed = Cette clé d’accès n’a pas pu être utilisée. Réessayez ou connectez-vous autrement.
passkey-unavailable = Les clés d’accès ne sont pas disponibles sur ce serveur.
passkey-error-register = La clé d’accès n’a pas pu être ajoutée. Veuillez réessayer.
passkey-error-not-found = Cette clé d’accès n’existe plus.
passkey-error-not-fresh = Pour votre sécurité, reconnectez-vous avant de modifier vos clés d’accès.
# The name of a passkey its user did not name; $date is when it was added.
passkey-default-name = Clé d’accès du { $date }
passkeys-title = Clés d’accès
passkeys-none = Vous n’avez encore aucune clé d’accès.
passkeys-created = ajoutée
passkeys-last-used = dernière utilisation
passkeys-never-used = jamais utilisée
passkeys-remove = Supprimer
passkeys-name-label = Nom de la nouvelle clé d’accès (facultatif)
passkeys-name-placeholder = p. ex. Ordinateur du bureau
passkeys-add = Ajouter une clé d’accès
passkeys-needs-script = L’ajout d’une clé d’accès nécessite JavaScript.
passkeys-sign-in-again-hint = Pour ajouter ou supprimer des clés d’accès, reconnectez-vous d’abord.
passkeys-sign-in-again = Se reconnecter
