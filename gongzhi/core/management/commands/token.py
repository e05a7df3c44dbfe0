"""`gongzhi token create USERNAME` prints a new bearer token; `revoke PREFIX` revokes one."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from gongzhi.core import events
from gongzhi.core.models import ApiToken


class Command(BaseCommand):
    help = "Create, list or revoke API bearer tokens."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        create = sub.add_parser("create", help="create a token for USERNAME and print it once")
        create.add_argument("username")
        create.add_argument("--name", default="")
        listing = sub.add_parser("list", help="list the tokens of USERNAME")
        listing.add_argument("username")
        revoke = sub.add_parser("revoke", help="revoke the token starting with PREFIX")
        revoke.add_argument("prefix")

    def handle(self, *args, verb, **options):
        if verb == "revoke":
            return self._revoke(options["prefix"])
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no such user: {options['username']}")
        if verb == "create":
            with transaction.atomic():
                token, raw = ApiToken.issue(user, options["name"])
                events.record("core.token_created", token, actor=None, user=user.username)
            self.stdout.write(raw)
        else:
            for token in ApiToken.objects.filter(user=user).order_by("id"):
                state = "revoked" if token.revoked_at else "active"
                self.stdout.write(f"{token.prefix}…\t{token.name}\t{state}\t{token.created_at:%Y-%m-%d %H:%M}")

    def _revoke(self, prefix):
        with transaction.atomic():
            tokens = list(ApiToken.objects.select_for_update().filter(prefix=prefix[:8], revoked_at__isnull=True))
            if len(tokens) != 1:
                raise CommandError(f"{len(tokens)} active tokens start with {prefix!r}; need exactly one")
            tokens[0].revoked_at = timezone.now()
            tokens[0].save(update_fields=["revoked_at"])
            events.record("core.token_revoked", tokens[0])
        self.stdout.write(f"revoked {prefix[:8]}…")
