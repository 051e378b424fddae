"""`sovereign-publish keygen`: the private key goes outside the repository, the public key into it."""

from __future__ import annotations

import os
from pathlib import Path

from generator.errors import InputError
from generator.fsio import atomic_write_text
from generator.transparency import note


def inside_git_work_tree(path: Path) -> Path | None:
    """The top of the git work tree that would hold ``path``, if any (a private key must never be committed)."""
    for folder in Path(path).resolve().parents:
        if (folder / ".git").exists():
            return folder
    return None


def write_key_pair(name: str, private_path: Path, public_path: Path, *, witness: bool = False) -> tuple[Path, Path]:
    """Write a new key pair; refuses to overwrite a key or to put the private one inside a git work tree."""
    repo = inside_git_work_tree(private_path)
    if repo is not None:
        raise InputError(f"{private_path}: inside the git work tree {repo}; write the private key outside any repository")
    for path in (private_path, public_path):
        if os.path.lexists(path):
            raise InputError(f"{path} already exists; a key is never overwritten (move it away first)")
    try:
        signer_text, verifier_text = (note.generate_witness_key if witness else note.generate_key)(name)
    except note.NoteError as exc:
        raise InputError(f"--name {name!r}: {exc}") from None
    private_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(signer_text + "\n")
    atomic_write_text(public_path, verifier_text + "\n")
    return private_path, public_path
