"""Fixtures of the ssh tests: a real sshd on loopback and a pool to reach (see sshd_server)."""

from __future__ import annotations

from sshd_server import remote_pool, ssh_env, sshd

__all__ = ["remote_pool", "ssh_env", "sshd"]
