"""Transparency-log primitives: an RFC 6962 Merkle tree, so anyone can check that a record is in
the log and that the log only ever grew."""
