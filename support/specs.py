"""Where the providers' specs are: `shared/specs` beside the repository, or beside a folder
holding it (a git worktree such as `wt/<name>` shares the one copy)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def shared_spec(name: str) -> Path:
    """The spec file `name` of the nearest `shared/specs` above the repository."""
    for folder in ROOT.parents:
        candidate = folder / "shared" / "specs" / name
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"shared/specs/{name} is in no folder above {ROOT}")


CONSTANT_CONTACT_SPEC = "constantcontact-v3-openapi.json"
