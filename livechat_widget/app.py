"""The ``livechat`` command: serves the packaged app notebook with Voila.

    livechat                         # http://127.0.0.1:8866/, opens a browser
    livechat --port 9000 --no-browser --chat-logs ~/chats
    livechat --provider openai --model gpt-4o-mini   # key from OPENAI_API_KEY / LIVECHAT_API_KEY
    livechat --system-prompt "Answer briefly." --max-tokens 512   # new chats' settings

Everything the kernel needs (where chats live, which model to call) travels as
``LIVECHAT_*`` environment variables of the Voila process, which every kernel —
preheated ones included — inherits. Nothing of it is written into the notebook,
the command line of a kernel or the page. API keys are never options: they are
read from the environment by the kernel.

Voila runs in this process (``Voila.launch_instance``) with preheated kernels: a
kernel that has already executed the app notebook waits for the next visitor, so a
new visitor does not pay for starting Python and importing the widget. The page is the
package's own Voila template (``PAGES``): the widget and one small script, not JupyterLab.
"""

from __future__ import annotations

import argparse
import errno
import os
import socket
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ._version import __version__
from .chat_settings import SettingsError, check_max_tokens, check_system_prompt, check_temperature
from .kernel_admission import Admission, available_memory_mb, default_max_kernels, memory_notice
from .prices import PricesError, prices_from_env
from .providers.compare_env import parse_compare  # imports no HTTP code either
from .providers.env import PROVIDERS  # imports no HTTP code
from .tools.mcp_config import load_config  # needs no mcp package
from .visitors import CHATS_MODES, default_chats_mode, is_loopback
from .voila_server import make_voila_class

# The largest websocket message the app takes: the files of one message at their limit
# (50 MiB), plus room for the JSON.
WEBSOCKET_BYTES = 51 * 1024 * 1024
APP_NOTEBOOK = Path(__file__).resolve().parent / "notebooks" / "app.ipynb"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8866
DEFAULT_POOL_SIZE = 1
# A visitor's kernel is shut down when the page closes; one whose page vanished without
# saying so (a crash, a lost network) is culled after this long idle and unconnected.
DEFAULT_CULL_IDLE_S = 600
# The JupyterLab extensions the lab page (--page lab) loads: the widget manager and
# anywidget. Voila otherwise loads every extension installed (each with its own requests
# and scripts), which the chat never uses.
PAGE_EXTENSIONS = (
    "anywidget",
    "@voila-dashboards/widgets-manager8",
    "@voila-dashboards/widgets-manager7",
)
# The page a visitor gets. "app": our Voila template (share/jupyter/voila/templates/
# livechat): the widget outputs and one small script (js/app_page) that connects them
# to the kernel. Voila's "lab" page loads JupyterLab (~60 chunks, then every allowed
# extension's remoteEntry) before it even opens the kernel's websocket, which doubled
# a new visitor's wait (benchmarks/bench_startup.py). "lab" stays as a fallback.
PAGES = {"app": "livechat", "lab": "lab"}
# Voila finds templates in the Jupyter data folders: this one travels inside the package
# (editable install, wheel or a plain clone alike) and is added to JUPYTER_PATH.
JUPYTER_DATA = Path(__file__).resolve().parent / "share" / "jupyter"


class UsageError(Exception):
    """A problem with how ``livechat`` was started; the text is shown as is."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="livechat",
        description=(
            "Serve the livechat app (an AI chat in the browser) with Voila. "
            "Without a configured provider it answers with the offline demo model."
        ),
        epilog=(
            "Providers are configured by environment variables (LIVECHAT_PROVIDER, "
            "LIVECHAT_BASE_URL, LIVECHAT_MODEL, LIVECHAT_API_KEY, or OPENAI_API_KEY, "
            "ANTHROPIC_API_KEY, OLLAMA_HOST); the options below override the first three. "
            "API keys are only ever read from the environment."
        ),
    )
    _server_options(parser)
    _model_options(parser)
    _visitor_options(parser)
    _visitor_reach(parser)
    parser.add_argument("--version", action="version", version=f"livechat {__version__}")
    return parser


def _server_options(parser: argparse.ArgumentParser) -> None:
    """Where the app listens, where it keeps chats, how its page looks."""
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to listen on (default {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default {DEFAULT_HOST}; 0.0.0.0 = every interface)",
    )
    parser.add_argument(
        "--chat-logs",
        metavar="DIR",
        help="folder of the chat CSV files (default: $LIVECHAT_CHAT_LOGS, else ./chat_logs)",
    )
    parser.add_argument(
        "--theme", choices=("light", "dark"), help="force a light or dark page (default: light)"
    )
    parser.add_argument(
        "--page",
        choices=tuple(PAGES),
        default="app",
        help=(
            "app: the chat's own light page (default); lab: Voila's JupyterLab page "
            "(slower to open, loads JupyterLab's scripts)"
        ),
    )
    parser.add_argument(
        "--no-browser", action="store_true", help="do not open a web browser at start"
    )


def _model_options(parser: argparse.ArgumentParser) -> None:
    """Which model answers, and new chats' settings."""
    parser.add_argument(
        "--provider",
        choices=PROVIDERS,
        help="openai (any OpenAI-compatible server), anthropic, ollama, or demo (offline)",
    )
    parser.add_argument("--model", help="model name, e.g. gpt-4o-mini or llama3.2")
    parser.add_argument(
        "--base-url",
        metavar="URL",
        help="base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1",
    )
    parser.add_argument(
        "--system-prompt",
        metavar="TEXT",
        help="system prompt of new chats (else $LIVECHAT_SYSTEM_PROMPT); each chat can change it",
    )
    parser.add_argument(
        "--temperature",
        type=float,
        metavar="T",
        help="temperature of new chats, 0..2 (else $LIVECHAT_TEMPERATURE; default: the model's)",
    )
    parser.add_argument(
        "--max-tokens",
        type=int,
        metavar="N",
        help="longest reply of new chats, in tokens (else $LIVECHAT_MAX_TOKENS)",
    )


