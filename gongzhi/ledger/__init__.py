"""Transparency log: an append-only RFC 6962 Merkle tree of ledger entries."""
