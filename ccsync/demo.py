"""`make demo`: the whole product on one machine, offline, with no services to install.

Prepares both databases, seeds the sandbox once, then runs web, worker, beat and the sandbox
under honcho. With `--announce` (a Procfile entry) it waits until the app and the sandbox
answer and prints where to click.
"""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP_URL = "http://127.0.0.1:8000/"
START_URL = "http://127.0.0.1:8001/qbo/apps/"


def load_env() -> None:
    for line in (ROOT / "demo.env").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            os.environ.setdefault(name.strip(), value.strip())
    # Procfile commands say `python`: make that this environment's interpreter.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"


def prepare() -> None:
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True)
    subprocess.run(
        [python, "-m", "sandbox", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True
    )
    subprocess.run([python, "-m", "sandbox", "seed", "--if-empty"], cwd=ROOT, check=True)


def announce() -> None:
    for url in (APP_URL, START_URL):
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)  # noqa: S310 (local demo URLs)
                break
            except OSError:
                time.sleep(0.5)
    print(
        "\n"
        "  ccsync demo is running.\n"
        f"  Open {START_URL} (the sandbox's QuickBooks Apps tab), find\n"
        "  'Constant Contact for QuickBooks Online' and click Get App Now.\n"
        "  QuickBooks sign-in: demo@example.com / demo    Constant Contact: demo / demo\n"
        f"  The app itself: {APP_URL}    Stop with Ctrl-C.\n",
        flush=True,
    )
    signal.pause()


def main() -> None:
    load_env()
    if "--announce" in sys.argv:
        announce()
        return
    prepare()
    honcho = [sys.executable, "-m", "honcho", "-d", str(ROOT), "-f", str(ROOT / "Procfile")]
    os.execv(sys.executable, [*honcho, "start"])


if __name__ == "__main__":
    main()
