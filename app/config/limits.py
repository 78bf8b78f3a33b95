"""Request body limits shared by the app's settings and the local load balancer (stack/local/haproxy.py).

MAX_FORM_BYTES is the limit a customer meets: a larger form body gets the app's themed 413 page
naming it. The app reads and discards a refused body up to MAX_DRAIN_BYTES before answering, so the
client finishes sending and reads the page instead of a connection reset; the load balancer refuses
anything larger itself, so no worker ever reads more than MAX_DRAIN_BYTES.
"""

MAX_FORM_BYTES = 256 * 1024
MAX_DRAIN_BYTES = 16 * 1024 * 1024


def human(size: int) -> str:
    """256 KB, 16 MB: how the pages name a limit."""
    return f"{size // (1024 * 1024)} MB" if size >= 1024 * 1024 else f"{size // 1024} KB"
