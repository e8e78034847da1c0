"""An operator whose broker is down (or whose HUB_AMQP_URI is wrong) gets one line saying so, not a
traceback, from every command that calls a service."""

from __future__ import annotations

import socket

import pytest
from typer.testing import CliRunner

from hubctl.main import app


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    "args",
    [
        ["departments", "list"],
        ["routing", "show"],
        ["enterprises", "list"],
        ["inspectors", "issue", "AJJ-TEZ"],
    ],
)
def test_a_broker_that_cannot_be_reached_is_one_line(args: list[str]) -> None:
    port = closed_port()
    result = CliRunner().invoke(app, args, env={"HUB_AMQP_URI": f"amqp://guest:guest@127.0.0.1:{port}//"})
    assert result.exit_code == 2, result.output
    assert f"the broker at 127.0.0.1:{port} cannot be reached" in result.output
    assert "Traceback" not in result.output and "guest:guest" not in result.output