def _visitor_options(parser: argparse.ArgumentParser) -> None:
    """Visitors' kernels, whose chats they see, what they may reach in the kernel."""
    parser.add_argument(
        "--pool",
        "--pool-size",
        dest="pool_size",
        type=int,
        default=DEFAULT_POOL_SIZE,
        metavar="N",
        help=(
            "preheated kernels kept ready for new visitors (default "
            f"{DEFAULT_POOL_SIZE}; each holds a Python process of about 90 MB). Size it "
            "to the visitors who may arrive at once: they get a chat within a second or "
            "two; later ones wait for a kernel to start (--pool-size: the same)"
        ),
    )
    parser.add_argument(
        "--max-kernels",
        type=int,
        metavar="N",
        help=(
            "most kernels running at once, the preheated ones included; a visitor beyond "
            "them gets a 'busy, try again' page (default: as many as half the available "
            "memory holds, at least --pool + 1)"
        ),
    )
    parser.add_argument(
        "--cull-idle",
        type=int,
        default=DEFAULT_CULL_IDLE_S,
        metavar="SECONDS",
        help=(
            "shut down a kernel that has had no page connected and no work for this long "
            f"(default {DEFAULT_CULL_IDLE_S}; 0 = never). Connected and preheated kernels "
            "are never culled"
        ),
    )
    parser.add_argument(
        "--no-preheat",
        action="store_true",
        help="start each visitor's kernel on arrival instead of keeping preheated ones",
    )
    parser.add_argument(
        "--chats",
        choices=CHATS_MODES,
        help=(
            "per-browser: each browser sees only its own chats (kept under "
            "<chat folder>/visitors/); shared: every visitor sees every chat. Default: "
            "shared on a loopback --host, per-browser whenever others can reach the app"
        ),
    )
    parser.add_argument(
        "--allow-kernel-context",
        action="store_true",
        help=(
            "let visitors attach the kernel's variables, last error and recent cells to a "
            "message (off by default: the kernel is the server's, not the visitor's)"
        ),
    )
    parser.add_argument(
        "--allow-code",
        action="store_true",
        help=(
            "let visitors run Python code blocks of replies in their kernel, and let the "
            "model run Python there when a visitor allows it (off by default: it runs on "
            "this server, as the user running livechat)"
        ),
    )


