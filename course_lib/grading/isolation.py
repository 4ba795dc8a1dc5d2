"""Who the learner's code runs as, where it may write, and cleaning up after it (exercises).

Where the grader runs as root (CI, GitHub Classroom) or has passwordless sudo, each notebook's kernel
runs as a fresh unprivileged user id of its own: it cannot signal the grader, write the grader's files or
read anything the grader keeps private, and every process it leaves behind is found by that user id and
killed when the notebook is done. Where the interpreter sits under a folder that user cannot enter (a
Python under ``/root``), the kernel gets a private mount namespace in which only the interpreter's folder
is visible there. Elsewhere the kernel runs as the grader's own user, the report says isolation is
partial, and leftover processes are found by a random token in their environment.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

__all__ = ["IsolationPlan", "LearnerBox", "plan_isolation"]

_UID_BASE = 1_900_000_000
_SCRATCH = ("/tmp", "/var/tmp", "/dev/shm")


@dataclass
class IsolationPlan:
    """How a notebook's kernel is started: as whom, and what the report says about it (exercises)."""

    mode: Literal["separate-user", "same-user"]
    reason: str
    uid: int | None = None
    gid: int | None = None
    via: Literal["root", "sudo", "none"] = "none"
    hidden_parents: list[str] = field(default_factory=list)
    namespace: bool = False
    """Whether the kernel gets a private mount namespace (in which the checks are hidden)."""
    hide: list[str] = field(default_factory=list)
    """More folders to hide from the learner's process (say, the checks of the learner's own copy)."""

    @property
    def full(self) -> bool:
        """True when the learner's code cannot touch the grader (a separate user who cannot read the checks)."""
        return self.mode == "separate-user" and "readable" not in self.reason


def _others_can_reach(path: Path) -> bool:
    """Whether a user with no special rights can enter every folder down to ``path``."""
    path = path.resolve()
    for parent in [*reversed(path.parents), path]:
        try:
            mode = parent.stat().st_mode
        except OSError:
            return False
        if stat.S_ISDIR(mode) and not mode & stat.S_IXOTH:
            return False
    return True


def _others_can_read(path: Path) -> bool:
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    need = stat.S_IROTH | (stat.S_IXOTH if stat.S_ISDIR(mode) else 0)
    return bool(mode & need == need) and _others_can_reach(path.parent)


def _blocking_parents(paths: list[Path]) -> list[str]:
    """Folders others cannot enter on the way to ``paths`` (e.g. ``/root`` above a pyenv Python)."""
    blocking: list[str] = []
    for path in paths:
        for parent in reversed(path.resolve().parents):
            with contextlib.suppress(OSError):
                if not parent.stat().st_mode & stat.S_IXOTH and str(parent) not in blocking:
                    blocking.append(str(parent))
    return blocking


def _works(cmd: list[str]) -> bool:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _needed_paths(python: str) -> list[Path]:
    """What the learner's kernel must reach: its Python (and, for the grader's own Python, its prefixes)."""
    interpreter = Path(python).resolve()
    if (
        Path(python).absolute() == Path(sys.executable).absolute()
        or interpreter == Path(sys.executable).resolve()
    ):
        return [interpreter.parent, Path(sys.base_prefix), Path(sys.prefix)]
    return [interpreter.parent, interpreter.parent.parent]


def plan_isolation(python: str = sys.executable, *, allow: bool = True) -> IsolationPlan:
    """Decide how to run learner code here: a separate user where root or sudo allows, else the same user."""
    if not allow:
        return IsolationPlan("same-user", "isolation was turned off (--same-user): partial isolation")
    root = os.geteuid() == 0
    via: Literal["root", "sudo"] | None = "root" if root else None
    if via is None and shutil.which("sudo") and _works(["sudo", "-n", "true"]):
        via = "sudo"
    if via is None or not shutil.which("setpriv"):
        return IsolationPlan(
            "same-user",
            "partial isolation: the notebook runs as the grader's own user (run the grader as root or with "
            "passwordless sudo to run it as a separate user)",
        )
    uid = _UID_BASE + secrets.randbelow(90_000_000)
    hidden = _blocking_parents(_needed_paths(python))
    namespaces = _works((["sudo", "-n"] if via == "sudo" else []) + ["unshare", "-m", "true"])
    if hidden and not namespaces:
        return IsolationPlan(
            "same-user",
            f"partial isolation: a separate user could not reach the Python under {hidden[0]} and mount "
            "namespaces are not available here",
        )
    checks = Path(__file__).resolve().parent / "checks"
    reason = "the notebook runs as a separate user that cannot signal the grader or write its files"
    if namespaces:
        reason += ", and cannot read the checks (hidden from its view of the file system)"
    elif _others_can_read(checks / "__init__.py") or _others_can_read(checks):
        reason += (
            "; the checks are readable by that user (install the grader where only its user can read it)"
        )
    return IsolationPlan(
        "separate-user", reason, uid=uid, gid=uid, via=via, hidden_parents=hidden, namespace=namespaces
    )


