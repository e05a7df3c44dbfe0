from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "gongzhi.core"
    label = "core"
    verbose_name = "共治 core"

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete, post_save

        from .models import ApiToken, forget_trusted_tokens

        # Revoking a token, or deactivating or deleting its user, ends this process's trust in it at once.
        for sender in (ApiToken, get_user_model()):
            post_save.connect(forget_trusted_tokens, sender=sender, dispatch_uid=f"core.forget_tokens.save.{sender}")
            post_delete.connect(forget_trusted_tokens, sender=sender,
                                dispatch_uid=f"core.forget_tokens.delete.{sender}")
