"""Outputs written whole or not at all: staging, checks of output paths, leftovers.

Every output is first written to a temporary file (or folder) beside its target and moved
into place in one step, so a reader sees the old output or the new one, never a mix.
Several outputs of one command are one :class:`OutputSet`: all are staged first and put in
place together, or none is. A failure to write (missing folder, no permission, a folder in
the way, a full disk) is an :class:`~minemap.OutputError` naming the user's path, never a
traceback about a hidden temporary file. The formats themselves are written by
:mod:`minemap.io.writers` (layers) and :mod:`minemap.io.parquet` (partitioned folders),
both through this module.
"""

from __future__ import annotations

import errno
import glob
import os
import re
import secrets
import shutil
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from minemap._errors import OutputError
from minemap.io._guard import file_suffix
from minemap.io.layer_folders import FOLDER_SUFFIXES, check_not_in_layer

#: Output names that mean the standard output (a command's table or text, never a layer).
STDOUT_NAMES = frozenset({"-", "/dev/stdout"})

#: Extensions whose files hold several layers: writing a layer keeps the others.
MULTI_LAYER_SUFFIXES = frozenset({".gpkg"})


def _folder(target: Path) -> Path:
    return target.parent if str(target.parent) else Path(".")


def check_output_path(path: str | os.PathLike) -> Path:
    """Refuse an output path that cannot be written, before any work is done.

    Parameters
    ----------
    path : path-like
        Where an output will be written.

    Returns
    -------
    pathlib.Path
        The path.

    Raises
    ------
    OutputError
        The folder is missing or is a file, the path is a folder, or the folder or an
        existing file is not writable; the message names the path and the fix.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> check_output_path(folder / "summary.csv").name
    'summary.csv'
    >>> check_output_path(folder / "missing" / "summary.csv")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    minemap._errors.OutputError: .../missing/summary.csv: the folder ... does not exist; ...
    """
    target = Path(path)
    if is_folder_output(path):
        raise OutputError(
            f"{os.fspath(path)}: ends in '/', so it names a folder; give a file name (only a "
            "layer is written as a folder: a partitioned GeoParquet layer)."
        )
    try:
        checked = _check_output_path(resolve_output(path))
        if not is_stream(checked):
            check_not_in_layer(checked)
        return checked
    except OSError as exc:
        if isinstance(exc, OutputError):
            raise
        raise _output_error(target, exc) from None


def resolve_output(path: str | os.PathLike) -> Path:
    """The file an output path really names: through a symbolic link, to its target.

    An output written to a symbolic link replaces the file the link points to (the link
    stays); a path ending in a slash names a folder and is refused.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "summary-2026-12.csv").write_text("threat_level,hazard_ha\\n")
    >>> (folder / "latest.csv").symlink_to(folder / "summary-2026-12.csv")
    >>> resolve_output(folder / "latest.csv").name
    'summary-2026-12.csv'
    >>> resolve_output(folder / "new.csv").name
    'new.csv'
    """
    text = os.fspath(path)
    if text.endswith(("/", os.sep)) and text.strip("/" + os.sep) and not is_folder_output(text):
        raise OutputError(f"{text}: ends in '/', so it names a folder; give a file name.")
    target = Path(text)
    if target.is_symlink():
        return Path(os.path.realpath(target))
    return target


def is_folder_output(path: str | os.PathLike) -> bool:
    """Whether a layer output path names a partitioned GeoParquet folder: a GeoParquet
    extension followed by a slash (``zones.parquet/``; see :mod:`minemap.io.parquet`).

    Examples
    --------
    >>> is_folder_output("zones.parquet/"), is_folder_output("zones.parquet")
    (True, False)
    >>> is_folder_output("out/")
    False
    """
    text = os.fspath(path)
    if not text.endswith(("/", os.sep)):
        return False
    return Path(text.rstrip("/" + os.sep)).suffix.lower() in FOLDER_SUFFIXES


