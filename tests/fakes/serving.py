"""An aiohttp application served on a free port of 127.0.0.1, for the fakes and the tests' small servers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web


async def listen(app: web.Application, shutdown_timeout: float = 60.0) -> tuple[web.AppRunner, int]:
    """Serve `app` on a free port of 127.0.0.1 (no access log); the runner, to clean up, and the port."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    assert site._server is not None and site._server.sockets
    return runner, site._server.sockets[0].getsockname()[1]


@asynccontextmanager
async def served(app: web.Application) -> AsyncIterator[str]:
    """`app` served while the block runs; yields its base URL, http://127.0.0.1:PORT."""
    runner, port = await listen(app)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
