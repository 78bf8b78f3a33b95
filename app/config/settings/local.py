"""The local stack (`make up`): debug pages off by default, a generated key is accepted."""

from .base import *  # noqa: F401,F403
from .base import SECRET_KEY, env_bool

DEBUG = env_bool("DEBUG", False)
# make up passes a generated SECRET_KEY; this fallback only serves manage.py run by hand.
SECRET_KEY = SECRET_KEY or "local-only-not-a-secret"
