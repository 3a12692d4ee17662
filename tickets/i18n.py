"""What Email Support says, in English and Spanish (English stands in for a
locale an admin adds to the flows without translating these)."""

from __future__ import annotations

DEFAULT = "en"

CATALOG: dict[str, dict[str, str]] = {
    # Messenger: the wizard
    "ask_title": {
        "en": "Let's open a ticket. What is it about? Send a short title (up to {max} characters), "
              "or type cancel to stop.",
        "es": "Vamos a abrir un ticket. ¿De qué se trata? Envía un título corto (hasta {max} "
              "caracteres) o escribe cancelar para salir.",
    },
    "need_text": {
        "en": "Please type it in words.",
        "es": "Escríbelo con palabras, por favor.",
    },
    "file_as_link": {
        "en": "Our agent sent you a file on ticket #{number} that this chat cannot carry: "
              "it is on the ticket screen.",
        "es": "Nuestro agente te envió un archivo en el ticket #{number} que este chat no admite: "
              "está en la pantalla de tickets.",
    },
    "file_received": {
        "en": "Got it: {count} file(s) will go with your ticket.",
        "es": "Recibido: {count} archivo(s) irán con tu ticket.",
    },
    "too_long": {
        "en": "That is {length} characters; please keep it to {max}.",
        "es": "Son {length} caracteres; el máximo es {max}.",
    },
    "ask_type": {"en": "What type of question is it?", "es": "¿Qué tipo de consulta es?"},
    "pick_type": {"en": "Please pick one of these types:", "es": "Elige uno de estos tipos:"},
    "ask_description": {
        "en": "Now describe what happened in one message (up to {max} characters).",
        "es": "Ahora cuéntanos qué ha pasado en un mensaje (hasta {max} caracteres).",
    },
    "created": {
        "en": "Ticket #{number} is open: “{title}”. Our team will answer you here. "
              "You can also follow it on the ticket screen.",
        "es": "El ticket #{number} está abierto: «{title}». Nuestro equipo te responderá por aquí. "
              "También puedes seguirlo en la pantalla de tickets.",
    },
    "cancelled": {"en": "OK, no ticket was opened.", "es": "De acuerdo, no se ha abierto ningún ticket."},
    "cancel": {"en": "Cancel", "es": "Cancelar"},
    "view_ticket": {"en": "View ticket", "es": "Ver ticket"},
    "my_tickets_link": {
        "en": "Here is your sign-in link to your tickets. It works once, within {minutes} minutes.",
        "es": "Este es tu enlace para ver tus tickets. Funciona una vez, durante {minutes} minutos.",
    },
    "my_tickets": {"en": "My tickets", "es": "Mis tickets"},
    # Messenger: replies and resolving
    "reply_intro": {"en": "Reply on ticket #{number}:", "es": "Respuesta al ticket #{number}:"},
    "waiting_intro": {
        "en": "Our team replied to ticket #{number} while you were away:",
        "es": "Nuestro equipo respondió al ticket #{number} mientras no estabas:",
    },
    "resolve_button": {"en": "Resolve #{number}", "es": "Resolver #{number}"},
    "ticket_actions": {
        "en": "Ticket #{number}: is it solved?", "es": "Ticket #{number}: ¿está resuelto?",
    },
    "resolved": {
        "en": "Ticket #{number} is resolved. Thank you!",
        "es": "El ticket #{number} está resuelto. ¡Gracias!",
    },
    "already_resolved": {
        "en": "Ticket #{number} was already resolved.", "es": "El ticket #{number} ya estaba resuelto.",
    },
    "no_such_ticket": {"en": "I can't find that ticket.", "es": "No encuentro ese ticket."},
    # Web screen
    "app_name": {"en": "Support tickets", "es": "Tickets de soporte"},
    "all_tickets": {"en": "All tickets", "es": "Todos los tickets"},
    "new_ticket": {"en": "New ticket", "es": "Nuevo ticket"},
    "title": {"en": "Title", "es": "Título"},
    "type": {"en": "Type", "es": "Tipo"},
    "description": {"en": "Description", "es": "Descripción"},
    "open_ticket": {"en": "Open ticket", "es": "Abrir ticket"},
    "created_at": {"en": "Created", "es": "Creado"},
    "creator": {"en": "Creator", "es": "Creado por"},
    "page_channel": {"en": "Page", "es": "Página"},
    "channel_messenger": {"en": "Messenger", "es": "Messenger"},
    "channel_instagram": {"en": "Instagram", "es": "Instagram"},
    "channel_email": {"en": "Email", "es": "Correo"},
    "channel_web": {"en": "Web", "es": "Web"},
    "status": {"en": "Status", "es": "Estado"},
    "status_open": {"en": "Open", "es": "Abierto"},
    "status_answered": {"en": "Answered", "es": "Respondido"},
    "status_resolved": {"en": "Resolved", "es": "Resuelto"},
    "resolve": {"en": "Resolve", "es": "Resolver"},
    "logout": {"en": "Logout", "es": "Cerrar sesión"},
    "sign_in": {"en": "Sign in", "es": "Iniciar sesión"},
    "email": {"en": "Email", "es": "Correo electrónico"},
    "password": {"en": "Password", "es": "Contraseña"},
    "newer": {"en": "← Newer", "es": "← Más recientes"},
    "older": {"en": "Older →", "es": "Anteriores →"},
    "no_tickets": {"en": "No tickets yet.", "es": "Todavía no hay tickets."},
    "replies": {"en": "Messages", "es": "Mensajes"},
    "no_replies": {"en": "No replies yet.", "es": "Todavía no hay respuestas."},
    "attachments": {"en": "Files", "es": "Archivos"},
    "attachment_pending": {"en": "being fetched", "es": "descargándose"},
    "attachment_too_large": {"en": "larger than 25 MB: not kept", "es": "mayor de 25 MB: no se guardó"},
    "attachment_unreachable": {"en": "could not be fetched from Messenger",
                               "es": "no se pudo descargar de Messenger"},
    "attachment_link_only": {"en": "(Messenger refused this file type: the customer got a link)",
                             "es": "(Messenger rechazó este tipo de archivo: el cliente recibió un enlace)"},
    "reply": {"en": "Reply to the customer", "es": "Responder al cliente"},
    "add_message": {"en": "Add a message", "es": "Añadir un mensaje"},
    "send": {"en": "Send", "es": "Enviar"},
    "transcript": {"en": "Conversation before the ticket", "es": "Conversación previa al ticket"},
    "notification": {"en": "Notification email", "es": "Email de aviso"},
    "attempts": {"en": "attempts", "es": "intentos"},
    "mail_pending": {"en": "waiting to be sent", "es": "pendiente de envío"},
    "mail_sending": {"en": "sending", "es": "enviándose"},
    "mail_retrying": {"en": "not sent yet, retrying", "es": "aún no enviado, reintentando"},
    "mail_sent": {"en": "sent", "es": "enviado"},
    "mail_logged": {"en": "logged (no SMTP server configured)", "es": "registrado (sin servidor SMTP)"},
    "mail_failed": {"en": "failed", "es": "falló"},
    "messenger_queued": {"en": "waiting to go out on Messenger", "es": "pendiente de envío por Messenger"},
    "messenger_failed": {"en": "Messenger refused it", "es": "Messenger lo rechazó"},
    "messenger_sent": {"en": "sent on Messenger", "es": "enviado por Messenger"},
    "messenger_sent_tagged": {
        "en": "sent on Messenger (human agent tag)", "es": "enviado por Messenger (etiqueta de agente)",
    },
    "messenger_waiting": {
        "en": "waiting: the customer will see it at their next message",
        "es": "en espera: el cliente lo verá en su próximo mensaje",
    },
    "messenger_delivered": {"en": "delivered on Messenger", "es": "entregado por Messenger"},
    "customer_sign_in": {
        "en": "Customers: open our chat below and the bot sends you a sign-in link "
              "(or type “My tickets” in the chat).",
        "es": "Clientes: abre nuestro chat aquí abajo y el bot te enviará un enlace "
              "(o escribe «Mis tickets» en el chat).",
    },
    "staff_sign_in": {"en": "Staff sign-in", "es": "Acceso del equipo"},
    "continue_as": {"en": "Continue as {name}", "es": "Continuar como {name}"},
    "link_expired": {
        "en": "This sign-in link has expired. Type “My tickets” in Messenger for a new one.",
        "es": "Este enlace ha caducado. Escribe «Mis tickets» en Messenger para recibir otro.",
    },
    "link_used": {
        "en": "This sign-in link was already used. Type “My tickets” in Messenger for a new one.",
        "es": "Este enlace ya se usó. Escribe «Mis tickets» en Messenger para recibir otro.",
    },
    "link_invalid": {
        "en": "This sign-in link is not valid.", "es": "Este enlace no es válido.",
    },
    "bad_password": {"en": "Wrong email or password.", "es": "Correo o contraseña incorrectos."},
    "too_many_attempts": {
        "en": "Too many sign-in attempts. Try again in {seconds} seconds.",
        "es": "Demasiados intentos de acceso. Vuelve a probar en {seconds} segundos.",
    },
    "too_many_attempts_minutes": {
        "en": "Too many sign-in attempts. Try again in {minutes} minutes.",
        "es": "Demasiados intentos de acceso. Vuelve a probar en {minutes} minutos.",
    },
    "sign_in_busy": {
        "en": "Sign-in is busy right now. Try again in a moment.",
        "es": "El acceso está ocupado ahora mismo. Vuelve a probar en un momento.",
    },
    "not_found": {"en": "Not found.", "es": "No encontrado."},
    "forbidden": {"en": "You can't do that here.", "es": "No puedes hacer eso aquí."},
    "form_expired": {
        "en": "The form expired. Please try again.", "es": "El formulario caducó. Inténtalo de nuevo.",
    },
    "required": {"en": "Required.", "es": "Obligatorio."},
    "too_long_field": {"en": "Too long.", "es": "Demasiado largo."},
    "Not a valid choice.": {"en": "Pick one of the choices.", "es": "Elige una de las opciones."},
    "rating": {"en": "Customer rating", "es": "Valoración del cliente"},
    "chat_ratings": {"en": "Chat ratings", "es": "Valoraciones de chats"},
    "rating_asked": {
        "en": "asked on Messenger, no answer yet", "es": "preguntada por Messenger, sin respuesta",
    },
    "rating_outside_window": {
        "en": "not asked: Messenger's 24-hour window had closed",
        "es": "no preguntada: la ventana de 24 horas de Messenger estaba cerrada",
    },
    "rating_busy": {
        "en": "not asked: the customer was busy (opening a ticket or with an agent)",
        "es": "no preguntada: el cliente estaba ocupado (abriendo un ticket o con un agente)",
    },
    "customer": {"en": "Customer", "es": "Cliente"},
    "agent": {"en": "Support", "es": "Soporte"},
    "language": {"en": "Español", "es": "English"},
    # Web screen: the support portal's navigation and Chat Support
    "support_section": {"en": "Customer support", "es": "Soporte al cliente"},
    "chat_support": {"en": "Chat Support", "es": "Soporte por chat"},
    "email_support": {"en": "Email Support", "es": "Soporte por email"},
    "menu": {"en": "Menu", "es": "Menú"},
    "chat_intro": {
        "en": "Write to us: the bot answers right away, and sends you a link to your tickets.",
        "es": "Escríbenos: el bot responde al momento y te envía un enlace a tus tickets.",
    },
    "chat_on": {"en": "{page} on {channel}", "es": "{page} en {channel}"},
    "chat_missing_page_id": {
        "en": "The Messenger link appears once the Page has received its first message "
              "(or name the Page in the pages file, PAGES_PATH).",
        "es": "El enlace de Messenger aparece cuando la Página recibe su primer mensaje "
              "(o nombra la Página en el archivo de páginas, PAGES_PATH).",
    },
    "chat_missing_instagram_username": {
        "en": "No link: add instagram_username to this Page in the pages file.",
        "es": "Sin enlace: añade instagram_username a esta Página en el archivo de páginas.",
    },
    "chat_not_yet": {"en": "Not available yet.", "es": "Todavía no disponible."},
}


def locale_of(code: str | None) -> str:
    """`es`, `es_LA`, `es-ES` -> es; anything we lack -> the default."""
    language = (code or "").replace("-", "_").split("_")[0].lower()
    return language if language in CATALOG["app_name"] else DEFAULT


def t(key: str, locale: str, **values: object) -> str:
    texts = CATALOG[key]
    text = texts.get(locale) or texts[DEFAULT]
    return text.format(**values) if values else text
