"""Stand-in commands (helm, kubectl, gh, aws, docker) for the scripts under test, written into a bin
directory that the test puts first on the script's PATH."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

# A stand-in written in Python runs with the tests' own interpreter. `#!/usr/bin/env python3` would run
# whatever python3 comes first on PATH: behind a pyenv shim that costs ~70 ms a call, and the scripts
# under test call their stand-ins hundreds of times per run.
ENV_PYTHON = "#!/usr/bin/env python3\n"


def install(bin_dir: Path, scripts: dict[str, str]) -> Path:
    """Write each script as an executable bin_dir/<name> (a `#!/usr/bin/env python3` one with the tests'
    interpreter in its first line instead); returns bin_dir."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name, body in scripts.items():
        if body.startswith(ENV_PYTHON):
            body = f"#!{sys.executable}\n" + body.removeprefix(ENV_PYTHON)
        path = bin_dir / name
        path.write_text(body)
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return bin_dir
