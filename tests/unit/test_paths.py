"""The socket directory: created 0700, and refused when it is not safe."""

from __future__ import annotations

import inspect
import os

import pytest

from hexe.errors import HexeError
from hexe.server.paths import check_session_name, socket_directory, socket_file


def test_created_private_under_xdg_runtime_dir(tmp_path):
    path = socket_directory({"XDG_RUNTIME_DIR": str(tmp_path)})
    assert path == str(tmp_path / "hexe")
    assert os.stat(path).st_mode & 0o777 == 0o700


def test_without_a_runtime_dir_it_is_tmp_hexe_uid(tmp_path):
    # the fallback is made in the test's own directory, not in the real /tmp
    path = socket_directory({"XDG_RUNTIME_DIR": str(tmp_path / "missing")}, tmp=str(tmp_path))
    assert path == str(tmp_path / f"hexe-{os.getuid()}")
    assert os.stat(path).st_mode & 0o777 == 0o700
    assert inspect.signature(socket_directory).parameters["tmp"].default == "/tmp"


def test_a_loose_mode_is_refused_with_the_fix(tmp_path):
    (tmp_path / "hexe").mkdir(mode=0o755)
    os.chmod(tmp_path / "hexe", 0o755)
    with pytest.raises(HexeError) as err:
        socket_directory({"XDG_RUNTIME_DIR": str(tmp_path)})
    assert "has mode 755; it must be 700" in err.value.message
    assert err.value.hint == f"chmod 700 {tmp_path / 'hexe'}"


def test_a_symlink_is_refused(tmp_path):
    (tmp_path / "elsewhere").mkdir(mode=0o700)
    (tmp_path / "hexe").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(HexeError, match="not a directory"):
        socket_directory({"XDG_RUNTIME_DIR": str(tmp_path)})


def test_another_users_directory_is_refused(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to give the directory to another user")
    (tmp_path / "hexe").mkdir(mode=0o700)
    os.chown(tmp_path / "hexe", 65534, 65534)
    with pytest.raises(HexeError, match="belongs to uid 65534"):
        socket_directory({"XDG_RUNTIME_DIR": str(tmp_path)})


@pytest.mark.parametrize("name", ["", "a/b", "..x/", "a b", "x" * 65, "é", "main\n", "\u0661"])
def test_session_names_are_checked(name, tmp_path):
    with pytest.raises(HexeError, match="session name"):
        check_session_name(name)
    with pytest.raises(HexeError):
        socket_file(name, {"XDG_RUNTIME_DIR": str(tmp_path)})


@pytest.mark.parametrize("name", ["main", "a.b-c_d", "0", "x" * 64, "..", "-x"])
def test_session_names_of_the_accepted_characters_pass(name):
    assert check_session_name(name) == name


def test_a_sessions_socket_is_in_the_socket_directory(tmp_path):
    environ = {"XDG_RUNTIME_DIR": str(tmp_path)}
    assert socket_file("w.1", environ) == os.path.join(socket_directory(environ), "w.1.sock")


def test_sessions_are_listed_hidden_ones_too_and_stale_sockets_removed(tmp_path):
    """A session may be named ``.x``: listed as ``Path.glob("*.sock")`` listed it."""
    import socket

    from hexe.server.paths import socket_directory
    from hexe.sessions import session_names

    environ = {"XDG_RUNTIME_DIR": str(tmp_path)}
    base = socket_directory(environ)
    listening = []
    for name in (".x", "a", "b"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(os.path.join(base, f"{name}.sock"))
        sock.listen()
        listening.append(sock)
    listening.pop().close()  # b: a socket file nobody listens on any more
    with open(os.path.join(base, "b.pid"), "w") as f:
        f.write("1")
    try:
        assert session_names(environ) == [".x", "a"]
        assert sorted(os.listdir(base)) == [".x.sock", "a.sock", "b.lock"]  # b's removed
    finally:
        for sock in listening:
            sock.close()
