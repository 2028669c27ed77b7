"""State every process of one machine shares without Redis (the demo's web process and
worker): a JSON file, read and written under an exclusive lock."""

import fcntl
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def locked_json(path: Path) -> Iterator[dict[str, Any]]:
    """The file's state (empty at first), written back when the block ends; other processes
    wait for the lock meanwhile."""
    with open(path, "a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        text = handle.read()
        state = json.loads(text) if text else {}
        yield state
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(state))
