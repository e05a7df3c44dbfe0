"""insight pages: the analysis cockpit of a region, the early warnings and the actions on them (a proactive
demand, assigning to a unit, dismissing with a reason), the demands behind a warning, the buttons that open a
deliberation topic from an agenda suggestion or a hot spot, and the analysts' page of the classifier."""

from django.urls import path

from . import views

app_name = "insight"
urlpatterns = [
    path("", views.cockpit, name="cockpit"),
    path("warnings/", views.warnings_list, name="warnings"),
    path("warnings/<int:warning_id>/demands/", views.warning_demands, name="warning_demands"),
    path("warnings/<int:warning_id>/act", views.act_on_warning, name="act_on_warning"),
    path("warnings/<int:warning_id>/assign", views.assign_warning, name="assign_warning"),
    path("warnings/<int:warning_id>/dismiss", views.dismiss_warning, name="dismiss_warning"),
    path("models/", views.models, name="models"),
    path("issues/<int:issue_id>/topic", views.open_topic_from_issue, name="open_topic_from_issue"),
    path("hot-spots/<int:hot_spot_id>/topic", views.open_topic_from_hot_spot, name="open_topic_from_hot_spot"),
]
