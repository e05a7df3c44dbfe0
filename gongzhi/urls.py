"""Top-level URLs: pages (i18n-aware), admin, the JSON API."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from gongzhi.api import api
from gongzhi.org import account_views

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("accounts/login/", auth_views.LoginView.as_view(template_name="web/login.html"), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/sign-up/", account_views.sign_up, name="sign_up"),
    path("accounts/password/", account_views.reset_password, name="reset_password"),
    path("accounts/code/", account_views.send_code, name="send_code"),
    path("ledger/", include("gongzhi.ledger.urls")),
    path("demands/", include("gongzhi.demands.urls")),
    path("patrol/", include("gongzhi.patrol.urls")),
    path("care/", include("gongzhi.care.urls")),
    path("insight/", include("gongzhi.insight.urls")),
    path("cases/", include("gongzhi.cases.urls")),
    path("deliberation/", include("gongzhi.deliberation.urls")),
    path("duties/", include("gongzhi.duties.urls")),
    path("open311/v2/", include("gongzhi.demands.open311_urls")),
    path("org/", include("gongzhi.org.urls")),
    path("", include("gongzhi.ops.urls")),  # /health/live/, /health/ready/, /metrics
    path("", include("gongzhi.web.urls")),
]
