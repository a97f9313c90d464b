"""The Files and Batches APIs (OpenAI, or any server that implements them): upload a
request file, create a batch, read its status, download its output and error files.

Calls go through the StructuredClient's openai client and its transport retries, so
errors read the same as for live calls and the API key never appears in them.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from annotator.extract.llm.batch_format import CHAT_URL
from annotator.extract.llm.client import StructuredClient

COMPLETION_WINDOW = "24h"
FINAL_STATES = ("completed", "failed", "expired", "cancelled")


@dataclass
class BatchState:
    id: str
    status: str
    output_file_id: str | None
    error_file_id: str | None
    counts: dict[str, int]
    errors: list[str]

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATES


class BatchEndpoint:
    def __init__(self, client: StructuredClient) -> None:
        self.client = client

    async def upload(self, path: Path) -> str:
        data = path.read_bytes()
        api = self.client.api

        async def call() -> Any:
            return await api.files.create(file=(path.name, data), purpose="batch")

        return str((await self.client.with_retries(call)).id)

    async def create(self, input_file_id: str, metadata: dict[str, str]) -> BatchState:
        api = self.client.api

        async def call() -> Any:
            return await api.batches.create(
                input_file_id=input_file_id,
                endpoint=CHAT_URL,
                completion_window=COMPLETION_WINDOW,
                metadata=metadata,
            )

        return _state(await self.client.with_retries(call))

    async def retrieve(self, batch_id: str) -> BatchState:
        api = self.client.api

        async def call() -> Any:
            return await api.batches.retrieve(batch_id)

        return _state(await self.client.with_retries(call))

    async def download(self, file_id: str) -> bytes:
        api = self.client.api

        async def call() -> Any:
            return await api.files.content(file_id)

        content = await self.client.with_retries(call)
        return bytes(content.content if hasattr(content, "content") else content.read())

    async def wait(
        self,
        batch_id: str,
        *,
        timeout: float,
        first_delay: float = 2.0,
        max_delay: float = 60.0,
        on_poll: Callable[[BatchState], None] | None = None,
    ) -> BatchState:
        """Poll until the batch is finished or `timeout` seconds have passed, backing off
        exponentially (with jitter) from `first_delay` to `max_delay`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        delay = first_delay
        while True:
            state = await self.retrieve(batch_id)
            if on_poll is not None:
                on_poll(state)
            left = deadline - loop.time()
            if state.finished or left <= 0:
                return state
            await asyncio.sleep(min(left, random.uniform(delay / 2, delay)))
            delay = min(max_delay, delay * 2)


def _state(batch: Any) -> BatchState:
    counts = getattr(batch, "request_counts", None)
    errors = getattr(getattr(batch, "errors", None), "data", None) or []
    return BatchState(
        id=str(batch.id),
        status=str(batch.status),
        output_file_id=getattr(batch, "output_file_id", None),
        error_file_id=getattr(batch, "error_file_id", None),
        counts={k: int(getattr(counts, k, 0) or 0) for k in ("total", "completed", "failed")},
        errors=[" ".join(str(getattr(e, "message", e)).split()) for e in errors],
    )
