"""The ticket screen's words picked by a value (a status, a delivery state, an error key),
as gettext messages. Every other text is written where it is said, in `_()` (templates)
or `say(locale, ...)` (Python), and translated by the catalogs in `translations/`."""

from __future__ import annotations

from core.i18n import N_, catalog_locale, say

LABELS: dict[str, str] = {
    "status_open": N_("Open"),
    "status_answered": N_("Answered"),
    "status_resolved": N_("Resolved"),
    "attachment_pending": N_("being fetched"),
    "attachment_too_large": N_("larger than 25 MB: not kept"),
    "attachment_unreachable": N_("could not be fetched from Messenger"),
    "mail_pending": N_("waiting to be sent"),
    "mail_sending": N_("sending"),
    "mail_retrying": N_("not sent yet, retrying"),
    "mail_sent": N_("sent"),
    "mail_logged": N_("logged (no SMTP server configured)"),
    "mail_failed": N_("failed"),
    "messenger_queued": N_("waiting to go out on Messenger"),
    "messenger_failed": N_("Messenger refused it"),
    "messenger_sent": N_("sent on Messenger"),
    "messenger_sent_tagged": N_("sent on Messenger (human agent tag)"),
    "messenger_waiting": N_("waiting: the customer will see it at their next message"),
    "messenger_delivered": N_("delivered on Messenger"),
    "rating_asked": N_("asked on Messenger, no answer yet"),
    "rating_outside_window": N_("not asked: Messenger's 24-hour window had closed"),
    "rating_busy": N_("not asked: the customer was busy (opening a ticket or with an agent)"),
    "chat_rating_asked": N_("no answer yet"),
    "chat_rating_outside_window": N_("not asked: 24-hour window closed"),
    "chat_rating_busy": N_("not asked: customer busy"),
    "channel_messenger": N_("Messenger"),
    "channel_instagram": N_("Instagram"),
    "channel_email": N_("Email"),
    "channel_web": N_("Web"),
    "chat_missing_page_id": N_("The Messenger link appears once the Page has received its first message "
                               "(or name the Page in the pages file, PAGES_PATH)."),
    "chat_missing_instagram_username": N_("No link: add instagram_username to this Page in the "
                                          "pages file."),
    # Errors and sign-in problems
    "link_expired": N_("This sign-in link has expired. Type “My tickets” in Messenger for a new one."),
    "link_used": N_("This sign-in link was already used. Type “My tickets” in Messenger for a new one."),
    "link_invalid": N_("This sign-in link is not valid."),
    "bad_password": N_("Wrong email or password."),
    "too_many_attempts": N_("Too many sign-in attempts. Try again in {seconds} seconds."),
    "too_many_attempts_minutes": N_("Too many sign-in attempts. Try again in {minutes} minutes."),
    "sign_in_busy": N_("Sign-in is busy right now. Try again in a moment."),
    "not_found": N_("Not found."),
    "forbidden": N_("You can't do that here."),
    "form_expired": N_("The form expired. Please try again."),
    # Form validation (tickets.forms gives these keys as messages)
    "required": N_("Required."),
    "too_long_field": N_("Too long."),
    "Not a valid choice.": N_("Pick one of the choices."),
}


# Messenger: the ticket chat's longer texts (tickets.chat), kept here to keep that module short
FILE_AS_LINK = N_("Our agent sent you a file on ticket #{number} that this chat cannot carry: "
                  "it is on the ticket screen.")
WAITING_INTRO = N_("Our team replied to ticket #{number} while you were away:")
SIGN_IN_LINK = N_("Here is your sign-in link to your tickets. It works once, within {minutes} minutes.")
RESOLVED = N_("Ticket #{number} is resolved. Thank you!")
ALREADY_RESOLVED = N_("Ticket #{number} was already resolved.")


def locale_of(code: str | None) -> str:
    """`es`, `es_LA`, `es-ES` -> es; `pt_PT` -> pt_BR; anything without a catalog -> en."""
    return catalog_locale(code)


def label(key: str, locale: str, **values: object) -> str:
    """The label for `key` in `locale`; an unknown key is shown as is (never a crash)."""
    return say(locale, LABELS.get(key, key), **values)
