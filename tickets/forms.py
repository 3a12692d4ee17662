"""The ticket screen's forms. Every one carries Flask-WTF's CSRF token; error
messages are catalog keys, translated when the page is rendered."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from tickets.service import DESCRIPTION_MAX, REPLY_MAX, TITLE_MAX


def _required() -> DataRequired:
    return DataRequired(message="required")


class AgentLoginForm(FlaskForm):
    email = StringField(validators=[_required(), Length(max=320, message="too_long_field")])
    password = PasswordField(validators=[_required(), Length(max=200, message="too_long_field")])


class LinkLoginForm(FlaskForm):
    token = HiddenField(validators=[_required(), Length(max=1000)])


class NewTicketForm(FlaskForm):
    title = StringField(validators=[_required(), Length(max=TITLE_MAX, message="too_long_field")])
    type = SelectField(validators=[_required()], choices=[], validate_choice=True)
    description = TextAreaField(validators=[_required(),
                                            Length(max=DESCRIPTION_MAX, message="too_long_field")])
    nonce = HiddenField(validators=[Length(max=64)])  # one form, one ticket, however often it is sent


class MessageForm(FlaskForm):
    body = TextAreaField(validators=[_required(), Length(max=REPLY_MAX, message="too_long_field")])


class ActionForm(FlaskForm):
    """A button that changes something (Resolve, Logout): only the CSRF token."""
