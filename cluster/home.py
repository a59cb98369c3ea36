"""Where the state folder is when nothing says: ``$AMK_HOME``, else the nearest ``.amk``
folder in the working directory or above it (as git finds its repository), else
``./.amk``. Before, a command run from a sub-folder of the checkout (``docs/``) looked for
``docs/.amk``, failed on a missing certificate, and told the user to run ``amk up``
while the cluster was running."""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "AMK_HOME"
FOLDER = ".amk"


def state_folder(env: dict[str, str] | None = None, cwd: Path | None = None) -> Path:
    """The state folder, absolute (it need not exist yet: ``amk up`` makes it)."""
    env = dict(os.environ) if env is None else env
    if given := env.get(HOME_ENV, "").strip():
        return Path(given).resolve()
    here = (cwd or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / FOLDER).is_dir():
            return folder / FOLDER
    return here / FOLDER
