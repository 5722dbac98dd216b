"""Programs Glia runs inside a sandbox for itself: export a tree, read a file, clear the repository,
set up the Researcher's own git. Their output is still treated as hostile on the host.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

# bash: export the repository as a GNU tar on stdout. Arguments: repo, max file bytes, max depth,
# max path bytes, then exclude patterns (no '/': any component's name; with '/': a path from the root).
# Files over the cap, too deep or with too long a name are not archived but named on stderr, one
# "glia-skip<TAB>why<TAB>path" line each. Names are sorted (C locale), so the archive's order, and what a
# capped export keeps, do not depend on the filesystem's. Hard links are archived as files; FIFOs,
# devices and symlinks as what they are (tar never reads them); the host decides what to keep.
EXPORT_SCRIPT = r"""
set -o pipefail
export LC_ALL=C
cd -- "$1" || exit 3
max_file=$2 max_depth=$3 max_path=$4
shift 4
prune=()
for pattern in "$@"; do
  case $pattern in
    */*) prune+=(-path "./${pattern#/}" -o) ;;
    *) prune+=(-name "$pattern" -o) ;;
  esac
done
find . -mindepth 1 -maxdepth "$((max_depth + 1))" -regextype posix-extended \
  \( "${prune[@]}" -false \) -prune -o \
  -regex "\./([^/]+/){$max_depth}.*" \
    -fprintf /dev/stderr "glia-skip\tdeeper than $max_depth folders\t%P\n" -prune -o \
  -regex ".{$((max_path + 3)),}" \
    -fprintf /dev/stderr "glia-skip\tpath longer than $max_path bytes\t%P\n" -prune -o \
  -type d -o \
  -type f -size "+${max_file}c" \
    -fprintf /dev/stderr "glia-skip\ttoo big (%s bytes > $max_file)\t%P\n" -o \
  -print0 |
  sort --zero-terminated |
  tar --create --file=- --null --verbatim-files-from --no-recursion --hard-dereference \
      --format=gnu --files-from=-
"""

SKIP_PREFIX = "glia-skip\t"

# python3 -I -S: print one regular file of the repository, at most max_bytes + 1 bytes of it.
# Every component is opened with O_NOFOLLOW through directory descriptors, the file O_NONBLOCK and
# checked with fstat. Exit codes: 3 missing, 4 not a regular file (or behind a symlink), 5 too big.
READ_SCRIPT = r"""
import os, stat, sys
root, relpath, cap = sys.argv[1], sys.argv[2], int(sys.argv[3])
try:
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    parts = relpath.split("/")
    for part in parts[:-1]:
        child = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
        os.close(fd)
        fd = child
    handle = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=fd)
except FileNotFoundError:
    sys.exit(3)
except OSError as err:
    sys.stderr.write(str(err.strerror))
    sys.exit(4)
info = os.fstat(handle)
if not stat.S_ISREG(info.st_mode):
    sys.exit(4)
if info.st_size > cap:
    sys.exit(5)
left = cap + 1
while left > 0:
    chunk = os.read(handle, min(1 << 16, left))
    if not chunk:
        break
    sys.stdout.buffer.write(chunk)
    left -= len(chunk)
sys.stdout.buffer.flush()
sys.exit(5 if left == 0 else 0)
"""
READ_MISSING, READ_NOT_REGULAR, READ_TOO_BIG = 3, 4, 5

# bash: empty the repository folder except its top-level .git, then make sure it exists.
CLEAR_SCRIPT = r"""
mkdir -p -- "$1" && cd -- "$1" || exit 3
find . -mindepth 1 -maxdepth 1 ! -name .git -exec rm -rf -- {} +
"""

# bash: extract a tar from stdin into the repository (made if missing).
EXTRACT_SCRIPT = r"""
mkdir -p -- "$1" && cd -- "$1" || exit 3
tar --extract --file=- --no-same-owner --no-same-permissions --touch
"""


# bash: byte-compile the repository's Python sources once (sandboxes run with PYTHONDONTWRITEBYTECODE=1,
# so otherwise every new interpreter compiles again what it imports). Executes nothing of the sources;
# a file that does not compile is left as it is; never fails. What it writes is loaded only by the
# sandbox's own processes, and exports never carry bytecode (`glia/workspace/tree.py`).
COMPILE_COMMAND = (
    '(p=$(command -v python || command -v python3) && "$p" -m compileall -q .) >/dev/null 2>&1; true'
)


def git_init_command(ignored: Sequence[str]) -> str:
    """A shell command (run at the repository root) giving the Researcher a fresh git repository whose
    first commit is what the folder holds now ("pristine template"), ignoring `ignored` patterns; the
    sources are byte-compiled too (COMPILE_COMMAND), so that the Researcher's runs start faster."""
    patterns = " ".join(shlex.quote(p if "/" not in p else "/" + p.strip("/")) for p in ignored)
    return (
        "set -e; rm -rf .git; git init --quiet --initial-branch=main; "
        "git config user.name glia; git config user.email glia@localhost; "
        "git config commit.gpgsign false; "
        f"printf '%s\\n' {patterns} >> .git/info/exclude; "
        "git add --all; git commit --quiet --no-verify --allow-empty --message 'pristine template'; "
        f"{COMPILE_COMMAND}; git rev-parse HEAD"
    )


def export_arguments(
    repo: str, max_file: int, max_depth: int, max_path: int, excludes: Sequence[str]
) -> list[str]:
    """argv of `bash -c EXPORT_SCRIPT` (the patterns travel as arguments, never as shell text)."""
    return [
        "bash",
        "-c",
        EXPORT_SCRIPT,
        "glia-export",
        repo,
        str(max_file),
        str(max_depth),
        str(max_path),
        *excludes,
    ]
