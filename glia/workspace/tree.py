"""A repository tree as plain data: the only form in which files cross the sandbox boundary.

A `Tree` maps relative paths to `TreeEntry(mode, data)`: regular files (0o100644 / 0o100755) and
symlinks (0o120000, whose data is the link target, kept as text and never followed). Whatever could not
be carried (too big, a FIFO or device, an unsafe name, a cap reached) is listed in `skipped`, one
human-readable "path: why" line each, so nothing is dropped silently.

Two builders read trees: `tree_from_folder` walks a host folder with directory file descriptors and
`O_NOFOLLOW` (used for the template and by the local backend), and `tree_from_tar_stream` parses a tar
stream that came out of a sandbox. That stream is hostile: it is read in stream mode through a reader
that stops at a byte cap and a deadline, headers that would make `tarfile` buffer a large blob (pax and
GNU long-name records, sparse maps) are refused before they are read, and every member's name, type and
size is checked before its data is touched. Nothing is ever extracted to disk.
"""

from __future__ import annotations

import errno
import fnmatch
import io
import os
import stat
import tarfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

MODE_FILE = 0o100644
MODE_EXECUTABLE = 0o100755
MODE_SYMLINK = 0o120000
MODES = (MODE_FILE, MODE_EXECUTABLE, MODE_SYMLINK)

# Never carried, whatever the caller asks: version-control data and bytecode caches. Callers add the
# task's results folder.
DEFAULT_EXCLUDES: tuple[str, ...] = (".git", "__pycache__", "*.pyc")
ALWAYS_EXCLUDED = ".git"


@dataclass(frozen=True)
class TreeCaps:
    """Bounds on one tree read: per file, in total, entries, names, header records, time."""

    max_file_bytes: int = 16 * 2**20
    max_total_bytes: int = 128 * 2**20  # what a Tree may hold in memory
    max_entries: int = 20_000  # files and symlinks kept
    max_members: int = 100_000  # tar members or folder entries looked at (kept or not)
    max_stream_bytes: int = 512 * 2**20  # raw bytes read from a tar stream, skipped data included
    max_path_bytes: int = 1024
    max_depth: int = 64  # path components
    max_link_bytes: int = 4096  # a symlink's target
    max_header_bytes: int = 64 * 2**10  # one pax or GNU long-name record
    max_skipped_listed: int = 200  # lines kept in `skipped`; the rest are counted
    timeout_s: float = 120.0


DEFAULT_CAPS = TreeCaps()


@dataclass(frozen=True)
class TreeEntry:
    """One file: its git mode and its bytes (for a symlink, the target path as bytes)."""

    mode: int
    data: bytes

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unsupported tree entry mode {self.mode:o}")
        if not isinstance(self.data, bytes):
            raise TypeError("tree entry data must be bytes")

    @property
    def is_symlink(self) -> bool:
        return self.mode == MODE_SYMLINK

    @property
    def is_executable(self) -> bool:
        return self.mode == MODE_EXECUTABLE


