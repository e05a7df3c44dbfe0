"""care pages: the care register with visits due, a building's page (households, open demands, notices,
代办), a household's page with its visits, and visit photos."""

from django.urls import path

from . import views

app_name = "care"
urlpatterns = [
    path("", views.home, name="home"),
    path("buildings/", views.buildings, name="buildings"),
    path("buildings/<int:building_id>/", views.building, name="building"),
    path("buildings/<int:building_id>/demands/", views.building_demands, name="building_demands"),
    path("buildings/<int:building_id>/notices/", views.notices, name="notices"),
    path("buildings/<int:building_id>/on-behalf/", views.on_behalf, name="on_behalf"),
    path("households/<int:household_id>/", views.household, name="household"),
    path("households/<int:household_id>/visits/", views.log_visit, name="log_visit"),
    path("households/<int:household_id>/register/", views.register, name="register"),
    path("registrations/<int:registration_id>/end/", views.end_registration, name="end_registration"),
    path("visit-photos/<int:visit_photo_id>.jpg", views.visit_photo, name="visit_photo"),
    path("visit-photos/<int:visit_photo_id>-thumb.jpg", views.visit_photo, {"size": "thumb"},
         name="visit_photo_thumb"),
]
