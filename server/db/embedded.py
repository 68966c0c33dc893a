"""Private, embedded PostgreSQL + PostGIS cluster manager.

Sitewatch can run without an external database: :class:`EmbeddedPostgres` creates (``initdb``) and
starts a private cluster in a data directory, listening only on a unix socket in a short private
directory under ``/tmp`` (no TCP), creates the application database and the ``postgis`` extension,
and hands back a SQLAlchemy URL.

Files next to the data directory ``<data_dir>``:

* ``<data_dir>.lock`` - ``fcntl`` lock serialising start/stop between processes;
* ``<data_dir>.log``  - server log (kept out of the data directory).

A cluster already running in the data directory (e.g. started by ``make serve`` in another terminal)
is detected through ``postmaster.pid`` and reused instead of starting a second server; only the
object that started a server stops it (unless ``stop(force=True)``).

PostgreSQL refuses to run as root: when the current process is root, ``initdb``/``pg_ctl`` run as the
``postgres`` system user (``runuser``, or ``su`` as a fallback), which must be able to reach the data
directory.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import pwd
import re
import shlex
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

import psycopg2
from psycopg2 import errors as pg_errors
from psycopg2 import sql

logger = logging.getLogger(__name__)

#: Debian packages providing the server binaries and PostGIS.
DEBIAN_PACKAGES = "postgresql-15 postgresql-15-postgis-3"
#: Major version preferred when several are installed under /usr/lib/postgresql.
PREFERRED_MAJOR = "15"
#: System user that runs the cluster when Sitewatch itself runs as root.
POSTGRES_OS_USER = "postgres"
#: Environment variable naming the PostgreSQL bin directory to use.
PG_BIN_ENV = "SITEWATCH_PG_BIN"

_DEBIAN_PG_ROOT = Path("/usr/lib/postgresql")
_REQUIRED_BINARIES = ("initdb", "pg_ctl", "postgres")
_SOCKET_PATH_MAX = 107
_SOCKET_PREFIX = "sw-pg-"
_INSTALL_HINT = (
    f"Install them with `apt-get install {DEBIAN_PACKAGES}`, or point {PG_BIN_ENV} "
    "at the bin directory of a PostgreSQL installation that has PostGIS."
)


class EmbeddedDatabaseError(Exception):
    """The embedded PostgreSQL cluster could not be found, initialised, started or stopped."""


# --------------------------------------------------------------------------------------------------
# Binaries and PostGIS discovery
# --------------------------------------------------------------------------------------------------


def _has_binaries(bin_dir: Path) -> bool:
    return all(
        (bin_dir / name).is_file() and os.access(bin_dir / name, os.X_OK) for name in _REQUIRED_BINARIES
    )


def _major_of_dir(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name)) or (0,)


def _missing_binaries_error(where: str) -> EmbeddedDatabaseError:
    return EmbeddedDatabaseError(
        f"PostgreSQL server binaries ({', '.join(_REQUIRED_BINARIES)}) not found {where}. {_INSTALL_HINT}"
    )


def find_pg_bin_dir(preferred_major: str | None = None) -> Path:
    """Locate the PostgreSQL bin directory ($SITEWATCH_PG_BIN, /usr/lib/postgresql/*/bin, then PATH)."""
    env_value = os.environ.get(PG_BIN_ENV)
    if env_value:
        env_dir = Path(env_value).expanduser()
        if _has_binaries(env_dir):
            return env_dir
        raise _missing_binaries_error(f"in {env_dir} (from ${PG_BIN_ENV})")

    candidates = sorted(
        (d for d in _DEBIAN_PG_ROOT.glob("*/bin") if _has_binaries(d)), key=_major_of_dir, reverse=True
    )
    for major in (preferred_major, PREFERRED_MAJOR):
        for candidate in candidates:
            if major and candidate.parent.name == major:
                return candidate
    if candidates:
        return candidates[0]

    initdb = shutil.which("initdb")
    if initdb:
        for bin_dir in (Path(initdb).parent, Path(initdb).resolve().parent):
            if _has_binaries(bin_dir):
                return bin_dir
    raise _missing_binaries_error(f"in {_DEBIAN_PG_ROOT}/*/bin or on PATH")


