"""The server extension that turns off Nagle's algorithm on kernel websockets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from widgets.fast_websocket import NoDelayKernelWebsocketConnection

ROOT = Path(__file__).resolve().parents[1]
CONFIG = Path("jupyter_server_config.d", "effml-widgets.json")


def test_the_shipped_config_enables_the_extension(tmp_path):
    """jupyter-config/, installed with the package into the environment's etc/jupyter, makes
    `jupyter lab` use the connection (HOME is empty: no user config is read)."""
    installed = Path(sys.prefix, "etc", "jupyter", CONFIG)
    assert installed.read_bytes() == (ROOT / "jupyter-config" / CONFIG).read_bytes()
    script = (
        "from jupyter_server.serverapp import ServerApp\n"
        "app = ServerApp()\n"
        "app.initialize(argv=['--allow-root', '--port=0', '--no-browser'])\n"
        "print(app.web_app.settings['kernel_websocket_connection_class'].__name__)\n"
    )
    env = {"JUPYTER_RUNTIME_DIR": str(tmp_path), "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip().splitlines()[-1] == "NoDelayKernelWebsocketConnection", (
        result.stderr
    )


def test_connecting_sets_tcp_nodelay(monkeypatch):
    calls = []

    class Handler:
        def set_nodelay(self, value):
            calls.append(value)

    connection = NoDelayKernelWebsocketConnection.__new__(NoDelayKernelWebsocketConnection)
    monkeypatch.setattr(NoDelayKernelWebsocketConnection, "websocket_handler", Handler())
    parent = NoDelayKernelWebsocketConnection.__mro__[1]
    monkeypatch.setattr(parent, "connect", lambda self: "connected")
    assert connection.connect() == "connected"
    assert calls == [True]
