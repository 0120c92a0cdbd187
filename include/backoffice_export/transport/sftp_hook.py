"""The sftp provider's ``SFTPHook``, on a TCP connection that sends each SSH packet at once.

paramiko opens its socket with Nagle's algorithm on, so during the SSH handshake a small packet
waits for the server's delayed acknowledgement of the one before (up to 40 ms, twice per login).
OpenSSH's own client sets ``TCP_NODELAY``; so does this hook.

Only how the socket is made changes: the hook connects it itself (same host, port and
``conn_timeout``, 10 s if unset) and hands it to paramiko, which is what the provider does with a proxy
command's pipe. A connection with a proxy command keeps it. Made for one attempt
(``conn_retry_attempts=1``): the export retries by retrying the task.
"""

from __future__ import annotations

import socket
from functools import cached_property
from typing import Any

import paramiko
from airflow.providers.sftp.hooks.sftp import SFTPHook

CONNECT_TIMEOUT = 10.0  # seconds, when the connection's extra sets no conn_timeout (the provider's documented default)


class NoDelaySFTPHook(SFTPHook):
    @cached_property
    def host_proxy(self) -> Any:  # the provider's type: a ProxyCommand, or here a socket too
        if self.host_proxy_cmd:
            return paramiko.ProxyCommand(self.host_proxy_cmd)
        timeout = self.conn_timeout if self.conn_timeout is not None else CONNECT_TIMEOUT
        sock = socket.create_connection((self.remote_host, self.port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
