"""uvicorn with a banner printed once it listens: the last thing on a newcomer's screen."""

from __future__ import annotations

import socket

import typer
import uvicorn


class AnnouncingServer(uvicorn.Server):
    """Prints ``banner`` after uvicorn's start-up log lines, so the first-start passwords
    stand apart from the log instead of scrolling away among migration and startup lines."""

    def __init__(self, config: uvicorn.Config, banner: str) -> None:
        super().__init__(config)
        self.banner = banner

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            typer.echo(self.banner)
