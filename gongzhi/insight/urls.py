"""insight pages: the analysis cockpit of a region, and the buttons that open a proactive demand from a warning
and a deliberation topic from an agenda suggestion or a hot spot."""

from django.urls import path

from . import views

app_name = "insight"
urlpatterns = [
    path("", views.cockpit, name="cockpit"),
    path("warnings/<int:warning_id>/act", views.act_on_warning, name="act_on_warning"),
    path("issues/<int:issue_id>/topic", views.open_topic_from_issue, name="open_topic_from_issue"),
    path("hot-spots/<int:hot_spot_id>/topic", views.open_topic_from_hot_spot, name="open_topic_from_hot_spot"),
]
