"""The content hash of a saved model, recorded at registration and checked before loading.

The hash lives in the tracking store (a tag of the model version) and the files in the artifact
store; someone who can rewrite the artifacts but not the registry cannot make a worker load them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

HASH_TAG = "slipstream.sha256"
_CHUNK = 1 << 20


class ModelIntegrityError(Exception):
    """A registered version's files are not the ones registered (or it has no recorded hash)."""

    def __init__(self, message: str, *, name: str, version: str) -> None:
        super().__init__(message)
        self.name = name
        self.version = version


@dataclass(frozen=True, slots=True)
class Digest:
    sha256: str  # hex
    nbytes: int  # the files' total size


def tree_digest(root: Path) -> Digest:
    """sha256 over every file under ``root``, in order of relative path: each contributes its
    path and size (length-prefixed, so no two trees can frame the same byte stream) and bytes.
    A file added, removed, renamed or changed changes the digest."""
    sha = hashlib.sha256()
    total = 0
    files = sorted((p.relative_to(root).as_posix(), p) for p in root.rglob("*") if p.is_file())
    for relative, path in files:
        name = relative.encode("utf-8")
        size = path.stat().st_size
        sha.update(len(name).to_bytes(8, "big") + name + size.to_bytes(8, "big"))
        with path.open("rb") as f:
            while chunk := f.read(_CHUNK):
                sha.update(chunk)
        total += size
    return Digest(sha256=sha.hexdigest(), nbytes=total)


def digest_verify(*, root: Path, expected: str | None, name: str, version: str) -> Digest:
    """The digest of ``root`` if it is ``expected``; ModelIntegrityError otherwise."""
    if not expected:
        raise ModelIntegrityError(
            f"{name} version {version} has no {HASH_TAG} tag: it was registered without a "
            "content hash, so its files cannot be verified; register it again",
            name=name,
            version=version,
        )
    digest = tree_digest(root)
    if digest.sha256 != expected:
        raise ModelIntegrityError(
            f"{name} version {version}: the stored model's content hash {digest.sha256} is not "
            f"the {expected} recorded at registration; its files were changed",
            name=name,
            version=version,
        )
    return digest
