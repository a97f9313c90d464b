"""A `StructuredClient` driven from synchronous code.

Reconcile is a plain function; the model judge and the endpoint embedder it is given are
plain callables. Each call here runs the async client to completion on an event loop of
its own, on the calling thread, which therefore must not be running another loop (the
pipeline calls reconcile in a worker thread). The client, and with it openai, is only
built on the first call, so a fully cached reconcile never loads it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from annotator.core.settings import EndpointConfig

if TYPE_CHECKING:
    from annotator.extract.llm.client import StructuredClient

R = TypeVar("R")


class BlockingClient:
    """One endpoint, one mode, one private event loop; `close()` when done."""

    def __init__(self, config: EndpointConfig, mode: str) -> None:
        self.config = config
        self.mode = mode
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: StructuredClient | None = None

    def run(self, call: Callable[[StructuredClient], Awaitable[R]]) -> R:
        """Run `call(client)` to completion and return its result (or raise its error)."""
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        if self._client is None:
            from annotator.extract.llm.client import StructuredClient  # slow import: when used

            self._client = StructuredClient(self.config, mode=self.mode)
        client = self._client

        async def go() -> R:
            return await call(client)

        return self._loop.run_until_complete(go())

    def close(self) -> None:
        """Close the connection pool and the loop; call it on the thread that ran calls."""
        if self._loop is None:
            return
        try:
            if self._client is not None:
                self._loop.run_until_complete(self._client.aclose())
        finally:
            self._loop.close()
            self._loop = None
            self._client = None
