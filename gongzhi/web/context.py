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


def who_and_menu(request) -> dict:
    """The top bar: the signed-in person's name and post (the one acted as, or the first of several), the posts
    to switch between (一肩挑), and the menu those posts can use (web/roles.py)."""
    from gongzhi.web import roles

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"menu": SimpleLazyObject(lambda: roles.menu_for(user)), "posts_held": [], "acting_post": None}

    def held():
        return [{"id": p.pk, "label": roles.post_label(p)} for p in roles.held_posts(user)]

    def acting():
        post = roles.acting_post(request)
        return {"id": post.pk, "label": roles.post_label(post)} if post else None

    return {"menu": SimpleLazyObject(lambda: roles.menu_for(user)), "posts_held": SimpleLazyObject(held),
            "acting_post": SimpleLazyObject(acting)}
