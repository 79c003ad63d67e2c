"""Form fields for the public side: choices that always include "I'd rather not say"."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectMultipleField, widgets
from wtforms.validators import Optional

from ..topics import RATHER_NOT_SAY

RATHER_NOT_SAY_LABEL = _l("I'd rather not say")


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes (no JavaScript, no multi-select box); none is fine."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("validators", [Optional()])
        super().__init__(*args, **kwargs)


def radio(label: object, choices: Iterable[tuple[str, object]], **kwargs: object) -> RadioField:
    """An optional radio group ending with "I'd rather not say"."""
    return RadioField(
        label,
        choices=[*choices, (RATHER_NOT_SAY, RATHER_NOT_SAY_LABEL)],
        validate_choice=True,
        default=None,
        validators=[Optional()],  # skipping a question is always allowed
        **kwargs,  # type: ignore[arg-type]
    )
