"""The research pipeline: search, claims, verification, semantic index, tribunal, policy, report."""
