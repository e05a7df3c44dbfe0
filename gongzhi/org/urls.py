"""org pages: the region browser and grid map, organisations, a person's page, the coverage report."""

from django.urls import path

from . import account_views, views

app_name = "org"
urlpatterns = [
    path("regions/", views.regions, name="regions"),
    path("regions/<int:region_id>/", views.region, name="region"),
    path("organisations/", views.organisations, name="organisations"),
    path("organisations/<int:organisation_id>/", views.organisation, name="organisation"),
    path("people/<int:person_id>/", views.person, name="person"),
    path("people/<int:person_id>/personal-data/", views.reveal_personal_data, name="reveal_personal_data"),
    path("coverage/", views.coverage, name="coverage"),
    path("access-log/", views.access_log, name="access_log"),
    path("my-household/", account_views.my_household, name="my_household"),
    path("claims/", account_views.claims, name="claims"),
    path("claims/<int:claim_id>/decide/", account_views.decide_claim, name="decide_claim"),
]
