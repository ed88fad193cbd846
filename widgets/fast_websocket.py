"""Kernel messages reach the browser without TCP's Nagle delay (a Jupyter server setting).

jupyter_server writes each kernel message to the browser's websocket as it arrives but leaves
Nagle's algorithm on. An explorer update sends a small "busy" status, then its picture (~60 KB):
Nagle holds the picture until the browser acknowledges the status, which a delayed ACK can
postpone by up to ~40 ms. With TCP_NODELAY a slider step's picture arrives 3-5 ms sooner at the
median and the slow tail goes (benchmarks/browser_latency.py).

A Jupyter server extension: installing the package enables it (pyproject.toml puts
jupyter-config/jupyter_server_config.d/effml-widgets.json into the environment's etc/jupyter).
"""

from __future__ import annotations

import asyncio
from typing import Any

from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection


class NoDelayKernelWebsocketConnection(ZMQChannelsWebsocketConnection):
    """jupyter_server's kernel websocket connection, with TCP_NODELAY on its socket."""

    def connect(self) -> asyncio.Future[None] | None:
        self.websocket_handler.set_nodelay(True)
        return super().connect()


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "widgets.fast_websocket"}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    """Use the connection above, unless the server was configured with another one."""
    settings = server_app.web_app.settings
    if settings.get("kernel_websocket_connection_class") is ZMQChannelsWebsocketConnection:
        settings["kernel_websocket_connection_class"] = NoDelayKernelWebsocketConnection
