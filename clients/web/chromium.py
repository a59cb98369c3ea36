"""How the project starts Debian's chromium, headless: the browser tests, the browser
benchmark and the README's screenshots.

Why one place: the flags are what this kind of machine needs (no sandbox or GPU in a
container; no background connections to the browser vendor's services, which a closed
network refuses many at a time), and the binary is Debian's, which ``./dev`` installs:
nothing here, nor Playwright, downloads a browser.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

CHROMIUM = Path(os.environ.get("AMK_CHROMIUM", "/usr/bin/chromium"))

ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

#: The size of one AMK desk screen.
DESK = {"width": 1920, "height": 1080}


def executable() -> str:
    """Debian's chromium, or a clear error saying how to get it."""
    if not CHROMIUM.exists():
        raise RuntimeError(
            f"no chromium at {CHROMIUM}: ./dev setup installs Debian's chromium "
            "(or set AMK_CHROMIUM=/path/to/chromium)"
        )
    return str(CHROMIUM)


async def launch(playwright: Any) -> Any:
    """A headless chromium from a started ``async_playwright()``."""
    path = executable()
    return await playwright.chromium.launch(executable_path=path, headless=True, args=list(ARGS))
