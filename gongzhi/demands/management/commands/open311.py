"""`gongzhi open311 key create NAME [--contact C]` prints a new Open311 API key once; `key list` lists the
clients and their key prefixes; `key revoke PREFIX` revokes one. Each issue and revocation is a core event."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from gongzhi.core.errors import DomainError
from gongzhi.demands import services
from gongzhi.demands.models import Open311Client


class Command(BaseCommand):
    help = "Manage Open311 GeoReport v2 client API keys."

    def add_arguments(self, parser):
        groups = parser.add_subparsers(dest="group", required=True)
        key = groups.add_parser("key", help="API keys of Open311 clients")
        verbs = key.add_subparsers(dest="verb", required=True)
        create = verbs.add_parser("create", help="register client NAME and print its key once")
        create.add_argument("name")
        create.add_argument("--contact", default="", help="who runs the client (email, phone, team)")
        verbs.add_parser("list", help="list the clients, their key prefixes and state")
        revoke = verbs.add_parser("revoke", help="revoke the active key starting with PREFIX")
        revoke.add_argument("prefix")

    def handle(self, *args, group, verb, **options):
        try:
            if verb == "create":
                client, raw = services.issue_open311_key(options["name"], contact=options["contact"])
                self.stderr.write(f"Open311 client {client.name!r}: keep this key, it is not shown again.")
                self.stdout.write(raw)
            elif verb == "revoke":
                client = services.revoke_open311_key(options["prefix"])
                self.stdout.write(f"revoked {client.prefix}… ({client.name})")
            else:
                for client in Open311Client.objects.order_by("id"):
                    state = "revoked" if client.revoked_at else "active"
                    used = f"{timezone.localtime(client.last_used_at):%Y-%m-%d %H:%M}" if client.last_used_at \
                        else "never used"
                    created = f"{timezone.localtime(client.created_at):%Y-%m-%d %H:%M}"
                    self.stdout.write(f"{client.prefix}…\t{client.name}\t{state}\t{created}\t{used}\t{client.contact}")
        except DomainError as err:
            raise CommandError(err.message("en")) from None
