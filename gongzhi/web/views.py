"""The cockpit pages that read across apps; for now the home page."""

from django.shortcuts import render


def home(request):
    return render(request, "web/home.html")
