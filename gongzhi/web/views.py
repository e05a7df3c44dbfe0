"""The cockpit pages that read across apps; for now the home page."""

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from gongzhi.core import preview

# The longest text previewed: longer than any published field takes.
PREVIEW_MAX_CHARS = 10_000


def home(request):
    return render(request, "web/home.html")


@require_POST
def masked_preview(request):
    """What the public will not see of the text being typed (core.preview): htmx posts the field's form with
    the field's name in HX-Trigger-Name; the answer is a small fragment listing each masked piece. POST (with
    the CSRF token) so the text stays out of URLs and logs."""
    name = request.headers.get("HX-Trigger-Name") or request.POST.get("field") or ""
    text = request.POST.get(name, "")[:PREVIEW_MAX_CHARS]
    found = preview.findings(text)
    if not found:
        return HttpResponse("")  # an empty box, hidden by the style sheet
    return render(request, "web/_masked_preview.html", {"findings": found})
