"""Where the state folder is when nothing says: ``$AMK_HOME``, else the nearest ``.amk``
folder in the working directory or above it (as git finds its repository), else
``./.amk``; the search stops at the checkout's root (``.git`` or ``pyproject.toml``), so a
``~/.amk`` left by a command run at home is never taken for this checkout's. Before, a
command run from a sub-folder of the checkout (``docs/``) looked for
``docs/.amk``, failed on a missing certificate, and told the user to run ``amk up``
while the cluster was running."""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "AMK_HOME"
FOLDER = ".amk"
#: What marks a checkout's root, where the search upwards stops.
ROOT_MARKS = (".git", "pyproject.toml")


def state_folder(env: dict[str, str] | None = None, cwd: Path | None = None) -> Path:
    """The state folder, absolute (it need not exist yet: ``amk up`` makes it)."""
    env = dict(os.environ) if env is None else env
    if given := env.get(HOME_ENV, "").strip():
        return Path(given).resolve()
    here = (cwd or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / FOLDER).is_dir():
            return folder / FOLDER
        if any((folder / mark).exists() for mark in ROOT_MARKS):
            break  # the checkout's root: a .amk above it is another project's, or ~'s
    return here / FOLDER
