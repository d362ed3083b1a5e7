"""ssh's failures in plain words: which host, what went wrong, what to do, and ssh's own line.

ssh prints one or two lines and exits 255 for anything that is not the remote command's
failure. The lines are stable across OpenSSH versions, so they are matched here to put the
usual cause first; ssh's own text always follows, so nothing is hidden by a wrong guess.
"""

from __future__ import annotations

from poolmon.runtime.ssh.url import SshUrl

_UNREACHABLE = (
    "connection refused",
    "no route to host",
    "could not resolve hostname",
    "name or service not known",
    "connection timed out",
    "network is unreachable",
    "operation timed out",
    "connection closed by",
    "connection reset",
)
_HOST_KEY = (
    "host key verification failed",
    "host key is known",
    "remote host identification has changed",
    "no matching host key",
)


def ssh_lines(text: str, *, own: bool = False) -> str:
    """The stderr of ssh without blank lines and warnings about known_hosts additions.

    With `own` (ssh's own failure, which `explain` puts in `[ssh: ...]`) ssh's `ssh: ` prefix
    is removed: `[ssh: ssh: connect to host ...]` said it twice.
    """
    keep = [
        line.strip().removeprefix("ssh: " if own else "")
        for line in text.splitlines()
        if line.strip() and not line.startswith("Warning: Permanently added")
    ]
    return "; ".join(keep[-3:]) or "no message"


def explain(url: SshUrl, text: str, code: int) -> str:
    """The one-line error for a failed ssh call to `url` (stderr `text`, exit status `code`)."""
    low = text.lower()
    said = ssh_lines(text, own=True)
    where = url.host_url
    if any(p in low for p in _HOST_KEY):
        return (
            f"{where}: host key unknown or changed: ssh refused to connect (run `ssh "
            f"{url.destination}` once to check and accept the key) [ssh: {said}]"
        )
    if "permission denied" in low or "too many authentication failures" in low:
        return (
            f"{where}: permission denied: ssh could not log in as "
            f"{url.user or 'the default user'} with the keys it has [ssh: {said}]"
        )
    if any(p in low for p in _UNREACHABLE):
        return f"{where}: host unreachable [ssh: {said}]"
    return f"{where}: ssh failed (exit status {code}) [ssh: {said}]"
