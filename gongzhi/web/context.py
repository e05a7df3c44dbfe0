"""Template context every page gets."""

from django.utils.functional import SimpleLazyObject


def unread_messages(request) -> dict:
    """How many of the signed-in user's messages are unread (the badge in the top bar); counted only when a
    page shows it."""
    def count() -> int:
        from gongzhi.demands import notifications

        return notifications.mine(request.user, unread=True).count()

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_messages": 0}
    return {"unread_messages": SimpleLazyObject(count)}
