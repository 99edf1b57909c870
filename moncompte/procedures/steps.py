"""A step's form between the page, the draft and the submission: bound to what was typed, described for the summary
and the receipt, compared with what partners sent."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.conf import settings
from django.utils import formats, translation
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _

from moncompte.procedures.registry import Step, StepContext


def bind(step: Step, context: StepContext, raw: dict[str, Any] | None) -> forms.Form:
    """The step's form bound to `raw` (what was typed, as stored in the draft)."""
    data = MultiValueDict({k: (v if isinstance(v, list) else [v]) for k, v in (raw or {}).items()})
    return step.form(data=data, ctx=context)


def unbound(step: Step, context: StepContext, initial: dict[str, Any]) -> forms.Form:
    return step.form(initial=initial, ctx=context)


def _kept(value: Any) -> str:
    # No NUL: PostgreSQL refuses \u0000 in jsonb, and « Enregistrer et reprendre plus tard » keeps invalid values too.
    return str(value).replace("\x00", "")[:1000]


def raw_from(form: forms.Form, post) -> dict[str, Any]:
    """What the person typed for the form's fields only (the rest of the POST is not the step's), without NUL bytes
    and at most 1000 characters a value."""
    raw: dict[str, Any] = {}
    for name, field in form.fields.items():
        key = form.add_prefix(name)
        if key not in post:
            continue
        values = post.getlist(key)
        multiple = isinstance(field, forms.MultipleChoiceField)
        raw[name] = [_kept(v) for v in values[:50]] if multiple else _kept(values[-1])
    return raw


def display(form: forms.Form, name: str, value: Any) -> str:
    field = form.fields[name]
    if hasattr(form, f"display_{name}"):
        return getattr(form, f"display_{name}")(value)
    if value in (None, "", []):
        return "—"
    if isinstance(field, forms.BooleanField):
        return _("Oui") if value else _("Non")
    if isinstance(field, forms.ChoiceField):
        labels = {str(k): str(v) for k, v in field.choices}
        if isinstance(value, list):
            return ", ".join(labels.get(str(v), str(v)) for v in value)
        return labels.get(str(value), str(value))
    if isinstance(value, Decimal):
        return f"{formats.number_format(value, 2, force_grouping=True)} €"
    if isinstance(value, datetime.date):
        return formats.date_format(value, "j F Y")
    return str(value)


def rows(form: forms.Form) -> list[list[str]]:
    """[label, value] for each field of a valid form, in French or the page's language."""
    return [[str(form.fields[name].label), display(form, name, value)] for name, value in form.cleaned_data.items()]


def summary_of(forms_: list[tuple[Step, forms.Form]], draft) -> list[dict[str, Any]]:
    """What the receipt will say, in French (the agency's record does not depend on the page's language)."""
    names = {}
    for document in draft.documents.all():
        names.setdefault(document.purpose, []).append(document.original_name)
    with translation.override(settings.LANGUAGE_CODE):
        return [
            {
                "step": step.name,
                "title": str(step.title),
                "rows": rows(form),
                "documents": [[str(slot.label), names.get(slot.name, [])] for slot in step.documents],
            }
            for step, form in forms_
        ]


def prefill_record(step: Step, context: StepContext) -> dict[str, dict[str, str]]:
    """What partners sent for the step's fields, to keep beside what the person declares."""
    prefill = step.prefill(context)
    return {
        name: {"value": str(p.value), "source": str(p.source), "at": p.at.isoformat()}
        for name, p in prefill.values.items()
    }


def display_sent(form: forms.Form, name: str, sent: str) -> str:
    """What a partner sent for a field, shown as the field shows a value (« Oui », « 21 450,00 € »), not as stored
    (« yes », « 21450 »)."""
    try:
        value = form.fields[name].to_python(sent)
    except (forms.ValidationError, TypeError, ValueError):
        return str(sent)
    return display(form, name, value)


def same_value(declared: Any, sent: str) -> bool:
    try:
        return Decimal(str(declared)) == Decimal(sent)
    except (InvalidOperation, ValueError):
        return str(declared) == sent


def corrections_of(forms_: list[tuple[Step, forms.Form]], draft) -> list[dict[str, str]]:
    """Each pre-filled value the person changed: the source's value beside the declared one."""
    corrections = []
    with translation.override(settings.LANGUAGE_CODE):
        for step, form in forms_:
            for name, sent in (draft.prefill.get(step.name) or {}).items():
                if name not in form.cleaned_data or same_value(form.cleaned_data[name], sent["value"]):
                    continue
                corrections.append(
                    {
                        "step": step.name,
                        "field": name,
                        "label": str(form.fields[name].label),
                        "source_value": sent["value"],
                        "declared_value": str(form.cleaned_data[name]),
                        "source_display": display_sent(form, name, sent["value"]),
                        "declared_display": display(form, name, form.cleaned_data[name]),
                        "source": sent["source"],
                        "at": sent["at"],
                    }
                )
    return corrections


def missing_documents(step: Step, draft) -> list:
    have = set(draft.documents.values_list("purpose", flat=True))
    return [slot for slot in step.documents if slot.required and slot.name not in have]
