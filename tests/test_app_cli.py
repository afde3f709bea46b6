"""The ``livechat`` command: options, the kernel environment, the port check, and a
real start of the command that serves the page and stops on Ctrl+C (SIGINT)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from livechat_widget import __version__, app, voila_server

REPO = Path(__file__).resolve().parents[1]
LIVECHAT = [sys.executable, "-m", "livechat_widget.app"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ------------------------------------------------------------------ options


def test_defaults():
    args = app.parse_args([])
    assert (args.host, args.port) == ("127.0.0.1", 8866)
    assert args.chat_logs is None and args.provider is None and args.theme is None
    assert not args.no_browser and not args.no_preheat and args.pool_size == 1


def test_all_options():
    args = app.parse_args(
        [
            "--port",
            "9001",
            "--host",
            "0.0.0.0",
            "--chat-logs",
            "/tmp/x",
            "--provider",
            "openai",
            "--model",
            "m1",
            "--base-url",
            "http://127.0.0.1:1/v1",
            "--theme",
            "dark",
            "--no-browser",
            "--pool-size",
            "3",
        ]
    )
    assert args.port == 9001 and args.host == "0.0.0.0" and args.chat_logs == "/tmp/x"
    assert (args.provider, args.model, args.base_url) == ("openai", "m1", "http://127.0.0.1:1/v1")
    assert args.theme == "dark" and args.no_browser and args.pool_size == 3


@pytest.mark.parametrize(
    "argv",
    [
        ["--port", "0"],
        ["--port", "70000"],
        ["--port", "x"],
        ["--theme", "blue"],
        ["--pool-size", "0"],
        ["--provider", "openia"],
        ["--unknown"],
        ["--temperature", "3"],
        ["--max-tokens", "0"],
    ],
)
def test_bad_options_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        app.parse_args(argv)
    assert exc.value.code == 2
    assert "livechat: error:" in capsys.readouterr().err


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        app.parse_args(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"livechat {__version__}"


# ------------------------------------------------------------ environment


def test_chat_logs_option_beats_env_beats_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = {"LIVECHAT_CHAT_LOGS": str(tmp_path / "from-env")}
    assert app.resolve_chat_logs("opt", env) == tmp_path / "opt"
    assert app.resolve_chat_logs(None, env) == tmp_path / "from-env"
    assert app.resolve_chat_logs(None, {}) == tmp_path / "chat_logs"
    assert app.resolve_chat_logs(None, {"LIVECHAT_CHAT_LOGS": ""}) == tmp_path / "chat_logs"
    # relative paths are made absolute: the kernel runs in another folder
    assert app.resolve_chat_logs("a/../b", {}).is_absolute()
    assert app.resolve_chat_logs("a/../b", {}) == tmp_path / "b"


def test_chat_logs_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(app.UsageError, match="not a folder"):
        app.resolve_chat_logs(str(tmp_path / "f"), {})


def test_build_env_passes_settings_as_livechat_variables(tmp_path):
    args = app.parse_args(
        [
            "--chat-logs",
            str(tmp_path),
            "--provider",
            "openai",
            "--model",
            "m1",
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--theme",
            "dark",
        ]
    )
    base = {"PATH": "/usr/bin", "OPENAI_API_KEY": "sk-secret", "LIVECHAT_MODEL": "old"}
    env = app.build_env(args, base)
    assert env["LIVECHAT_CHAT_LOGS"] == str(tmp_path)
    assert env["LIVECHAT_PROVIDER"] == "openai"
    assert env["LIVECHAT_MODEL"] == "m1"  # the option wins over the environment
    assert env["LIVECHAT_BASE_URL"] == "http://127.0.0.1:9/v1"
    assert env["LIVECHAT_THEME"] == "dark"
    assert env["PATH"] == "/usr/bin" and env["OPENAI_API_KEY"] == "sk-secret"  # inherited
    assert base == {"PATH": "/usr/bin", "OPENAI_API_KEY": "sk-secret", "LIVECHAT_MODEL": "old"}


def test_chat_setting_options_become_the_variables_new_chats_read(tmp_path):
    args = app.parse_args(
        ["--chat-logs", str(tmp_path), "--system-prompt", "Be brief.\nUse SI units."]
        + ["--temperature", "0.2", "--max-tokens", "512"]
    )
    env = app.build_env(args, {"LIVECHAT_MAX_TOKENS": "64"})
    assert env["LIVECHAT_SYSTEM_PROMPT"] == "Be brief.\nUse SI units."
    assert env["LIVECHAT_TEMPERATURE"] == "0.2"
    assert env["LIVECHAT_MAX_TOKENS"] == "512"  # the option wins over the environment
    unset = app.build_env(app.parse_args(["--chat-logs", str(tmp_path)]), {})
    assert not {"LIVECHAT_SYSTEM_PROMPT", "LIVECHAT_TEMPERATURE", "LIVECHAT_MAX_TOKENS"} & set(
        unset
    )


def test_build_env_leaves_unset_options_alone(tmp_path):
    env = app.build_env(app.parse_args(["--chat-logs", str(tmp_path)]), {"LIVECHAT_MODEL": "x"})
    assert env["LIVECHAT_MODEL"] == "x"
    for name in ("LIVECHAT_PROVIDER", "LIVECHAT_BASE_URL", "LIVECHAT_THEME", "VOILA_APP_IP"):
        assert name not in env


def test_secrets_and_settings_never_reach_voila_argv(tmp_path):
    args = app.parse_args(
        [
            "--chat-logs",
            str(tmp_path),
            "--provider",
            "openai",
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--model",
            "m1",
        ]
    )
    argv = " ".join(app.voila_argv(args))
    for value in (str(tmp_path), "openai", "http://127.0.0.1:9/v1", "m1"):
        assert value not in argv


def test_voila_argv_preheats_and_pins_the_port():
    argv = app.voila_argv(app.parse_args(["--port", "9002", "--no-browser", "--pool-size", "2"]))
    assert argv[0] == str(app.APP_NOTEBOOK)
    assert "--Voila.ip=127.0.0.1" in argv and "--port=9002" in argv
    assert "--Voila.port_retries=0" in argv
    assert "--preheat_kernel=True" in argv and "--pool_size=2" in argv
    assert "--no-browser" in argv and "--template=livechat" in argv
    assert not any(a.startswith("--theme") for a in argv)
    cold = app.voila_argv(app.parse_args(["--no-preheat", "--theme", "dark"]))
    assert "--preheat_kernel=False" in cold and "--theme=dark" in cold
    assert "--no-browser" not in cold
    assert "--template=lab" in app.voila_argv(app.parse_args(["--page", "lab"]))


def test_idle_kernels_are_culled_unless_connected_by_default():
    argv = app.voila_argv(app.parse_args([]))
    assert f"--MappingKernelManager.cull_idle_timeout={app.DEFAULT_CULL_IDLE_S}" in argv
    assert "--MappingKernelManager.cull_connected=False" in argv
    assert "--MappingKernelManager.cull_interval=60" in argv
    short = app.voila_argv(app.parse_args(["--cull-idle", "20"]))
    assert "--MappingKernelManager.cull_interval=20" in short
    never = app.voila_argv(app.parse_args(["--cull-idle", "0"]))
    assert not any("cull" in a for a in never)


def test_negative_cull_idle_is_refused(capsys):
    with pytest.raises(SystemExit) as exit_info:
        app.parse_args(["--cull-idle", "-1"])
    assert exit_info.value.code == 2
    assert "--cull-idle" in capsys.readouterr().err


def test_host_other_than_loopback_is_told_to_preheated_kernels(tmp_path):
    env = app.build_env(app.parse_args(["--host", "127.0.0.2", "--chat-logs", str(tmp_path)]), {})
    assert env["VOILA_APP_IP"] == "127.0.0.2"
    env = app.build_env(app.parse_args(["--host", "::1", "--chat-logs", str(tmp_path)]), {})
    assert env["VOILA_APP_IP"] == "[::1]"  # it goes into a ws:// URL


def test_display_url():
    assert voila_server.display_url("127.0.0.1", 8866) == "http://127.0.0.1:8866/"
    assert voila_server.display_url("0.0.0.0", 80) == "http://127.0.0.1:80/"
    assert voila_server.display_url("::1", 9000) == "http://[::1]:9000/"


# ---------------------------------------------------------------- the port


def test_port_in_use_is_detected():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert app.port_in_use("127.0.0.1", port)
        suggestion = app.suggest_port("127.0.0.1", port)
        assert suggestion is not None and suggestion > port
        assert not app.port_in_use("127.0.0.1", suggestion)
    assert not app.port_in_use("127.0.0.1", port)


def test_main_says_port_in_use_and_suggests_another(tmp_path, capsys):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        code = app.main(["--port", str(port), "--no-browser", "--chat-logs", str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert code == 2
    match = re.search(rf"port {port} is in use; try --port (\d+)", err)
    assert match, err
    assert int(match.group(1)) > port
    assert not (tmp_path / "c").exists()  # nothing was started or created


def test_unknown_host_is_a_clear_error(tmp_path, capsys):
    code = app.main(["--host", "no-such-host.invalid", "--chat-logs", str(tmp_path)])
    assert code == 2
    assert "--host no-such-host.invalid" in capsys.readouterr().err


# --------------------------------------------------------- the notebook


def test_app_notebook_is_packaged_and_run_by_the_suite():
    from importlib.resources import files

    # livechat_widget/notebooks is a package (has __init__.py): with hatch's
    # `only-packages = true` that is what puts app.ipynb into the wheel.
    assert files("livechat_widget.notebooks").joinpath("app.ipynb").is_file()
    assert app.APP_NOTEBOOK.is_file()
    packaged = json.loads(app.APP_NOTEBOOK.read_text(encoding="utf-8"))
    assert not (REPO / "notebooks" / "app.ipynb").exists(), "one app notebook, not two"
    # nbval runs it (pyproject's testpaths), as it runs notebooks/.
    assert '"livechat_widget/notebooks"' in (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert packaged["metadata"]["title"] == "Live chat"
    source = "\n".join("".join(c["source"]) for c in packaged["cells"])
    assert "LIVECHAT_CHAT_LOGS" in source and 'height="100vh"' in source
    assert all(not c.get("outputs") for c in packaged["cells"])  # no stale outputs shipped


# ------------------------------------------------------------ the command


def test_livechat_help_runs_as_a_command():
    done = subprocess.run([*LIVECHAT, "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    for option in (
        "--port",
        "--host",
        "--chat-logs",
        "--provider",
        "--model",
        "--base-url",
        "--theme",
        "--no-browser",
        "--version",
    ):
        assert option in done.stdout


class Output:
    """Collects a subprocess's output lines from a thread (the pipe never fills)."""

    def __init__(self, stream):
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream):
        for line in stream:
            self.lines.append(line)

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def wait_for(self, pattern: str, proc: subprocess.Popen, within: float = 180) -> re.Match:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            match = re.search(pattern, self.text)
            if match:
                return match
            if proc.poll() is not None:
                self._thread.join(5)
                raise AssertionError(f"livechat exited ({proc.returncode}):\n{self.text}")
            time.sleep(0.1)
        raise AssertionError(f"no {pattern!r} in the output:\n{self.text}")