def is_stream(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a device, pipe or socket (written into, never replaced).

    Examples
    --------
    >>> import os
    >>> is_stream(os.devnull), is_stream("summary.csv")
    (True, False)
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISBLK(mode)


def _check_output_path(target: Path) -> Path:
    if is_stream(target):
        if not os.access(target, os.W_OK):
            raise OutputError(f"{target}: no permission to write to it.")
        return target
    folder = _folder(target)
    if len(target.name.encode("utf-8")) > 240:  # room for the hidden temporary name
        raise OutputError(
            f"{target.name[:40]}...: the file name is too long "
            f"({len(target.name)} characters); choose a shorter one."
        )
    for parent in (folder, *folder.parents):
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(
                    f"{target}: {parent} is a file, not a folder; choose another output path."
                )
            break
    if not folder.is_dir():
        raise OutputError(f"{target}: the folder {folder} does not exist; create it first.")
    if target.is_dir():
        if target.suffix.lower() in FOLDER_SUFFIXES:  # a partitioned layer: never write inside
            raise OutputError(
                f"{target} is a folder (a partitioned GeoParquet layer?); end the path with a "
                f"slash ({target}/) to replace the layer it holds, or give another file name, "
                f"e.g. {target.with_name(target.stem + '-new' + target.suffix)}."
            )
        raise OutputError(
            f"{target} is a folder; give a file name, e.g. {target / 'out'}{target.suffix or ''}."
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(
            f"{target}: no permission to write in the folder {folder}; choose "
            "a folder you can write to."
        )
    if target.exists() and not os.access(target, os.W_OK):
        raise OutputError(
            f"{target}: the existing file is read-only; choose another name or make it writable."
        )
    return target


def _output_error(target: Path, exc: OSError) -> OutputError:
    code = exc.errno
    if code in (errno.ENOSPC, errno.EDQUOT):
        why = "the disk is full; free some space or write elsewhere"
    elif code in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = f"no permission to write in {_folder(target)}; choose a folder you can write to"
    elif code == errno.ENAMETOOLONG:
        why = "the file name is too long for the file system; choose a shorter one"
    elif code == errno.EISDIR:
        why = "a folder is in the way; give a file name"
    elif code in (errno.ENOENT, errno.ENOTDIR) and _folder(target).is_dir():
        why = f"files cannot be created in {_folder(target)}; choose another folder"
    elif code in (errno.ENOENT, errno.ENOTDIR):
        why = f"the folder {_folder(target)} does not exist; create it first"
    else:
        why = f"{exc.strerror or exc}; check the path and the disk"
    return OutputError(f"{target}: cannot write the output: {why}. Nothing was written.")


@dataclass
class _Staged:
    target: Path
    tmp: Path  # the complete output, beside the target (or private, for a stream)
    stream: bool = False  # a device or pipe: its bytes are written into it, last


class OutputSet:
    """Several outputs written all together or not at all.

    Outputs are staged in order (each written completely to a temporary file beside its
    target) and put in place by :meth:`commit`. If staging any of them fails, nothing is
    put in place. If putting one in place fails, those already moved are rolled back to
    what was there before.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with OutputSet() as outputs:
    ...     outputs.add_text(folder / "a.txt", "one")
    ...     outputs.add_text(folder / "b.txt", "two")
    >>> sorted(p.name for p in folder.iterdir())
    ['a.txt', 'b.txt']
    """

    def __init__(self) -> None:
        self._staged: list[_Staged] = []

    def __enter__(self) -> OutputSet:
        return self

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()

    def add(self, path: str | os.PathLike, writer: Callable[[Path], None]) -> None:
        """Stage one output: ``writer(tmp_path)`` writes it completely to ``tmp_path``."""
        target = check_output_path(path)
        stream = is_stream(target)
        folder = None if stream else _folder(target)  # a device's bytes are staged privately
        try:
            if folder is not None:
                remove_orphans(target)
            handle, tmp_name = tempfile.mkstemp(
                prefix=_temp_prefix(target), suffix=file_suffix(target), dir=folder
            )
        except OSError as exc:
            raise _output_error(target, exc) from None
        os.close(handle)
        tmp = Path(tmp_name)
        try:
            if target.suffix.lower() in MULTI_LAYER_SUFFIXES and target.is_file():
                shutil.copyfile(target, tmp)  # writing a layer keeps the other layers
                shutil.copymode(target, tmp)  # ... and the file's permissions (not mkstemp's)
            else:
                tmp.unlink()
            writer(tmp)
        except BaseException as exc:
            _remove(tmp)
            if isinstance(exc, OSError) and not isinstance(exc, OutputError):
                raise _output_error(target, exc) from None
            raise
        self._staged.append(_Staged(target, tmp, stream=stream))

    def add_folder(self, path: str | os.PathLike, writer: Callable[[Path], None]) -> None:
        """Stage one output folder: ``writer(tmp_folder)`` fills a new, empty folder beside
        ``path``; :meth:`commit` moves it into place, replacing a folder already there.

        The caller decides whether a folder already at ``path`` may be replaced (see
        :func:`minemap.io.parquet.write_partitioned`).
        """
        target = Path(path)
        folder = _folder(target)
        if not folder.is_dir():
            raise OutputError(f"{target}: the folder {folder} does not exist; create it first.")
        try:
            remove_orphans(target)
            tmp = _new_folder(folder, _temp_prefix(target))
        except OSError as exc:
            raise _output_error(target, exc) from None
        try:
            writer(tmp)
        except BaseException as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            if isinstance(exc, OSError) and not isinstance(exc, OutputError):
                raise _output_error(target, exc) from None
            raise
        self._staged.append(_Staged(target, tmp))

    def add_text(self, path: str | os.PathLike, text: str) -> None:
        """Stage UTF-8 text."""
        self.add(path, lambda tmp: _write_utf8(tmp, text))

    def commit(self) -> list[Path]:
        """Put every staged output in place; roll back all of them if one fails."""
        done: list[tuple[Path, Path | None]] = []  # (final path, backup of what was there)
        files = [s for s in self._staged if not s.stream]
        streams = [s for s in self._staged if s.stream]
        current = self._staged[0].target if self._staged else Path(".")
        try:
            for staged in files:
                current = final = staged.target
                backup = None
                if final.exists():
                    backup = final.with_name(f"{_temp_prefix(final)}previous")
                    if staged.tmp.is_dir():  # a folder is moved aside whole, then replaced
                        _remove_any(backup)
                        os.replace(final, backup)
                    else:
                        _link_or_copy(final, backup)
                done.append((final, backup))
                os.replace(staged.tmp, final)
            for staged in streams:  # cannot be taken back: written once all else is in place
                current = staged.target
                with open(staged.tmp, "rb") as source, open(staged.target, "wb") as sink:
                    shutil.copyfileobj(source, sink)
        except BaseException as exc:
            for final, backup in reversed(done):
                if backup is not None:
                    if backup.is_dir():
                        _remove_any(final)  # a folder cannot be replaced in one step
                    os.replace(backup, final)
                else:
                    _remove_any(final)
            self.discard()
            if isinstance(exc, OSError) and not isinstance(exc, OutputError):
                raise _output_error(current, exc) from None
            raise
        for _final, backup in done:
            if backup is not None:
                _remove_any(backup)
        self.discard()
        return [s.target for s in self._staged]

    def discard(self) -> None:
        """Remove every staged temporary file; nothing is put in place."""
        for staged in self._staged:
            if staged.tmp.is_dir():
                shutil.rmtree(staged.tmp, ignore_errors=True)
            else:
                _remove(staged.tmp)


def _temp_prefix(target: Path) -> str:
    """Hidden temporary files beside ``target`` carry the writing process's id, so that one
    left by a killed run can be told from one another run is writing."""
    return f".{target.name}.minemap-{os.getpid()}-"


def remove_orphans(target: Path) -> list[Path]:
    """Remove temporary files beside ``target`` that a killed minemap run left behind.

    A kill (power cut, ``kill -9``) between staging an output and putting it in place leaves
    its hidden temporary file; the next write to the same target removes every such file
    whose process is gone. Files of a run still alive are left alone. A kill between moving
    a replaced folder aside (``.NAME.minemap-PID-previous``) and moving the new one in
    leaves no folder at ``target``: the old one is then put back, never removed.
    """
    removed = []
    pattern = re.compile(re.escape(f".{target.name}.minemap-") + r"(\d+)-")
    candidates = _folder(target).glob(f".{glob.escape(target.name)}.minemap-*")
    for candidate in sorted(candidates, key=_newest_first):
        match = pattern.match(candidate.name)
        if match is None or _alive(int(match.group(1))):
            continue
        if candidate.name.endswith("-previous") and not os.path.lexists(target):
            os.replace(candidate, target)  # the old output, moved aside by a killed run
            continue
        if candidate.is_dir():
            shutil.rmtree(candidate, ignore_errors=True)
        else:
            _remove(candidate)
        removed.append(candidate)
    return removed


def _newest_first(path: Path) -> float:
    try:
        return -path.lstat().st_mtime
    except OSError:
        return 0.0


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _link_or_copy(source: Path, backup: Path) -> None:
    _remove(backup)
    try:
        os.link(source, backup)
    except OSError:
        shutil.copy2(source, backup)


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _remove_any(path: Path) -> None:
    """Remove a file, or a folder with what it holds (a staged or replaced output folder)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        _remove(path)


def _new_folder(parent: Path, prefix: str) -> Path:
    """A new empty folder in ``parent`` named ``prefix`` and a random part, with the
    permissions ``mkdir`` gives (``mkdtemp`` would make it private to its owner)."""
    while True:
        candidate = parent / f"{prefix}{secrets.token_hex(4)}"
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate


def write_atomic(path: str | os.PathLike, writer: Callable[[Path], None]) -> Path:
    """Write an output whole or not at all.

    ``writer`` receives a temporary path in the target's folder; when it returns, the file is
    moved over ``path`` in one step. If it raises, the temporary file is removed and any
    existing file at ``path`` is left untouched. For a GeoPackage that exists already, the
    temporary file starts as a copy of it, so writing one layer keeps the others.

    Parameters
    ----------
    path : path-like
        Final output path.
    writer : callable
        ``writer(tmp_path)`` writes the complete output to ``tmp_path``.

    Returns
    -------
    pathlib.Path
        The written path.

    Raises
    ------
    OutputError
        The output cannot be written; the message names ``path``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "table.csv"
    >>> write_atomic(path, lambda tmp: tmp.write_text("a,b\\n1,2\\n")).name
    'table.csv'
    >>> def fails(tmp):
    ...     tmp.write_text("half a tab")
    ...     raise RuntimeError("disk full")
    >>> write_atomic(path, fails)
    Traceback (most recent call last):
    ...
    RuntimeError: disk full
    >>> path.read_text(), [p.name for p in path.parent.iterdir()]
    ('a,b\\n1,2\\n', ['table.csv'])
    """
    with OutputSet() as outputs:
        outputs.add(path, writer)
    return Path(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 text atomically (see :func:`write_atomic`).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = write_text(pathlib.Path(tempfile.mkdtemp()) / "note.txt", "Sample scenario\\n")
    >>> path.read_text(encoding="utf-8")
    'Sample scenario\\n'
    """
    return write_atomic(path, lambda tmp: _write_utf8(tmp, text))


def _write_utf8(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
