"""insight pages: the analysis cockpit of a region and the button that opens a proactive demand from a warning."""

from django.urls import path

from . import views

app_name = "insight"
urlpatterns = [
    path("", views.cockpit, name="cockpit"),
    path("warnings/<int:warning_id>/act", views.act_on_warning, name="act_on_warning"),
]
