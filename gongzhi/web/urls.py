from django.urls import include, path

from . import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("acting-post/", views.acting_post, name="acting_post"),
    path("masked-preview/", views.masked_preview, name="masked_preview"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("sw.js", views.service_worker, name="service_worker"),
    # Browsers ask for /favicon.ico on every site; the app's icon answers (the pages also link it).
    path("favicon.ico", views.favicon, name="favicon"),
    path("offline/", views.offline, name="offline"),
    path("dev/sms/", views.dev_sms, name="dev_sms"),
    path("report/", include("gongzhi.web.report_urls")),
    path("calendar/", views.calendar, name="calendar"),
    path("calendar/<int:year>/", views.calendar_year, name="calendar_year"),
    path("calendar/<int:year>.json", views.calendar_file, name="calendar_file"),
]
