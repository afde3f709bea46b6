"""The ``livechat`` app's visitor kernels: ipykernel without what a visitor cannot reach.

Voila lets a visitor's page send a kernel only comm messages, ``comm_info_request``,
``kernel_info_request`` and ``shutdown_request`` (its ``allowed_message_types``): never
a completion or a debug request. Yet every ipykernel loads the debugger (debugpy and
pydevd, about 7 MB) and IPython loads jedi for completion (about 6 MB) when they start.
``livechat`` starts its kernels with :data:`LAUNCH`, which makes those two imports fail
before ipykernel starts; ipykernel and IPython both carry on without them, as they do
where they are not installed. Measured with ``benchmarks/bench_capacity.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

# Imports a visitor kernel never needs (above); ``None`` in sys.modules = ImportError.
UNREACHABLE = ("debugpy", "jedi")
# What ``python -m ipykernel_launcher`` runs, after blocking UNREACHABLE. A ``-c``
# program, not a module of this package: importing the package first would import
# IPython (through ipywidgets), and jedi with it, before the block is in place.
LAUNCH = (
    "import sys\n"
    f"sys.modules.update(dict.fromkeys({UNREACHABLE!r}))\n"
    "if sys.path and sys.path[0] == '': del sys.path[0]\n"
    "from ipykernel import kernelapp\n"
    "kernelapp.launch_new_instance()\n"
)


def lean_argv(argv: Sequence[str]) -> list[str]:
    """A kernel spec's command with ``-m ipykernel_launcher`` replaced by :data:`LAUNCH`;
    any other command (another language, a wrapper script) is left as it is."""
    argv = list(argv)
    for i in range(len(argv) - 1):
        if argv[i] == "-m" and argv[i + 1] == "ipykernel_launcher":
            return [*argv[:i], "-c", LAUNCH, *argv[i + 2 :]]
    return argv


class VisitorKernelSpecs(KernelSpecManager):
    """Voila's kernel specs, each Python kernel started through :data:`LAUNCH`."""

    def get_kernel_spec(self, kernel_name: str, *args: Any, **kwargs: Any) -> KernelSpec:
        spec = super().get_kernel_spec(kernel_name, *args, **kwargs)
        spec.argv = lean_argv(spec.argv)
        return spec
