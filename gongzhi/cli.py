"""The `gongzhi` console script: Django's management commands with the project's settings."""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongzhi.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv if argv is None else argv)
    execute_from_command_line(["gongzhi", *argv[1:]])
    from gongzhi.core import stopping

    if stopping.stop_requested():  # a loop (worker, sequencer, task worker) stopped cleanly on a signal
        stopping.exit_now(0)


if __name__ == "__main__":
    main()
