"""The static files storage: WhiteNoise's compressed manifest storage, each URL worked out once.

`{% static %}` asks the storage for a file's hashed URL on every page (base.css, theme.css, a page's
script, the exposure beacon's script): a manifest lookup, name cleaning and URL quoting each time, a
few percent of a customer page's CPU (docs/bench.md). The manifest is read once when the process
starts and never changes while it runs, so the answer for a name does not either.
"""

from __future__ import annotations

from django.conf import settings
from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    def url(self, name, force=False):
        if force or settings.DEBUG or not self.manifest_strict or not self.hashed_files:
            return super().url(name, force)  # collectstatic, DEBUG, or no manifest read: as WhiteNoise does
        try:
            return self._urls[name]
        except AttributeError:
            self._urls: dict[str, str] = {}
        except KeyError:
            pass
        url = self._urls[name] = super().url(name, force)
        return url
