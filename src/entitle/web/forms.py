"""The pages' form fields: one text field's limit and type, the same on every form."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form

MAX_FIELD = 200  # characters in a form's text field; a longer value is refused (422)

FormText = Annotated[str, Form(max_length=MAX_FIELD)]
"""A text field of a posted form (declare it with the default ``""``)."""
