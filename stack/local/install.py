"""The one system package the local stack needs at start-up: HAProxy (installed where we can)."""

from __future__ import annotations

import os
import shutil
import subprocess

from .. import StackError


def ensure_haproxy() -> str:
    """The haproxy binary's path; installs it with apt-get when running as root, else says how."""
    found = shutil.which("haproxy") or (os.path.exists("/usr/sbin/haproxy") and "/usr/sbin/haproxy")
    if found:
        return found
    command = "sudo apt-get update && sudo apt-get install -y haproxy"
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("HAProxy is missing: installing it with apt-get")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "haproxy"], check=True, env=env, stdout=subprocess.DEVNULL)
        found = shutil.which("haproxy") or "/usr/sbin/haproxy"
        if os.path.exists(found):
            return found
    raise StackError(
        f"HAProxy is not installed. Install it with:\n    {command}\n(or `brew install haproxy` on macOS), then run `make up` again."
    )