def _server_major(bin_dir: Path) -> str | None:
    """Major version of the ``postgres`` binary in ``bin_dir`` (``"15"``), or None if unknown."""
    try:
        out = subprocess.run(
            [str(bin_dir / "postgres"), "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        out = ""
    match = re.search(r"\)\s*(\d+)", out) or re.search(r"(\d+)(?:\.\d+)?", out)
    if match:
        return match.group(1)
    if bin_dir.parent.parent == _DEBIAN_PG_ROOT:
        return bin_dir.parent.name
    return None


def _share_dirs(bin_dir: Path) -> list[Path]:
    dirs: list[Path] = []
    pg_config = bin_dir / "pg_config"
    if pg_config.is_file():
        try:
            out = subprocess.run(
                [str(pg_config), "--sharedir"], capture_output=True, text=True, timeout=30, check=True
            ).stdout.strip()
            if out:
                dirs.append(Path(out))
        except (OSError, subprocess.SubprocessError):
            logger.debug("pg_config --sharedir failed in %s", bin_dir, exc_info=True)
    major = _server_major(bin_dir)
    if major:
        dirs.append(Path("/usr/share/postgresql") / major)
    return dirs


def _postgis_control(bin_dir: Path) -> Path | None:
    for share_dir in _share_dirs(bin_dir):
        control = share_dir / "extension" / "postgis.control"
        if control.is_file():
            return control
    return None


def postgis_available(pg_bin_dir: Path | None = None) -> bool:
    """Whether PostgreSQL binaries and the PostGIS extension are installed."""
    try:
        bin_dir = Path(pg_bin_dir) if pg_bin_dir is not None else find_pg_bin_dir()
    except EmbeddedDatabaseError:
        return False
    return _has_binaries(bin_dir) and _postgis_control(bin_dir) is not None


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PidFile:
    """Parsed ``postmaster.pid``."""

    pid: int
    port: int | None
    socket_dir: Path | None
    status: str


def _process_state(pid: int) -> str:
    """``"running"`` (a live postgres process), ``"dead"`` (gone or zombie) or ``"foreign"`` (PID reused)."""
    if pid <= 0:
        return "dead"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return "dead"
    except PermissionError:
        pass  # exists, belongs to another user
    proc = Path(f"/proc/{pid}")
    if proc.is_dir():
        try:
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            comm = (proc / "comm").read_text().strip()
        except (OSError, IndexError):
            return "dead"
        if state in ("Z", "X", "x"):
            return "dead"
        if comm not in ("postgres", "postmaster"):
            return "foreign"
    return "running"


def _tail(path: Path, lines: int = 30, offset: int = 0) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(offset)
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return "(no server log)"
    return "\n".join(text.splitlines()[-lines:]) or "(server log is empty)"


def _pg_env() -> dict[str, str]:
    """Environment for server tools: without PG* variables that could redirect them."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


def _socket_base_dir() -> Path:
    tmp = Path("/tmp")
    if tmp.is_dir() and os.access(tmp, os.W_OK | os.X_OK):
        return tmp
    return Path(tempfile.gettempdir())


# --------------------------------------------------------------------------------------------------
# The cluster manager
# --------------------------------------------------------------------------------------------------


class EmbeddedPostgres:
    """A private PostgreSQL + PostGIS cluster in ``data_dir``, reachable only through a unix socket."""

    def __init__(
        self,
        data_dir: Path,
        *,
        pg_bin_dir: Path | None = None,
        database: str = "sitewatch",
        superuser: str = "sitewatch",
        port: int = 5432,
        ephemeral: bool = False,
        start_timeout: float = 60.0,
    ) -> None:
        """Describe the cluster; nothing is touched until :meth:`ensure_started`.

        ``ephemeral=True`` trades durability for speed (``fsync``, ``synchronous_commit`` and
        ``full_page_writes`` off): use it only for throwaway clusters such as tests.
        """
        self.data_dir = Path(data_dir).expanduser().absolute()
        self.database = database
        self.superuser = superuser
        self.port = int(port)
        self.ephemeral = ephemeral
        self.start_timeout = start_timeout
        self.lock_path = self.data_dir.with_name(self.data_dir.name + ".lock")
        self.log_path = self.data_dir.with_name(self.data_dir.name + ".log")
        self._pg_bin_dir_arg = Path(pg_bin_dir).expanduser() if pg_bin_dir is not None else None
        self._bin_dir: Path | None = None
        self._url: str | None = None
        self._socket_dir: Path | None = None
        self._owns_socket_dir = False
        self._pid: int | None = None
        self._active_port = self.port
        self._started_here = False

    def __repr__(self) -> str:
        return (
            f"EmbeddedPostgres({str(self.data_dir)!r}, url={self._url!r}, started_here={self._started_here})"
        )

    # -- public API ----------------------------------------------------------------------------------

    @property
    def started_here(self) -> bool:
        """Whether this object started the running server (and will therefore stop it)."""
        return self._started_here

    @property
    def url(self) -> str | None:
        """SQLAlchemy URL of the server once :meth:`ensure_started` returned, else None."""
        return self._url

    @property
    def socket_dir(self) -> Path | None:
        """Directory holding the server's unix socket, once known."""
        return self._socket_dir

    @property
    def pid(self) -> int | None:
        """PID of the postmaster this object started or attached to."""
        return self._pid

    @property
    def bin_dir(self) -> Path:
        """PostgreSQL bin directory used to run the cluster."""
        if self._bin_dir is None:
            self._bin_dir = self._resolve_bin_dir()
        return self._bin_dir

    def ensure_started(self) -> str:
        """Start the cluster (initialising it if needed), or attach to the running one; return its URL."""
        with self._locked():
            running = self._running_server()
            if running is not None:
                info, socket_dir = running
                if not (self._started_here and info.pid == self._pid):
                    self._forget()
                    logger.info(
                        "Using the PostgreSQL server already running in %s (PID %s)", self.data_dir, info.pid
                    )
                self._pid = info.pid
                self._socket_dir = socket_dir
                self._active_port = info.port or self.port
                self._url = self._make_url(socket_dir, self._active_port)
            else:
                self._forget()
                self._start_cluster()
            try:
                self._ensure_database()
            except BaseException:
                if self._started_here:
                    self._stop_locked(force=False)
                raise
            assert self._url is not None
            return self._url

    def stop(self, *, force: bool = False) -> None:
        """Stop the server (``pg_ctl stop -m fast``) if this object started it, or always with ``force``."""
        with self._locked():
            self._stop_locked(force=force)

    def __enter__(self) -> str:
        """Start or attach; the ``as`` target is the SQLAlchemy URL."""
        return self.ensure_started()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server if this object started it."""
        self.stop()

    # -- locking and commands ------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    @staticmethod
    def _as_root() -> bool:
        return os.geteuid() == 0

    def _os_user(self) -> pwd.struct_passwd:
        try:
            return pwd.getpwnam(POSTGRES_OS_USER)
        except KeyError:
            raise EmbeddedDatabaseError(
                f"Running as root, but there is no {POSTGRES_OS_USER!r} system user to run PostgreSQL as "
                f"(PostgreSQL refuses to run as root). {_INSTALL_HINT}"
            ) from None

    def _command(self, args: list[str]) -> list[str]:
        """Wrap ``args`` to run as the postgres system user when we are root."""
        if not self._as_root():
            return args
        runuser = shutil.which("runuser")
        if runuser:
            return [runuser, "-u", POSTGRES_OS_USER, "--", *args]
        su = shutil.which("su")
        if su:
            return [su, POSTGRES_OS_USER, "-s", "/bin/sh", "-c", shlex.join(args)]
        raise EmbeddedDatabaseError(
            "Running as root, but neither `runuser` nor `su` is available to run PostgreSQL as the "
            f"{POSTGRES_OS_USER!r} user; run Sitewatch as a regular user instead."
        )

    def _run(self, args: list[str], *, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        cmd = self._command(args)
        logger.debug("Running %s", shlex.join(cmd))
        try:
            return subprocess.run(
                cmd, capture_output=True, text=True, cwd="/", env=_pg_env(), timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise EmbeddedDatabaseError(f"{shlex.join(args)} did not finish within {timeout} s") from exc
        except OSError as exc:
            raise EmbeddedDatabaseError(f"Could not run {args[0]}: {exc}") from exc

    def _give_to_pg_user(self, path: Path) -> None:
        if self._as_root():
            user = self._os_user()
            os.chown(path, user.pw_uid, user.pw_gid)

    # -- discovery -----------------------------------------------------------------------------------

    def _data_dir_major(self) -> str | None:
        try:
            return (self.data_dir / "PG_VERSION").read_text().strip() or None
        except OSError:
            return None

    def _resolve_bin_dir(self) -> Path:
        if self._pg_bin_dir_arg is not None:
            if not _has_binaries(self._pg_bin_dir_arg):
                raise _missing_binaries_error(f"in {self._pg_bin_dir_arg}")
            return self._pg_bin_dir_arg
        return find_pg_bin_dir(preferred_major=self._data_dir_major())

    def _read_pid_file(self) -> _PidFile | None:
        path = self.data_dir / "postmaster.pid"
        try:
            lines = path.read_text().splitlines()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise EmbeddedDatabaseError(f"Cannot read {path}: {exc}") from exc

        def line(n: int) -> str:
            return lines[n - 1].strip() if len(lines) >= n else ""

        try:
            pid = int(line(1))
        except ValueError:
            pid = 0
        port = int(line(4)) if line(4).isdigit() else None
        socket_dir = Path(line(5)) if line(5) else None
        return _PidFile(pid=pid, port=port, socket_dir=socket_dir, status=line(8))

    def _remove_stale_pid_file(self, info: _PidFile, why: str) -> None:
        logger.warning("Removing stale %s (PID %s %s)", self.data_dir / "postmaster.pid", info.pid, why)
        with contextlib.suppress(FileNotFoundError):
            (self.data_dir / "postmaster.pid").unlink()

    def _can_connect(self, socket_dir: Path, port: int) -> str | None:
        """None if a connection works, else the error text."""
        try:
            conn = psycopg2.connect(
                dbname="postgres", user=self.superuser, host=str(socket_dir), port=port, connect_timeout=5
            )
        except psycopg2.Error as exc:
            return str(exc).strip()
        conn.close()
        return None

    def _running_server(self) -> tuple[_PidFile, Path] | None:
        """The live, reachable server of this data directory, or None (cleaning up stale state)."""
        deadline = time.monotonic() + self.start_timeout
        last_error = ""
        while True:
            info = self._read_pid_file()
            if info is None:
                return None
            state = _process_state(info.pid)
            if state == "dead":
                self._remove_stale_pid_file(info, "is not running")
                return None
            if state == "foreign":
                self._remove_stale_pid_file(info, "now belongs to another program")
                return None
            if info.status in ("", "starting", "stopping") or info.socket_dir is None or info.port is None:
                last_error = f"server status is {info.status or 'starting'!r}"
            elif not info.socket_dir.is_dir():
                logger.warning(
                    "PostgreSQL server (PID %s) in %s lost its socket directory %s; restarting it",
                    info.pid,
                    self.data_dir,
                    info.socket_dir,
                )
                self._pg_ctl_stop()
                return None
            else:
                error = self._can_connect(info.socket_dir, info.port)
                if error is None:
                    return info, info.socket_dir
                last_error = error
            if time.monotonic() > deadline:
                raise EmbeddedDatabaseError(
                    f"A PostgreSQL server (PID {info.pid}) is running in {self.data_dir} but does not accept "
                    f"connections: {last_error}. Server log {self.log_path}:\n{_tail(self.log_path)}"
                )
            time.sleep(0.2)

    # -- start ---------------------------------------------------------------------------------------

    def _check_reachable(self) -> None:
        """As root: the postgres user must be able to traverse every parent of the data directory."""
        if not self._as_root():
            return
        parent = self.data_dir.parent
        if self._run(["test", "-x", str(parent)], timeout=30).returncode == 0:
            return
        user = self._os_user()
        gids = set(os.getgrouplist(user.pw_name, user.pw_gid))
        blocking = parent
        for directory in [*reversed(parent.parents), parent]:
            st = directory.stat()
            if st.st_uid == user.pw_uid:
                ok = st.st_mode & stat.S_IXUSR
            elif st.st_gid in gids:
                ok = st.st_mode & stat.S_IXGRP
            else:
                ok = st.st_mode & stat.S_IXOTH
            if not ok:
                blocking = directory
                break
        raise EmbeddedDatabaseError(
            f"The embedded PostgreSQL runs as the {POSTGRES_OS_USER!r} system user (PostgreSQL refuses to "
            f"run as root), but that user cannot reach the data directory {self.data_dir}: "
            f"directory {blocking} is not searchable (+x) for it. Use a data directory the "
            f"{POSTGRES_OS_USER!r} user can reach (e.g. set SITEWATCH_DATA_DIR=/var/lib/sitewatch) "
            f"or run `chmod o+x {blocking}`."
        )

    def _prepare_data_dir(self) -> None:
        if self.data_dir.exists() and not self.data_dir.is_dir():
            raise EmbeddedDatabaseError(f"Data directory {self.data_dir} exists and is not a directory")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not (self.data_dir / "PG_VERSION").exists():
            if any(self.data_dir.iterdir()):
                raise EmbeddedDatabaseError(
                    f"{self.data_dir} is not empty but is not a PostgreSQL data directory (no PG_VERSION); "
                    "choose an empty or new directory"
                )
            self._give_to_pg_user(self.data_dir)
            self.data_dir.chmod(0o700)

    def _prepare_log(self) -> None:
        self.log_path.touch(exist_ok=True)
        self.log_path.chmod(0o600)
        self._give_to_pg_user(self.log_path)

    def _check_postgis(self) -> None:
        if _postgis_control(self.bin_dir) is None:
            raise EmbeddedDatabaseError(
                f"The PostGIS extension is not installed for the PostgreSQL server in {self.bin_dir} "
                f"(no extension/postgis.control). {_INSTALL_HINT}"
            )

    def _initdb(self) -> None:
        logger.info("Initialising a new PostgreSQL cluster in %s", self.data_dir)
        base = [
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            self.superuser,
            "--auth=trust",
            "-E",
            "UTF8",
        ]
        if self.ephemeral:
            base.append("--no-sync")
        result = None
        for locale_args in (["--locale=C.UTF-8"], ["--no-locale"]):
            self._prepare_data_dir()
            result = self._run([*base, *locale_args], timeout=300)
            if result.returncode == 0:
                break
            logger.debug("initdb %s failed: %s", locale_args, result.stderr.strip())
            if "locale" not in (result.stderr + result.stdout).lower():
                break
        assert result is not None
        if result.returncode != 0:
            raise EmbeddedDatabaseError(
                f"initdb failed for {self.data_dir} (exit {result.returncode}):\n"
                f"{(result.stderr or result.stdout).strip()}"
            )
        with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(
                "\n# Sitewatch embedded cluster: unix socket only (its directory is chosen at start).\n"
                "listen_addresses = ''\n"
            )

    def _make_socket_dir(self) -> Path:
        socket_dir = Path(tempfile.mkdtemp(prefix=_SOCKET_PREFIX, dir=_socket_base_dir()))
        if len(f"{socket_dir}/.s.PGSQL.{self.port}") > _SOCKET_PATH_MAX:
            socket_dir.rmdir()
            raise EmbeddedDatabaseError(
                f"Unix socket path under {socket_dir.parent} would exceed {_SOCKET_PATH_MAX} bytes; "
                "set TMPDIR to a short directory"
            )
        socket_dir.chmod(0o700)
        self._give_to_pg_user(socket_dir)
        return socket_dir

    def _start_cluster(self) -> None:
        _ = self.bin_dir  # resolve (and validate) binaries first
        self._check_postgis()
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._check_reachable()
        major = self._data_dir_major()
        if major is None:
            self._initdb()
        else:
            server_major = _server_major(self.bin_dir)
            if server_major and server_major != major:
                raise EmbeddedDatabaseError(
                    f"{self.data_dir} was created by PostgreSQL {major}, but the binaries in "
                    f"{self.bin_dir} are PostgreSQL {server_major}; install postgresql-{major} "
                    f"(with PostGIS) or point {PG_BIN_ENV} at its bin directory"
                )
        self._prepare_log()

        socket_dir = self._make_socket_dir()
        options = ["-c", "listen_addresses=", "-c", f"unix_socket_directories={socket_dir}"]
        options += ["-p", str(self.port)]
        if self.ephemeral:
            options += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        cmd = [
            str(self.bin_dir / "pg_ctl"),
            "start",
            "-w",
            "-t",
            str(max(1, int(self.start_timeout))),
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_path),
            "-o",
            shlex.join(options),
        ]
        logger.info("Starting PostgreSQL in %s (socket %s)", self.data_dir, socket_dir)
        deadline = time.monotonic() + self.start_timeout
        while True:
            log_offset = self.log_path.stat().st_size
            result = self._run(cmd, timeout=self.start_timeout + 30)
            if result.returncode == 0:
                break
            new_log = _tail(self.log_path, offset=log_offset)
            # Orphaned backends of a killed postmaster may still hold the old shared memory for a moment.
            if "pre-existing shared memory block" in new_log and time.monotonic() < deadline:
                logger.info("Old server processes still hold shared memory; retrying start")
                time.sleep(0.5)
                continue
            shutil.rmtree(socket_dir, ignore_errors=True)
            raise EmbeddedDatabaseError(
                f"PostgreSQL failed to start in {self.data_dir} (pg_ctl exit {result.returncode}): "
                f"{(result.stderr or result.stdout).strip()}\nServer log {self.log_path}:\n{new_log}"
            )

        info = self._read_pid_file()
        self._pid = info.pid if info else None
        self._socket_dir = socket_dir
        self._owns_socket_dir = True
        self._started_here = True
        self._active_port = self.port
        self._url = self._make_url(socket_dir, self.port)
        logger.info("PostgreSQL started (PID %s)", self._pid)

    def _ensure_database(self) -> None:
        assert self._socket_dir is not None
        port = self._active_port
        connect = {"user": self.superuser, "host": str(self._socket_dir), "port": port, "connect_timeout": 10}
        try:
            conn = psycopg2.connect(dbname="postgres", **connect)
            try:
                conn.autocommit = True
                with conn.cursor() as cur:
                    cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,))
                    if cur.fetchone() is None:
                        logger.info("Creating database %s", self.database)
                        with contextlib.suppress(pg_errors.DuplicateDatabase):
                            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))
            finally:
                conn.close()
            conn = psycopg2.connect(dbname=self.database, **connect)
            try:
                conn.autocommit = True
                with conn.cursor() as cur:
                    cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            finally:
                conn.close()
        except psycopg2.Error as exc:
            hint = f" {_INSTALL_HINT}" if "postgis" in str(exc).lower() else ""
            raise EmbeddedDatabaseError(
                f"Could not prepare database {self.database!r} with PostGIS: {str(exc).strip()}.{hint}"
            ) from exc

    def _make_url(self, socket_dir: Path, port: int) -> str:
        user = quote(self.superuser, safe="")
        database = quote(self.database, safe="")
        host = quote(str(socket_dir), safe="/")
        return f"postgresql+psycopg2://{user}@/{database}?host={host}&port={port}"

    # -- stop ----------------------------------------------------------------------------------------

    def _pg_ctl_stop(self) -> None:
        result = self._run(
            [
                str(self.bin_dir / "pg_ctl"),
                "stop",
                "-D",
                str(self.data_dir),
                "-m",
                "fast",
                "-w",
                "-t",
                str(max(1, int(self.start_timeout))),
            ],
            timeout=self.start_timeout + 30,
        )
        if result.returncode != 0 and self._read_pid_file() is not None:
            raise EmbeddedDatabaseError(
                f"pg_ctl stop failed for {self.data_dir}: {(result.stderr or result.stdout).strip()}\n"
                f"Server log {self.log_path}:\n{_tail(self.log_path)}"
            )

    def _stop_locked(self, *, force: bool) -> None:
        if not (self._started_here or force):
            logger.debug("Not stopping PostgreSQL in %s: not started by this object", self.data_dir)
            self._forget()
            return
        info = self._read_pid_file()
        if info is not None and _process_state(info.pid) == "running":
            if not force and self._pid is not None and info.pid != self._pid:
                logger.info(
                    "PostgreSQL in %s is now PID %s, not the server this object started; leaving it running",
                    self.data_dir,
                    info.pid,
                )
            else:
                logger.info("Stopping PostgreSQL in %s (PID %s)", self.data_dir, info.pid)
                self._pg_ctl_stop()
                recorded = info.socket_dir
                if (
                    recorded is not None
                    and recorded != self._socket_dir
                    and recorded.name.startswith(_SOCKET_PREFIX)
                ):
                    with contextlib.suppress(OSError):
                        recorded.rmdir()
        self._forget()

    def _forget(self) -> None:
        """Drop the state of a previous start (removing our socket directory)."""
        if self._owns_socket_dir and self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
        self._socket_dir = None
        self._owns_socket_dir = False
        self._started_here = False
        self._url = None
        self._pid = None