class Tree(Mapping[str, TreeEntry]):
    """An immutable relpath -> TreeEntry mapping plus what was left out and whether the read finished.

    Equality compares the files only (not `skipped`), which is what "did the tree change?" means.
    """

    __slots__ = ("_entries", "complete", "skipped")

    def __init__(
        self,
        entries: Mapping[str, TreeEntry] | None = None,
        skipped: Sequence[str] = (),
        complete: bool = True,
    ) -> None:
        checked: dict[str, TreeEntry] = {}
        for path, entry in (entries or {}).items():
            problem = path_problem(path)
            if problem:
                raise ValueError(f"{path!r}: {problem}")
            if not isinstance(entry, TreeEntry):
                raise TypeError(f"{path!r}: expected a TreeEntry, got {type(entry).__name__}")
            checked[path] = entry
        self._entries = dict(sorted(checked.items()))
        self.skipped: tuple[str, ...] = tuple(skipped)
        self.complete = complete

    def __getitem__(self, path: str) -> TreeEntry:
        return self._entries[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Tree({len(self)} entries, {self.total_bytes} bytes, {len(self.skipped)} skipped)"

    def __hash__(self) -> int:  # Mapping sets __hash__ to None; trees are immutable, so allow it
        return hash(tuple((path, entry.mode, entry.data) for path, entry in self._entries.items()))

    @property
    def total_bytes(self) -> int:
        return sum(len(entry.data) for entry in self._entries.values())

    def text(self, path: str) -> str:
        """A regular file's content as UTF-8 text."""
        entry = self._entries[path]
        if entry.is_symlink:
            raise ValueError(f"{path} is a symlink, not a file")
        return entry.data.decode("utf-8")

    def with_skipped(self, more: Iterable[str], complete: bool | None = None) -> Tree:
        """The same files with more "path: why" lines (and optionally a new completeness)."""
        return Tree(self._entries, (*self.skipped, *more), self.complete if complete is None else complete)

    def replace(self, files: Mapping[str, TreeEntry]) -> Tree:
        """A copy with `files` added or overwritten."""
        return Tree({**self._entries, **files}, self.skipped, self.complete)


# ------------------------------------------------------------------------------------- names


def path_problem(path: object, caps: TreeCaps = DEFAULT_CAPS) -> str | None:
    """Why `path` cannot be a tree entry (None when it can): relative, plain, UTF-8, no `.git`."""
    if not isinstance(path, str) or not path:
        return "empty name"
    try:
        encoded = path.encode("utf-8")
    except UnicodeEncodeError:
        return "name is not UTF-8"
    if len(encoded) > caps.max_path_bytes:
        return f"path longer than {caps.max_path_bytes} bytes"
    if path.startswith("/"):
        return "absolute path"
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in path):
        return "control character in the name"
    parts = path.split("/")
    if len(parts) > caps.max_depth:
        return f"deeper than {caps.max_depth} folders"
    for part in parts:
        if part in ("", ".", ".."):
            return "empty, '.' or '..' path component"
        if _is_git_name(part):
            return "a .git path component"
    return None


def _is_git_name(part: str) -> bool:
    """`.git` in any spelling a filesystem might fold to it (case, trailing dots or spaces)."""
    return part.rstrip(". ").casefold() == ".git"


def is_excluded(path: str, excludes: Sequence[str]) -> bool:
    """gitignore-like: a pattern without '/' matches any component, one with '/' a path from the root."""
    parts = path.split("/")
    for pattern in (*excludes, ALWAYS_EXCLUDED):
        if "/" in pattern:
            anchored = pattern.strip("/")
            if any(fnmatch.fnmatchcase("/".join(parts[:i]), anchored) for i in range(1, len(parts) + 1)):
                return True
        elif any(fnmatch.fnmatchcase(part, pattern) for part in parts):
            return True
    return any(_is_git_name(part) for part in parts)


# ------------------------------------------------------------------------------------- writing


def tree_to_tar(tree: Tree) -> bytes:
    """A plain tar of the tree: its folders first, then regular files and symlinks.

    Naming every folder makes GNU tar replace a symlink found where a folder belongs (rather than
    writing through it), as the local backend does.
    """
    buffer = io.BytesIO()
    now = int(time.time())
    folders = sorted({prefix for path in tree for prefix in _prefixes(path)})
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT, encoding="utf-8") as archive:
        for folder in folders:
            info = tarfile.TarInfo(folder)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, now
            archive.addfile(info)
        for path, entry in tree.items():
            info = tarfile.TarInfo(path)
            info.mtime = now
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if entry.is_symlink:
                info.type = tarfile.SYMTYPE
                info.linkname = entry.data.decode("utf-8", errors="surrogateescape")
                info.mode = 0o777
                archive.addfile(info)
            else:
                info.size = len(entry.data)
                info.mode = 0o755 if entry.is_executable else 0o644
                archive.addfile(info, io.BytesIO(entry.data))
    return buffer.getvalue()


# ------------------------------------------------------------------------------------- reading