class LearnerBox:
    """The temporary folders, start command and clean-up for one notebook's kernel (exercises)."""

    def __init__(self, plan: IsolationPlan) -> None:
        self.plan = plan
        self.token = secrets.token_hex(16)
        self.root = Path(tempfile.mkdtemp(prefix="course-grade-"))
        self.root.chmod(0o711)  # others may enter (to reach the socket) but not list it
        self.private = self.root / f"private-{secrets.token_hex(8)}"
        self.private.mkdir(mode=0o700)
        self.home = self.root / f"learner-{secrets.token_hex(8)}"
        self.home.mkdir(mode=0o700)
        self.socket_path = str(self.root / f"{secrets.token_hex(8)}.sock")
        self.connection_file = str(self.root / f"kernel-{secrets.token_hex(8)}.json")
        if plan.mode == "separate-user":
            self._as_root(["chown", f"{plan.uid}:{plan.gid}", str(self.home)])

    def _as_root(self, cmd: list[str]) -> None:
        if self.plan.via == "root":
            if cmd[0] == "chown":
                uid, gid = (int(x) for x in cmd[1].split(":"))
                os.chown(cmd[2], uid, gid)
                return
            subprocess.run(cmd, capture_output=True, timeout=30, check=False)
        elif self.plan.via == "sudo":
            subprocess.run(["sudo", "-n", *cmd], capture_output=True, timeout=30, check=False)

    def env(self) -> dict[str, str]:
        """Where the learner's process keeps its files, and the token that marks its processes."""
        home = str(self.home)
        return {
            "HOME": home,
            "TMPDIR": home,
            "IPYTHONDIR": str(self.home / ".ipython"),
            "MPLCONFIGDIR": str(self.home / ".matplotlib"),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "JUPYTER_RUNTIME_DIR": str(self.home / ".jupyter-runtime"),
            "HYPOTHESIS_STORAGE_DIRECTORY": str(self.home / ".hypothesis"),
            "COURSE_GRADE_RUN": self.token,
        }

    def command_prefix(self) -> list[str]:
        """What goes before the kernel's command: switch user (and hide private parents) when isolating."""
        plan = self.plan
        if plan.mode != "separate-user":
            return []
        switch = [
            "setpriv",
            f"--reuid={plan.uid}",
            f"--regid={plan.gid}",
            "--clear-groups",
            "--no-new-privs",
            "--",
        ]
        prefix = ["sudo", "-n", "--preserve-env", "--"] if plan.via == "sudo" else []
        if not plan.namespace:
            return prefix + switch
        lines = ["set -e"]
        checks = Path(__file__).resolve().parent / "checks"
        for folder in dict.fromkeys([str(checks), *plan.hide]):
            if Path(folder).is_dir():
                lines.append(f"mount -t tmpfs -o mode=700,size=1m course-hide {shlex.quote(folder)}")
        for n, parent in enumerate(plan.hidden_parents):
            keep = sorted({self._child_under(parent, p) for p in _needed_paths(sys.executable)} - {None})
            stash = f"{self.private}/mnt{n}"
            lines.append(f"mkdir -p {shlex.quote(stash)}")
            for i, child in enumerate(keep):
                lines.append(f"mkdir -p {shlex.quote(stash)}/{i}")
                lines.append(f"mount --bind {shlex.quote(parent + '/' + child)} {shlex.quote(stash)}/{i}")
            lines.append(f"mount -t tmpfs -o mode=755,size=1m course-hide {shlex.quote(parent)}")
            for i, child in enumerate(keep):
                lines.append(f"mkdir -p {shlex.quote(parent + '/' + child)}")
                lines.append(f"mount --move {shlex.quote(stash)}/{i} {shlex.quote(parent + '/' + child)}")
        lines.append('exec "$@"')
        script = "; ".join(lines)
        return [*prefix, "unshare", "-m", "--propagation", "private", "--", "sh", "-c", script, "sh", *switch]

    @staticmethod
    def _child_under(parent: str, path: Path) -> str | None:
        try:
            rel = path.resolve().relative_to(parent)
        except ValueError:
            return None
        return rel.parts[0] if rel.parts else None

    def cwd_for(self, notebook: Path) -> str:
        """The notebook's folder when the learner's user can enter it, else the learner's own folder."""
        folder = notebook.resolve().parent
        if self.plan.mode == "same-user" or _others_can_reach(folder):
            return str(folder)
        return str(self.home)

    def _learner_pids(self) -> list[int]:
        pids = []
        marker = f"COURSE_GRADE_RUN={self.token}".encode()
        for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                if self.plan.mode == "separate-user":
                    status = (entry / "status").read_text()
                    uids = next(ln for ln in status.splitlines() if ln.startswith("Uid:")).split()[1:]
                    if str(self.plan.uid) in uids:
                        pids.append(int(entry.name))
                elif marker in (entry / "environ").read_bytes():
                    pids.append(int(entry.name))
            except (OSError, StopIteration, ValueError):
                continue
        return pids

    def kill_all(self) -> int:
        """Kill every process the learner's code started (daemons included); return how many were found."""
        found = 0
        for _ in range(20):
            pids = self._learner_pids()
            if not pids:
                break
            found += len(pids)
            if self.plan.via == "sudo" and self.plan.mode == "separate-user":
                subprocess.run(
                    ["sudo", "-n", "kill", "-KILL", *map(str, pids)], capture_output=True, check=False
                )
            else:
                for pid in pids:
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)
        return found

    def _remove_learner_files(self) -> None:
        if self.plan.mode != "separate-user":
            return
        for top in _SCRATCH:
            base = Path(top)
            if not base.is_dir():
                continue
            with contextlib.suppress(OSError):
                for entry in base.iterdir():
                    with contextlib.suppress(OSError):
                        if entry.lstat().st_uid == self.plan.uid:
                            if self.plan.via == "sudo":
                                subprocess.run(
                                    ["sudo", "-n", "rm", "-rf", str(entry)], capture_output=True, check=False
                                )
                            elif entry.is_dir() and not entry.is_symlink():
                                shutil.rmtree(entry, ignore_errors=True)
                            else:
                                entry.unlink()

    def close(self) -> None:
        """Kill what the learner left running and delete every file and folder made for it."""
        self.kill_all()
        self._remove_learner_files()
        if self.plan.via == "sudo" and self.plan.mode == "separate-user":
            subprocess.run(["sudo", "-n", "rm", "-rf", str(self.home)], capture_output=True, check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> LearnerBox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