def _visitor_reach(parser: argparse.ArgumentParser) -> None:
    """What visitors may bring into the chat: files, MCP servers' tools."""
    parser.add_argument(
        "--no-uploads",
        action="store_true",
        help=(
            "visitors cannot attach files to messages (by default they may, within the "
            "limits: 20 MiB a file, 50 MiB a message, 10 files)"
        ),
    )
    parser.add_argument(
        "--compare",
        action="append",
        metavar="NAME=BASE_URL[#MODEL]",
        help=(
            "another OpenAI-compatible server the chat's Compare can put a message to, "
            "beside the provider's models (repeat it for more; its key, if any, from "
            "$LIVECHAT_COMPARE_API_KEY; visitors see the name and model only)"
        ),
    )
    parser.add_argument(
        "--mcp-config",
        metavar="FILE",
        help=(
            "an mcpServers JSON file (as other MCP clients use): each visitor's chat starts "
            "these servers and offers their tools, every call asking the visitor first "
            "(off by default; needs pip install 'livechat-widget[mcp]')"
        ),
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error(f"--port must be between 1 and 65535, not {args.port}")
    if args.pool_size < 1:
        parser.error(f"--pool must be at least 1, not {args.pool_size}")
    if args.max_kernels is not None and args.max_kernels < 1:
        parser.error(f"--max-kernels must be at least 1, not {args.max_kernels}")
    if args.cull_idle < 0:
        parser.error(f"--cull-idle must be 0 (never) or more seconds, not {args.cull_idle}")
    if args.mcp_config is not None:
        try:
            load_config(Path(args.mcp_config).expanduser())
        except ValueError as exc:
            parser.error(f"--mcp-config: {exc}")
        args.mcp_config = str(Path(args.mcp_config).expanduser().resolve())
    try:
        check_temperature(args.temperature)
        check_max_tokens(args.max_tokens)
        if args.system_prompt is not None:
            check_system_prompt(args.system_prompt)
    except SettingsError as exc:
        parser.error(str(exc))
    return args


def resolve_chat_logs(option: str | None, environ: Mapping[str, str]) -> Path:
    """--chat-logs, else $LIVECHAT_CHAT_LOGS, else ./chat_logs — as an absolute path.

    Absolute because the kernel runs in the folder of the packaged notebook, not here.
    """
    raw = option or environ.get("LIVECHAT_CHAT_LOGS") or "chat_logs"
    path = Path(raw).expanduser()
    if not path.is_absolute():
        path = Path.cwd() / path
    path = path.resolve()
    if path.exists() and not path.is_dir():
        raise UsageError(f"--chat-logs {raw}: {path} exists and is not a folder")
    return path


def build_env(args: argparse.Namespace, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment of the Voila process, and so of every kernel it starts."""
    env = dict(environ)
    try:  # a malformed LIVECHAT_PRICES stops here, not in each visitor's kernel
        prices_from_env(environ)
    except PricesError as exc:
        raise UsageError(str(exc)) from None
    env["LIVECHAT_CHAT_LOGS"] = str(resolve_chat_logs(args.chat_logs, environ))
    env["LIVECHAT_CHATS"] = args.chats or default_chats_mode(args.host)
    # Only the command line turns kernel access on: a variable left in the shell does not.
    for flag, name in (
        (args.allow_kernel_context, "LIVECHAT_ALLOW_KERNEL_CONTEXT"),
        (args.allow_code, "LIVECHAT_ALLOW_CODE"),
    ):
        env.pop(name, None)
        if flag:
            env[name] = "1"
    env["LIVECHAT_UPLOADS"] = "0" if args.no_uploads else "1"
    # Voila is told to take messages this large (voila_argv): a message with files.
    env["LIVECHAT_WEBSOCKET_BYTES"] = str(WEBSOCKET_BYTES)
    if args.compare:  # Compare's other servers (providers/compare_env.py)
        try:
            parse_compare(" ".join(args.compare))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        env["LIVECHAT_COMPARE"] = " ".join(args.compare)
    env.pop("LIVECHAT_MCP_CONFIG", None)  # MCP servers too: only --mcp-config
    if args.mcp_config:
        env["LIVECHAT_MCP_CONFIG"] = args.mcp_config
    for option, name in (
        ("provider", "LIVECHAT_PROVIDER"),
        ("model", "LIVECHAT_MODEL"),
        ("base_url", "LIVECHAT_BASE_URL"),
        ("theme", "LIVECHAT_THEME"),
        ("system_prompt", "LIVECHAT_SYSTEM_PROMPT"),
        ("temperature", "LIVECHAT_TEMPERATURE"),
        ("max_tokens", "LIVECHAT_MAX_TOKENS"),
    ):
        value = getattr(args, option, None)
        if value is not None and value != "":
            env[name] = str(value)
    env["JUPYTER_PATH"] = os.pathsep.join(
        [str(JUPYTER_DATA), *filter(None, [environ.get("JUPYTER_PATH")])]
    )
    # Preheated kernels call back to Voila to learn that their visitor arrived; they
    # must reach the address Voila listens on (it may not be 127.0.0.1).
    if args.host not in ("", "0.0.0.0", "::", "localhost", "127.0.0.1"):
        env["VOILA_APP_IP"] = f"[{args.host}]" if ":" in args.host else args.host
    return env


def chats_mode_notice(mode: str, host: str) -> str:
    """The start-up line that says who sees which chats."""
    if mode == "per-browser":
        return (
            "livechat: chats are per browser (--chats per-browser): each browser sees only "
            "its own chats. This is not a login: see the README"
        )
    text = "livechat: chats are shared (--chats shared): every visitor sees every chat"
    if not is_loopback(host):
        text += ". WARNING: others can reach this address; use --chats per-browser"
    return text


def _bind_addresses(host: str, port: int) -> list[tuple[int, Any]]:
    try:
        infos = socket.getaddrinfo(
            host or None, port, socket.AF_UNSPEC, socket.SOCK_STREAM, 0, socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        raise UsageError(f"--host {host}: cannot resolve it ({exc.strerror})") from exc
    return [(family, sockaddr) for family, _, _, _, sockaddr in infos]


def port_in_use(host: str, port: int) -> bool:
    """True when something already listens on host:port (bound the way tornado binds)."""
    for family, sockaddr in _bind_addresses(host, port):
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(sockaddr)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            if exc.errno == errno.EADDRNOTAVAIL:
                raise UsageError(f"--host {host}: this machine has no such address") from exc
            if exc.errno == errno.EACCES:
                raise UsageError(
                    f"port {port} needs special privileges; try --port {DEFAULT_PORT}"
                ) from exc
            raise
        finally:
            sock.close()
    return False


def suggest_port(host: str, port: int, tries: int = 50) -> int | None:
    for candidate in range(port + 1, min(port + 1 + tries, 65536)):
        if not port_in_use(host, candidate):
            return candidate
    return None


def voila_argv(args: argparse.Namespace, notebook: Path = APP_NOTEBOOK) -> list[str]:
    argv = [
        str(notebook),
        f"--Voila.ip={args.host}",
        f"--port={args.port}",
        # We checked the port ourselves; never silently move to another one.
        "--Voila.port_retries=0",
        f"--template={PAGES[args.page]}",
        "--VoilaConfiguration.show_tracebacks=False",
        # Files travel in one websocket message (Tornado's default cap is 10 MiB).
        f"--Voila.tornado_settings={{'websocket_max_message_size': {WEBSOCKET_BYTES}}}",
        # Visitor kernels start without the debugger and jedi (visitor_kernel.py).
        "--VoilaConfiguration.kernel_spec_manager_class="
        "livechat_widget.visitor_kernel.VisitorKernelSpecs",
        *(f"--VoilaConfiguration.extension_allowlist={name}" for name in PAGE_EXTENSIONS),
    ]
    if args.cull_idle:
        # cull_connected stays False: a kernel with an open page is never culled; Voila
        # itself never culls a preheated kernel waiting in its pool.
        argv += [
            f"--MappingKernelManager.cull_idle_timeout={args.cull_idle}",
            f"--MappingKernelManager.cull_interval={min(60, args.cull_idle)}",
            "--MappingKernelManager.cull_connected=False",
        ]
    if args.no_preheat:
        argv.append("--preheat_kernel=False")
    else:
        argv += ["--preheat_kernel=True", f"--pool_size={args.pool_size}"]
    if args.theme:
        argv.append(f"--theme={args.theme}")
    if args.no_browser:
        argv.append("--no-browser")
    return argv


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        env = build_env(args, os.environ)
        if not APP_NOTEBOOK.is_file():
            raise UsageError(f"the app notebook is missing from the package: {APP_NOTEBOOK}")
        if port_in_use(args.host, args.port):
            other = suggest_port(args.host, args.port)
            hint = f"; try --port {other}" if other else ""
            raise UsageError(f"port {args.port} is in use{hint}")
        Path(env["LIVECHAT_CHAT_LOGS"]).mkdir(parents=True, exist_ok=True)
    except UsageError as exc:
        print(f"livechat: error: {exc}", file=sys.stderr)
        return 2

    # Kernels (preheated ones too) copy this process's environment when they start.
    os.environ.clear()
    os.environ.update(env)
    print(f"livechat: chats are stored in {env['LIVECHAT_CHAT_LOGS']}", flush=True)
    print(chats_mode_notice(env["LIVECHAT_CHATS"], args.host), flush=True)
    print(
        "livechat: a visitor's kernel is shut down when their page closes; "
        + (
            f"unconnected idle kernels are culled after {args.cull_idle} s (--cull-idle)"
            if args.cull_idle
            else "idle kernels are never culled (--cull-idle 0)"
        ),
        flush=True,
    )
    available = available_memory_mb()
    pool = 0 if args.no_preheat else args.pool_size
    max_kernels = args.max_kernels or default_max_kernels(pool, available)
    print(memory_notice(pool, max_kernels, available), flush=True)
    admission = Admission(max_kernels=max_kernels, pool_size=pool)
    try:
        make_voila_class(admission).launch_instance(argv=voila_argv(args))
    except KeyboardInterrupt:  # Ctrl+C before Voila's loop took over
        pass
    print("livechat: stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
