"""The demands tests' fixtures (a world with units, handlers and residents; throwaway ledger keys)."""

from gongzhi.demands.tests.conftest import dw, keep_the_test_connection, ledger_keys  # noqa: F401