def _kernels_of(connection_dir: str) -> list[int]:
    """PIDs of live processes whose command line names a file in Voila's connection dir."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if connection_dir in cmdline and state != "Z":
            pids.append(int(entry.name))
    return pids


def test_livechat_serves_the_page_then_stops_on_ctrl_c(tmp_path):
    port = free_port()
    chat_logs = tmp_path / "logs"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIVECHAT_", "VOILA_"))}
    env.update(LIVECHAT_PROVIDER="demo", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [*LIVECHAT, "--no-browser", "--port", str(port), "--chat-logs", str(chat_logs)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    out = Output(proc.stdout)
    try:
        url = out.wait_for(r"is serving the chat at (http://\S+)", proc).group(1)
        assert url == f"http://127.0.0.1:{port}/"
        assert f"chats are stored in {chat_logs}" in out.text
        assert "chats are shared (--chats shared)" in out.text  # loopback: one list
        connection_dir = out.wait_for(r"Storing connection files in (\S+?)\.?\n", proc).group(1)
        with urllib.request.urlopen(url, timeout=300) as response:
            assert response.status == 200
            page = response.read().decode()
        assert "<title>Live chat</title>" in page
        for secret in ("wait_for_request", "LIVECHAT_CHAT_LOGS", str(chat_logs)):
            assert secret not in page  # no code, no path in the page
        assert chat_logs.is_dir()
        assert _kernels_of(connection_dir), "Voila started no kernel"

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=120) == 0, out.text
        out.wait_for(r"livechat: stopped\.", proc)
        deadline = time.monotonic() + 60
        while _kernels_of(connection_dir) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _kernels_of(connection_dir), "kernels left running after Ctrl+C"
        assert not Path(connection_dir).exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_provider_choices_are_the_ones_the_client_knows():
    from livechat_widget.providers import env

    assert app.PROVIDERS is env.PROVIDERS  # one list, imported by the command


def test_console_script_is_declared():
    from importlib.metadata import entry_points

    (script,) = [ep for ep in entry_points(group="console_scripts") if ep.name == "livechat"]
    assert script.value == "livechat_widget.app:main"
    assert script.load() is app.main


def test_the_page_loads_only_the_widget_manager_and_anywidget():
    # Parsed by Voila itself: a repeated list option must build the whole list.
    from voila.app import Voila

    voila = Voila()
    voila.parse_command_line(app.voila_argv(app.parse_args([]))[1:])
    allowed = voila.config.VoilaConfiguration.extension_allowlist
    assert allowed == list(app.PAGE_EXTENSIONS) and "anywidget" in allowed


def test_pool_and_max_kernels_options(capsys):
    assert app.parse_args(["--pool", "25"]).pool_size == 25
    assert app.parse_args(["--pool-size", "3"]).pool_size == 3  # the older name
    assert app.parse_args([]).max_kernels is None  # from memory at start-up
    assert app.parse_args(["--max-kernels", "40"]).max_kernels == 40
    for bad in (["--pool", "0"], ["--max-kernels", "0"]):
        with pytest.raises(SystemExit):
            app.parse_args(bad)
    assert "must be at least 1" in capsys.readouterr().err


def test_visitor_kernels_start_through_the_lean_launcher():
    argv = app.voila_argv(app.parse_args([]))
    assert (
        "--VoilaConfiguration.kernel_spec_manager_class="
        "livechat_widget.visitor_kernel.VisitorKernelSpecs"
    ) in argv
