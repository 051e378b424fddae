"""The transparency log over the records: RFC 6962 Merkle tree, signed C2SP checkpoints with their
history, the site verifier, the deploy check and the witness, so anyone can check that a record is
in the log and that the log only ever grew."""