class _Collector:
    """Accumulates entries under the caps; the one place both readers apply the rules."""

    def __init__(self, caps: TreeCaps, excludes: Sequence[str]) -> None:
        self.caps = caps
        self.excludes = tuple(excludes)
        self.entries: dict[str, TreeEntry] = {}
        self.dirs: set[str] = set()
        self.total = 0
        self.members = 0
        self.complete = True
        self._skipped: list[str] = []
        self._unlisted = 0
        self.deadline = time.monotonic() + caps.timeout_s

    def skip(self, path: str, why: str) -> None:
        if len(self._skipped) < self.caps.max_skipped_listed:
            self._skipped.append(f"{path}: {why}" if path else why)
        else:
            self._unlisted += 1

    def stop(self, why: str) -> None:
        """The read ends early: everything after this point is missing from the tree."""
        self.complete = False
        self._skipped.append(f"export incomplete: {why}")

    def skipped(self) -> tuple[str, ...]:
        tail = [f"... and {self._unlisted} more left out"] if self._unlisted else []
        return (*self._skipped, *tail)

    def timed_out(self) -> bool:
        return time.monotonic() > self.deadline

    def count_member(self) -> bool:
        """False (and the read stops) once too many members were looked at."""
        self.members += 1
        if self.members > self.caps.max_members:
            self.stop(f"more than {self.caps.max_members} entries")
            return False
        return True

    def admit(self, path: str, size: int) -> str | None:
        """Why a file of `size` bytes at `path` is not kept (None: keep it). Sets `complete` on caps."""
        if is_excluded(path, self.excludes):
            return ""  # excluded on purpose (`.git` always): not reported
        problem = path_problem(path, self.caps)
        if problem:
            return problem
        if path in self.entries:
            return "listed twice"
        if path in self.dirs or any(prefix in self.entries for prefix in _prefixes(path)):
            return "clashes with a folder or file of the same name"
        if size > self.caps.max_file_bytes:
            return f"too big ({size} bytes > {self.caps.max_file_bytes})"
        if len(self.entries) >= self.caps.max_entries:
            return f"over the cap of {self.caps.max_entries} files"
        if self.total + size > self.caps.max_total_bytes:
            return f"over the total cap of {self.caps.max_total_bytes} bytes"
        return None

    def add(self, path: str, entry: TreeEntry) -> None:
        self.entries[path] = entry
        self.dirs.update(_prefixes(path))
        self.total += len(entry.data)

    def tree(self) -> Tree:
        return Tree(self.entries, self.skipped(), self.complete)


