"""Photos: the type is decided by the file's content, never its name; stored outside the database under a
name derived from the content, so the same photo uploaded twice is stored once."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from cityops.core.errors import ValidationFailed

_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "jpg"),
    (b"\x89PNG\r\n\x1a\n", 0, "png"),
    (b"WEBP", 8, "webp"),
)
PHOTO_ID = re.compile(r"^[0-9a-f]{64}\.(jpg|png|webp)$")


def sniff(content: bytes) -> str | None:
    for magic, offset, ext in _SIGNATURES:
        if content[offset:offset + len(magic)] == magic and (ext != "webp" or content[:4] == b"RIFF"):
            return ext
    return None


def check(content: bytes, *, max_bytes: int, field: str = "photo") -> str:
    """The photo's extension when it is an acceptable photo; a clear error naming the field otherwise."""
    if not content:
        raise ValidationFailed("empty file / 文件为空", field=field)
    if len(content) > max_bytes:
        raise ValidationFailed(f"larger than {max_bytes // (1024 * 1024)} MB / 超过大小限制", field=field)
    ext = sniff(content)
    if ext is None:
        raise ValidationFailed("not a JPEG, PNG or WebP image / 仅支持 JPEG、PNG、WebP 图片", field=field)
    return ext


def store(content: bytes, *, root: Path, max_bytes: int, field: str = "photo") -> str:
    """Checks and stores the photo; returns its id (content hash + extension)."""
    ext = check(content, max_bytes=max_bytes, field=field)
    photo_id = f"{hashlib.sha256(content).hexdigest()}.{ext}"
    path = path_of(root, photo_id)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(path.suffix + f".{os.getpid()}.part")
        temporary.write_bytes(content)
        temporary.replace(path)  # atomic: a reader never sees half a photo
    return photo_id


def path_of(root: Path, photo_id: str) -> Path:
    if not PHOTO_ID.match(photo_id):
        raise ValidationFailed(f"not a photo id: {photo_id!r}", field="photos")
    return root / photo_id[:2] / photo_id


def exists(root: Path, photo_id: str) -> bool:
    return path_of(root, photo_id).exists()
