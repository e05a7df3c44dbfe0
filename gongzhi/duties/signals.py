"""Signals duties sends to the apps above it (which may not be imported from here).

responsibilities_changed: sent inside the transaction of every change to the responsibility list, after the
change is written. The demands app regenerates its routing rules from the list in that same transaction, so
the list stays the one source of "who handles what" and a refusal there undoes the change."""

from django.dispatch import Signal

responsibilities_changed = Signal()  # kwargs: none; receivers read the list as it now stands
