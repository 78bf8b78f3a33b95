"""The local A/B/C stack and the tools around it (make up, chaos, bench, release list).

app/ is put on the import path so the stack reads variants.yaml with the app's own loader.
"""

import sys
from pathlib import Path

_APP = str(Path(__file__).resolve().parents[1] / "app")
if _APP not in sys.path:
    sys.path.insert(0, _APP)
