"""HTTP as a client of the stack sees it: probes, waiting until ready (a URL or a port), stopping a
started server, form tokens, a staff login."""

from __future__ import annotations

import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable

from . import StackError


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def http_get(url: str, timeout: float = 2.0, headers: dict | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def wait_until_ready(
    url: str, timeout: float = 60.0, also: Callable[[], bool] | None = None, gone: Callable[[], bool] | None = None, interval: float = 0.2
) -> bool:
    """True once GET `url` answers 200 (and `also()` holds, if given); False after `timeout` or as
    soon as `gone()` says the process behind it has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if gone is not None and gone():
            return False
        try:
            status = http_get(url, timeout=1)[0]
        except OSError:
            status = 0
        if status == 200 and (also is None or also()):
            return True
        time.sleep(interval)
    return False


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 10.0) -> bool:
    """True once `port` accepts connections; False after `timeout` or as soon as `process` has exited."""
    deadline = time.monotonic() + timeout
    while not port_open(port):
        if process.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def stop_process(process: subprocess.Popen | None, timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if it is still there after `timeout`; nothing if it has already exited."""
    if process and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# The two hidden tokens of the order form (and the login form's CSRF token), as a client reads them.
# What a customer's browser sends: the app counts exposures only for browsers (its bot rule refuses
# HTTP libraries), so load generators and stack tests that play customers say they are one.
BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
# The exposure beacon a landing page or order form carries; a browser's script fetches it once shown.
SEEN = re.compile(r'data-seen="(/seen/[^"]+)"')

FORM_FIELD = re.compile(r'name="(csrfmiddlewaretoken|form_token|shown_by)" value="([^"]+)"')


def form_fields(html: str) -> dict[str, str]:
    return dict(FORM_FIELD.findall(html))


def staff_login(base: str, username: str, password: str):
    """A requests session logged in as staff through the real login page (CSRF included)."""
    import requests

    session = requests.Session()
    page = session.get(f"{base}/accounts/login/", timeout=10)
    token = form_fields(page.text).get("csrfmiddlewaretoken")
    if page.status_code != 200 or not token:
        raise StackError(f"login page at {base}: {page.status_code}")
    done = session.post(
        f"{base}/accounts/login/",
        timeout=10,
        allow_redirects=False,
        headers={"Referer": f"{base}/accounts/login/"},
        data={"csrfmiddlewaretoken": token, "username": username, "password": password, "next": "/staff/orders/"},
    )
    if done.status_code != 302 or "sessionid" not in session.cookies:
        raise StackError(f"staff login at {base} failed: {done.status_code}")
    return session