def _prefixes(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


# --- from a tar stream (hostile)


class _StreamStop(Exception):
    """The stream must not be read any further (cap, deadline, a header too big to buffer)."""


class _CappedReader(io.RawIOBase):
    """A file object over byte chunks that refuses to deliver more than `limit` bytes or to outlive
    `deadline`; what `tarfile` reads in stream mode."""

    def __init__(self, chunks: Iterable[bytes], limit: int, deadline: float) -> None:
        self._chunks = iter(chunks)
        self._pending = b""
        self._limit = limit
        self._deadline = deadline
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            if time.monotonic() > self._deadline:
                raise _StreamStop("the time limit was reached")
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        if self.consumed >= self._limit:
            raise _StreamStop(f"the stream went past {self._limit} bytes")
        size = min(len(buffer), len(self._pending), self._limit - self.consumed)
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        self.consumed += size
        return size


# Records tarfile reads whole into memory: allowed up to `max_header_bytes`.
_BUFFERED_HEADER_TYPES = (tarfile.XHDTYPE, tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK)
# Records the exporter never writes and tarfile would accumulate (global headers) or expand (sparse maps).
_REFUSED_TYPES = (tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE, tarfile.GNUTYPE_SPARSE)


def _guarded_tarinfo(max_header_bytes: int) -> type[tarfile.TarInfo]:
    """A TarInfo class that refuses, before reading them, records tarfile would buffer whole."""

    class GuardedTarInfo(tarfile.TarInfo):
        def _proc_member(self, tarfile_: tarfile.TarFile) -> tarfile.TarInfo:  # type: ignore[override]
            if self.type in _REFUSED_TYPES:
                raise _StreamStop(f"a tar record of type {self.type!r} (never produced by the exporter)")
            if self.type in _BUFFERED_HEADER_TYPES and self.size > max_header_bytes:
                raise _StreamStop(f"a {self.size}-byte extended header (cap {max_header_bytes})")
            return super()._proc_member(tarfile_)  # type: ignore[misc]

    return GuardedTarInfo


def tree_from_tar_stream(
    chunks: Iterable[bytes],
    caps: TreeCaps = DEFAULT_CAPS,
    excludes: Sequence[str] = DEFAULT_EXCLUDES,
    prefix_notes: Sequence[str] = (),
) -> Tree:
    """Parse a hostile tar stream into a Tree, within `caps`; never raises on bad input.

    Keeps regular files and symlinks (as data). Hard links, devices, FIFOs, sparse members and unsafe
    names are skipped with a reason; a cap, the deadline or a malformed stream ends the read early
    (`complete` False, with the reason in `skipped`).
    """
    collector = _Collector(caps, excludes)
    for note in prefix_notes:
        collector.skip("", note)
    reader = _CappedReader(chunks, caps.max_stream_bytes, collector.deadline)
    try:
        with tarfile.open(
            fileobj=io.BufferedReader(reader, 64 * 1024),
            mode="r|",
            tarinfo=_guarded_tarinfo(caps.max_header_bytes),
            encoding="utf-8",
            errors="surrogateescape",
        ) as archive:
            while (member := archive.next()) is not None:
                archive.members.clear()  # tarfile keeps every header it read; we need none of them
                if not collector.count_member():
                    break
                if not _take_member(archive, member, collector):
                    break
    except _StreamStop as stop:
        collector.stop(str(stop))
    except (tarfile.TarError, EOFError, OSError, ValueError, UnicodeError) as err:
        if reader.consumed == 0:
            collector.stop("the sandbox sent no tar data")
        else:
            collector.stop(f"malformed tar stream ({type(err).__name__}: {err})")
    return collector.tree()


def _take_member(archive: tarfile.TarFile, member: tarfile.TarInfo, collector: _Collector) -> bool:
    """Keep or skip one member; False when the read must stop."""
    name = member.name[2:] if member.name.startswith("./") else member.name
    name = name.rstrip("/") if member.isdir() else name
    if member.isdir() or name in ("", "."):
        return True
    if member.isreg():
        why = collector.admit(name, member.size)
        if why is None:
            handle = archive.extractfile(member)
            data = handle.read(member.size + 1) if handle is not None else b""
            if len(data) != member.size:
                collector.stop(f"{_shown(name)}: truncated data")
                return False
            mode = MODE_EXECUTABLE if member.mode & 0o111 else MODE_FILE
            collector.add(name, TreeEntry(mode, data))
        elif why:
            collector.skip(_shown(name), why)
        return not _stopping(why, collector)
    if member.issym():
        target = member.linkname.encode("utf-8", errors="surrogateescape")
        why = collector.admit(name, len(target))
        if why is None and len(target) > collector.caps.max_link_bytes:
            why = f"symlink target longer than {collector.caps.max_link_bytes} bytes"
        if why is None:
            collector.add(name, TreeEntry(MODE_SYMLINK, target))
        elif why:
            collector.skip(_shown(name), why)
        return not _stopping(why, collector)
    kind = _member_kind(member)
    if is_excluded(name, collector.excludes):
        return True
    collector.skip(_shown(name), f"{kind}, not carried")
    return True


def _stopping(why: str | None, collector: _Collector) -> bool:
    """Caps on count and total end the read: nothing later could be kept anyway."""
    if why and (why.startswith("over the cap") or why.startswith("over the total cap")):
        collector.stop(why)
        return True
    return False


def _member_kind(member: tarfile.TarInfo) -> str:
    if member.islnk():
        return "a hard link"
    if member.isfifo():
        return "a FIFO"
    if member.ischr() or member.isblk():
        return "a device"
    return f"an entry of tar type {member.type!r}"


def _shown(name: str) -> str:
    """A name safe to print in a log line (control characters and bad bytes escaped)."""
    text = name.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="backslashreplace")
    text = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)
    return text if len(text) <= 200 else text[:200] + "..."


# --- from a host folder (never following links)

_OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_OPEN_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


