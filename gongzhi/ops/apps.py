from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "gongzhi.ops"
    label = "ops"
    verbose_name = "Operations"
