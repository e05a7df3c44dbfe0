"""Telling authors what the public will not see of their text (core.scrub): a form field marked with
`masked_preview` asks the server, as its author types (htmx, no inline script), which parts will be masked
(web's masked-preview endpoint), and after posting the notice says what was masked, by kind only, so the
personal data itself is not echoed into a message cookie."""

from collections import Counter

from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .scrub import scrub_findings

KIND_LABELS = {
    "mobile": gettext_lazy("mobile number"),
    "landline": gettext_lazy("phone number"),
    "id_number": gettext_lazy("ID number"),
    "card_number": gettext_lazy("card number"),
    "email": gettext_lazy("e-mail address"),
    "address": gettext_lazy("house number"),
    "name": gettext_lazy("person's name"),
}


def masked_preview(field):
    """Mark a form field whose text is published: its widget asks for the masked preview while typing
    (the answer goes to the `.masked-preview` box the field template puts right after it)."""
    field.masked_preview = True
    field.widget.attrs.update({
        "hx-post": reverse_lazy("web:masked_preview"),
        "hx-trigger": "keyup changed delay:500ms, change",
        "hx-target": "next .masked-preview",
        "hx-swap": "innerHTML",
        "hx-sync": "this:replace",
    })
    return field


def findings(text: str):
    """What of `text` will be masked, each once, in order: [(kind label, as typed, as shown)]."""
    seen, found = set(), []
    for finding in scrub_findings(text or "")[1]:
        if finding.original not in seen:
            seen.add(finding.original)
            found.append((KIND_LABELS.get(finding.kind, finding.kind), finding.original, finding.shown_as))
    return found


def masked_notice(form) -> str:
    """' 公开时已遮盖：手机号 1 处、门牌号 1 处。' for a posted form's published fields; '' when nothing was."""
    if form is None or not hasattr(form, "cleaned_data"):
        return ""
    counts = Counter()
    for name, field in form.fields.items():
        if getattr(field, "masked_preview", False):
            for finding in scrub_findings(str(form.cleaned_data.get(name) or ""))[1]:
                counts[finding.kind] += 1
    if not counts:
        return ""
    parts = _(", ").join(_("%(kind)s × %(count)d") % {"kind": KIND_LABELS.get(kind, kind), "count": count}
                        for kind, count in counts.items())
    return " " + _("Masked when published: %(parts)s.") % {"parts": parts}