def tree_from_folder(
    path: str | os.PathLike[str],
    excludes: Sequence[str] = DEFAULT_EXCLUDES,
    caps: TreeCaps = DEFAULT_CAPS,
) -> Tree:
    """Read a host folder into a Tree without ever following a symlink or blocking on a special file.

    Walks with directory file descriptors (`openat` with O_NOFOLLOW), so a symlink swapped in for a
    folder mid-walk is refused rather than followed; files are opened O_NONBLOCK and checked to be
    regular with fstat before a byte is read, and reads stop at the per-file cap.
    """
    collector = _Collector(caps, excludes)
    root_fd = os.open(os.fspath(path), os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    try:
        _walk(root_fd, "", collector)
    except _StreamStop as stop:
        if collector.complete:  # a cap already recorded why it stopped
            collector.stop(str(stop))
    finally:
        os.close(root_fd)
    return collector.tree()


def _walk(dir_fd: int, prefix: str, collector: _Collector) -> None:
    try:
        names = sorted(os.listdir(dir_fd))
    except OSError as err:
        collector.skip(prefix.rstrip("/") or ".", f"cannot list ({err.strerror})")
        return
    for name in names:
        if collector.timed_out():
            raise _StreamStop("the time limit was reached")
        if not collector.count_member():
            raise _StreamStop(f"more than {collector.caps.max_members} entries")
        relpath = prefix + name
        try:
            info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except OSError as err:
            collector.skip(_shown(relpath), f"cannot stat ({err.strerror})")
            continue
        if stat.S_ISDIR(info.st_mode):
            _enter(dir_fd, name, relpath, collector)
        elif stat.S_ISLNK(info.st_mode):
            _take_link(dir_fd, name, relpath, collector)
        elif stat.S_ISREG(info.st_mode):
            _take_file(dir_fd, name, relpath, info.st_size, collector)
        elif not is_excluded(relpath, collector.excludes):
            collector.skip(_shown(relpath), f"{_kind_of(info.st_mode)}, not carried")


def _enter(dir_fd: int, name: str, relpath: str, collector: _Collector) -> None:
    if is_excluded(relpath, collector.excludes):
        return
    problem = path_problem(relpath, collector.caps)
    if problem:
        collector.skip(_shown(relpath), problem)
        return
    if relpath.count("/") + 2 > collector.caps.max_depth:
        collector.skip(_shown(relpath) + "/", f"deeper than {collector.caps.max_depth} folders")
        return
    try:
        child = os.open(name, _OPEN_DIR, dir_fd=dir_fd)
    except OSError as err:
        collector.skip(_shown(relpath), f"cannot open folder ({err.strerror})")
        return
    try:
        _walk(child, relpath + "/", collector)
    finally:
        os.close(child)


def _take_link(dir_fd: int, name: str, relpath: str, collector: _Collector) -> None:
    try:
        target = os.readlink(name, dir_fd=dir_fd).encode("utf-8", errors="surrogateescape")
    except OSError as err:
        collector.skip(_shown(relpath), f"cannot read link ({err.strerror})")
        return
    why = collector.admit(relpath, len(target))
    if why is None and len(target) > collector.caps.max_link_bytes:
        why = f"symlink target longer than {collector.caps.max_link_bytes} bytes"
    if why is None:
        collector.add(relpath, TreeEntry(MODE_SYMLINK, target))
    elif why:
        collector.skip(_shown(relpath), why)
    if _stopping(why, collector):
        raise _StreamStop(why or "")


def _take_file(dir_fd: int, name: str, relpath: str, size: int, collector: _Collector) -> None:
    why = collector.admit(relpath, size)
    if why is None:
        try:
            entry = read_regular(dir_fd, name, collector.caps.max_file_bytes)
        except OSError as err:
            why = err.strerror or str(err)
        else:
            if entry is None:
                why = f"too big (> {collector.caps.max_file_bytes} bytes)"
            elif collector.total + len(entry.data) > collector.caps.max_total_bytes:
                why = f"over the total cap of {collector.caps.max_total_bytes} bytes"
            else:
                collector.add(relpath, entry)
                return
    if why:
        collector.skip(_shown(relpath), why)
    if _stopping(why, collector):
        raise _StreamStop(why or "")


def read_regular(dir_fd: int | None, name: str, max_bytes: int) -> TreeEntry | None:
    """A regular file's entry read through `dir_fd`, or None when it holds more than `max_bytes`.

    Raises OSError (errno ELOOP for a symlink, EINVAL "not a regular file" for anything else).
    """
    fd = os.open(name, _OPEN_FILE, dir_fd=dir_fd)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, f"{_kind_of(info.st_mode)}, not a regular file")
        chunks, size = [], 0
        while size <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > max_bytes:
            return None
        mode = MODE_EXECUTABLE if info.st_mode & 0o111 else MODE_FILE
        return TreeEntry(mode, b"".join(chunks))
    finally:
        os.close(fd)


def _kind_of(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISLNK(mode):
        return "a symlink"
    return "a special file"
