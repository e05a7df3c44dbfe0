from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "gongzhi.web"
    label = "web"
    verbose_name = "共治 web"
