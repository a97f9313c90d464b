"""Content-addressed cache of model answers, so a re-run makes no call for finished work.

The key covers everything that changes the answer: endpoint, model, mode, prompt hashes,
schema hash, article sha256 and sampling parameters. Entries are JSON files written
atomically; a corrupt or foreign entry is ignored (and recomputed), never trusted.
The API key is not part of the key and is never written.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from annotator.core.yamlio import atomic_write_text

CACHE_FORMAT = "annotator/cache/v1"


def schema_sha256(model: type[Any]) -> str:
    schema = model.model_json_schema()
    return hashlib.sha256(json.dumps(schema, sort_keys=True).encode()).hexdigest()


def cache_key(fields: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


@dataclass
class ResponseCache:
    root: Path

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        path = self._path(key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if (
            not isinstance(data, dict)
            or data.get("format") != CACHE_FORMAT
            or data.get("key") != key
        ):
            return None
        value = data.get("value")
        return value if isinstance(value, dict) else None

    def put(self, key: str, fields: dict[str, Any], value: dict[str, Any]) -> None:
        entry = {"format": CACHE_FORMAT, "key": key, "fields": fields, "value": value}
        atomic_write_text(self._path(key), json.dumps(entry, ensure_ascii=False, indent=1))
