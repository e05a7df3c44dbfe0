from django.urls import path

from . import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("masked-preview/", views.masked_preview, name="masked_preview"),
]
