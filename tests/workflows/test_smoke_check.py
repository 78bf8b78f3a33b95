"""The deploy's smoke check (stack/deploy/smoke_check.py) against a local stand-in for the ALB."""

from __future__ import annotations

import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from stack.deploy import smoke_check

RELEASES = [
    {"name": "pizza-a", "variant": "a", "theme": "classic", "weight": 34, "schemaOwner": True},
    {"name": "pizza-b", "variant": "b", "theme": "bold", "weight": 33, "schemaOwner": False},
    {"name": "pizza-c", "variant": "c", "theme": "minimal", "weight": 33, "schemaOwner": False},
]


def serve(answers, ready=True, cookies_seen=None):
    """A round-robin 'load balancer' that answers like the app: headers and data-theme marker."""
    cycle = itertools.cycle(answers)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if cookies_seen is not None and self.headers.get("Cookie"):
                cookies_seen.append(self.headers["Cookie"])
            if self.path == "/readyz":
                self.send_response(200 if ready else 503)
                self.end_headers()
                return
            variant, header_theme, body_theme = next(cycle)
            body = f'<html data-theme="{body_theme}"><body>pizza</body></html>'.encode()
            self.send_response(200)
            self.send_header("X-Pizza-Variant", variant)
            self.send_header("X-Pizza-Theme", header_theme)
            self.send_header("Set-Cookie", f"pizza_variant={variant}")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    # shutdown() waits for serve_forever's next poll: 50 ms, not the default half second per server.
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


@pytest.fixture
def alb():
    servers = []

    def start(*args, **kwargs):
        server = serve(*args, **kwargs)
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def expected():
    return smoke_check.expected_themes(RELEASES)


def test_every_variant_seen_with_its_theme_passes_and_sends_no_cookie(alb):
    cookies = []
    url = alb([("a", "classic", "classic"), ("b", "bold", "bold"), ("c", "minimal", "minimal")], cookies_seen=cookies)
    result = smoke_check.check(url, expected(), attempts=10, delay=0)
    assert result.problems == [] and result.seen == {"a": "classic", "b": "bold", "c": "minimal"}
    assert cookies == []  # each request is a new visitor, so the weighted rule places it afresh


def test_a_variant_never_reached_fails(alb):
    url = alb([("a", "classic", "classic"), ("b", "bold", "bold")])
    result = smoke_check.check(url, expected(), attempts=6, delay=0)
    assert result.problems == ["never reached variant(s) c in 6 requests"]


def test_a_variant_serving_the_wrong_theme_fails(alb):
    url = alb([("a", "classic", "classic"), ("b", "classic", "classic")])
    result = smoke_check.check(url, expected(), attempts=6, delay=0)
    assert any("variant b answered with theme 'classic', expected 'bold'" in p for p in result.problems)


def test_a_page_without_its_theme_marker_fails(alb):
    url = alb([("a", "classic", "bold")])
    result = smoke_check.check(url, expected(), attempts=3, delay=0)
    assert result.problems == ['variant a: page lacks data-theme="classic"']


def test_not_ready_fails_before_looking_for_variants(alb):
    url = alb([("a", "classic", "classic")], ready=False)
    result = smoke_check.check(url, expected(), attempts=2, delay=0)
    assert not result.ready and "never answered 200" in result.problems[0]


def test_a_variant_with_weight_zero_is_not_expected():
    releases = [*RELEASES[:2], {**RELEASES[2], "weight": 0}]
    assert smoke_check.expected_themes(releases) == {"a": "classic", "b": "bold"}


def test_the_command_line_writes_the_job_summary_and_exits_non_zero_on_failure(alb, tmp_path, monkeypatch):
    url = alb([("a", "classic", "classic")])
    releases = tmp_path / "releases.json"
    releases.write_text(json.dumps(RELEASES))
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code = smoke_check.main(["--base-url", url, "--releases", str(releases), "--attempts", "3", "--delay", "0"])
    assert code == 1
    assert "| a | classic | yes |" in summary.read_text() and "| b | bold | no |" in summary.read_text()
