from django.apps import AppConfig


class InsightConfig(AppConfig):
    name = "gongzhi.insight"
    label = "insight"
    verbose_name = "insight"
    default_auto_field = "django.db.models.BigAutoField"
