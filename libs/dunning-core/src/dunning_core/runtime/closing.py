"""``async with`` for an adapter that holds connections and closes them in ``aclose``."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class AsyncClosing:
    """A base for adapters: ``async with adapter:`` awaits ``adapter.aclose()`` on leaving."""

    async def aclose(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
