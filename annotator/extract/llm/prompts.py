"""Versioned prompt files: `prompts/<name>_v<N>.yaml`, never edited once released.

A prompt file has `id`, `version`, `description`, `system`, `user` (string.Template
placeholders such as `${article}`) and optional `examples`. Its sha256 (of the file
bytes) is recorded in every output made with it and is part of the cache key.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any

from annotator.core.errors import ConfigurationError
from annotator.core.yamlio import load_yaml

_NAME = re.compile(r"^[a-z][a-z0-9_]*_v\d+$")


def prompts_dir() -> Path:
    override = os.environ.get("ANNOTATE_PROMPTS_DIR")
    return Path(override) if override else Path(__file__).resolve().parents[3] / "prompts"


@dataclass(frozen=True)
class Prompt:
    id: str  # e.g. "extract_v1"
    version: int
    system: str
    user: str
    sha256: str
    description: str = ""
    examples: list[dict[str, Any]] = field(default_factory=list)

    def render(self, **values: str) -> list[dict[str, Any]]:
        """Chat messages; every `${name}` in the prompt must be given."""
        try:
            system = Template(self.system).substitute(values)
            user = Template(self.user).substitute(values)
        except KeyError as exc:
            raise ConfigurationError(
                f"prompt {self.id!r} needs a value for {exc.args[0]!r}"
            ) from exc
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def load_prompt(name: str) -> Prompt:
    """Load `prompts/<name>.yaml`; name includes the version, e.g. 'extract_v1'."""
    if not _NAME.match(name):
        raise ConfigurationError(f"prompt name {name!r} must look like 'extract_v1'")
    path = prompts_dir() / f"{name}.yaml"
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(
            f"prompt file {str(path)!r} cannot be read: {exc.strerror}"
        ) from exc
    data = load_yaml(raw.decode("utf-8"))
    if not isinstance(data, dict) or not {"system", "user", "version"} <= data.keys():
        raise ConfigurationError(f"prompt file {str(path)!r} needs 'version', 'system' and 'user'")
    return Prompt(
        id=name,
        version=int(data["version"]),
        system=str(data["system"]),
        user=str(data["user"]),
        sha256=hashlib.sha256(raw).hexdigest(),
        description=str(data.get("description", "")),
        examples=list(data.get("examples") or []),
    )


def available_prompts() -> list[str]:
    return sorted(p.stem for p in prompts_dir().glob("*_v*.yaml"))
