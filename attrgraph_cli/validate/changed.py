"""`--changed-since REF`: the files a git diff against REF touched (added, copied, modified, renamed),
plus untracked files git does not ignore, so that a CI job validates only what a change brought."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from attrgraph_cli.errors import AttrgraphError


class GitError(AttrgraphError):
    exit_code = 2


def _git(args: list[str], ref: str) -> str:
    git = shutil.which("git")
    if git is None:
        raise GitError(f"--changed-since {ref}: git is not installed")
    try:
        out = subprocess.run([git, *args], capture_output=True, text=True, check=False)
    except OSError as exc:
        raise GitError(f"--changed-since {ref}: cannot run git ({exc.strerror or exc})") from None
    if out.returncode != 0:
        reason = (out.stderr.strip().splitlines() or ["failed"])[0].removeprefix("fatal: ")
        raise GitError(f"--changed-since {ref}: git {args[0]}: {reason}")
    return out.stdout


def changed_files(ref: str) -> set[Path]:
    """Absolute paths of the files changed since `ref` (work tree against the commit), and new files."""
    if ref.startswith("-"):
        raise GitError(f"--changed-since {ref}: not a git revision")
    top = Path(_git(["rev-parse", "--show-toplevel"], ref).strip())
    try:
        _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], ref)
    except GitError:
        raise GitError(f"--changed-since {ref}: no such git revision (fetch it first?)") from None
    diff = _git(["diff", "--name-only", "-z", "--diff-filter=ACMRT", ref, "--"], ref)
    untracked = _git(["ls-files", "--others", "--exclude-standard", "-z", "--full-name", str(top)], ref)
    names = [n for n in (diff + untracked).split("\0") if n]
    return {Path(os.path.realpath(top / name)) for name in names}


def keep_changed(items: list, ref: str) -> list:
    """The items of `expand_paths` whose file changed since `ref` (unreadable arguments are kept)."""
    changed = changed_files(ref)
    return [item for item in items if not isinstance(item, Path) or Path(os.path.realpath(item)) in changed]
