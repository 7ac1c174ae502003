# The self-service password reset: its page and its mails.
# Arguments are written { $name }; every catalog has the same messages as this one.

## The reset page

reset-title = Reset your password
reset-intro = Enter your email address. If you sign in here with a password, we will mail you a link to choose a new one.
reset-email-label = Email address
reset-send = Send the link
# After the form: the same words whether or not the address has an account.
reset-sent = If { $email } can sign in here with a password, a link to choose a new one is on its way. It works once, within { $minutes } minutes.
reset-sent-hint = No mail after a few minutes? Check your spam folder, and that the address is the one you sign in with.
reset-back = Back to sign-in
reset-error-enter-email = Enter your email address.
reset-error-too-many = Too many reset requests. Wait a while, then try again.
reset-unavailable = Password reset by email is not available here. Ask your administrator to reset your password.

## The mails (plain text)

reset-mail-subject = Reset your { $product } password
reset-mail-body =
    Someone asked to reset the password of { $email } for { $product }.

    To choose a new password, open this link within { $minutes } minutes. It works once:
    { $link }

    Setting a new password signs you out everywhere.
    If you did not ask for this, ignore this mail: your password stays as it is.
reset-mail-sso-subject = How to sign in to { $product }
reset-mail-sso-body =
    Someone asked to reset the password of { $email } for { $product }.

    Your account has no password here: you sign in with your organisation's account, through { $upstream }. If you forgot that password, ask your organisation's IT support.

    If you did not ask for this, ignore this mail.
