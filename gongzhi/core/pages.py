"""The shape every page view shares: a domain error becomes the error page (or the form again) with its
4xx status, never a bare 500; a posted act runs one use case and redirects (post/redirect/get)."""

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .errors import DomainError, NotFound
from .preview import masked_notice


def get_or_not_found(model, pk):
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise NotFound(_("%(verbose_name)s %(pk)s") % {"verbose_name": model._meta.verbose_name, "pk": pk})
    return found


def refusal(error) -> dict | None:
    """What a page says about a refused act: the domain's message, in the user's language, and its status."""
    if error is None:
        return None
    if isinstance(error, DomainError):
        return {"message": error.message(), "status": error.status}
    return {"message": str(error), "status": 400}


def public(view):
    """No sign-in needed; a domain error (an unknown id …) renders the error page with its status."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except DomainError as error:
            return render(request, "web/error.html", {"error": error}, status=error.status)

    return wrapper


def page(view):
    """Sign-in required; otherwise as public()."""
    return login_required(public(view))


def action(view):
    """A signed-in POST that acts."""
    return login_required(require_POST(public(view)))


def submit(request, call, *, page, done, form=None, name=None):
    """Run one use case with a posted form's data. Done: back to the page with a notice (post/redirect/get).
    Refused or not filled in: the page again, the form as typed, the reason, and the refusal's status."""
    kept = {name: form} if form is not None else {}
    if form is not None and not form.is_valid():
        return page(forms=kept, error=_("Check the form: nothing was saved."), status=400)
    try:
        result = call(form.cleaned_data if form is not None else None)
    except DomainError as refused:
        return page(forms=kept, error=refused, status=refused.status)
    notice, url = done(result)
    masked = masked_notice(form)
    # A notice may be safe HTML (a link to what was made); the masked note is plain text, escaped on joining.
    messages.success(request, format_html("{}{}", notice, masked) if masked else notice)
    return redirect(url)
