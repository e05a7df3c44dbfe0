"""Case-file pages (placeholder until the case file page lands)."""

from django.http import HttpResponse


def case_list(request):
    return HttpResponse("")


def detail(request, pk: int):
    return HttpResponse("")
