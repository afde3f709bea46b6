"""The benchmarks page's charts (docs/benchmarks/*.svg), drawn from results.json.

    python3 benchmarks/run_all.py --charts-only     # redraw from the existing results.json

``run_all.py`` calls :func:`draw_charts` after every run. Each chart is drawn only when
results.json holds its benchmark (a ``--quick`` or ``--only`` run leaves the others'
files as they were). The SVG files are committed, so building the docs never runs a
benchmark; they are written to be the same bytes for the same figures (no date, a fixed
id salt, text kept as text).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from report_peers import PEER_LABELS

CHARTS_DIR = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"
OURS = "#2f6fdf"
PEER_COLOURS = {"panel_generator": "#e8a33d", "panel_stream": "#c77c1e", "gradio": "#8a8f98"}
TARGET = "#c0392b"
CASE_LABELS = {
    "unpaced_2000": "2,000 tokens,\nunpaced",
    "paced_6000_at_2000_per_s": "6,000 tokens\nat 2,000/s",
    "unpaced_20000": "20,000 tokens,\nunpaced",
}


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise SystemExit(
            "Drawing the charts needs matplotlib, which the bench extra brings: "
            'python3 -m pip install -e ".[bench]"'
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "svg.hashsalt": "livechat-widget",  # the same ids on every run
            "svg.fonttype": "none",  # text stays text: small, searchable files
            "font.family": "sans-serif",
            "font.size": 10,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": 11,
            "axes.titleweight": "bold",
        }
    )
    return plt


def _save(plt: Any, fig: Any, out: Path, name: str) -> Path:
    path = out / name
    fig.tight_layout()
    fig.savefig(path, format="svg", metadata={"Date": None}, facecolor="white")
    plt.close(fig)
    return path


def _get(d: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def streaming_chart(plt: Any, cases: dict, out: Path) -> Path:
    """Visible tokens/s per case: livechat beside each peer at its best (log scale)."""
    names = [n for n in CASE_LABELS if n in cases]
    peers = [p for p in PEER_COLOURS if any(p in cases[n].get("peers", {}) for n in names)]
    series = [("livechat", OURS, [cases[n]["ours"]["visible_tokens_per_s"] for n in names])]
    for p in peers:
        values = [_get(cases[n], "peers", p, "medians", "visible_tokens_per_s") for n in names]
        series.append((PEER_LABELS.get(p, p), PEER_COLOURS[p], values))
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    width = 0.8 / len(series)
    for i, (label, colour, values) in enumerate(series):
        xs = [x + (i - (len(series) - 1) / 2) * width for x in range(len(names))]
        shown = [(x, v) for x, v in zip(xs, values, strict=True) if v]
        bars = ax.bar(
            [x for x, _ in shown], [v for _, v in shown], width, label=label, color=colour
        )
        ax.bar_label(bars, labels=[f"{v:,.0f}" for _, v in shown], fontsize=7, padding=2)
    ax.set_yscale("log")
    ax.set_xticks(range(len(names)), [CASE_LABELS[n] for n in names])
    ax.set_ylabel("visible tokens per second (log)")
    ax.set_title("Streaming: tokens shown per second, higher is better")
    ax.legend(frameon=False, fontsize=8, ncol=len(series), loc="upper left")
    ax.set_ylim(top=ax.get_ylim()[1] * 8)  # room for the legend and the labels
    return _save(plt, fig, out, "streaming.svg")


def latency_chart(plt: Any, stream: dict, out: Path) -> Path:
    """Token-to-screen p50/p95 at two paces, with the targets (bench_stream.py)."""
    rows = [
        ("200 tokens/s", "paced_200_per_s", 25),
        ("2,000 tokens/s", "paced_2000_per_s", 30),
    ]
    rows = [r for r in rows if _get(stream, r[1], "token_to_screen_ms")]
    fig, ax = plt.subplots(figsize=(7.5, 2.6))
    for y, (_, key, limit) in enumerate(rows):
        lat = stream[key]["token_to_screen_ms"]
        ax.barh(y + 0.18, lat["p95"], 0.34, color=OURS, label="p95" if y == 0 else None)
        ax.barh(y - 0.18, lat["p50"], 0.34, color="#9dbbf0", label="p50" if y == 0 else None)
        for value, dy in ((lat["p95"], 0.18), (lat["p50"], -0.18)):
            colour = "white" if dy > 0 else "black"
            ax.text(value - 0.4, y + dy, f"{value} ms", va="center", ha="right", color=colour)
        ax.plot([limit, limit], [y - 0.45, y + 0.45], color=TARGET, linewidth=1.5)
        ax.text(limit + 0.4, y + 0.36, f"target p95 ≤ {limit} ms", color=TARGET, fontsize=8)
    ax.axvline(1000 / 60, color="#888", linestyle=":", linewidth=1, label="one frame (16.7 ms)")
    ax.set_yticks(range(len(rows)), [r[0] for r in rows])
    ax.set_xlim(0, 40)
    ax.set_xlabel("ms from the token server sending a token to the page showing it")
    ax.set_title("Token to screen, lower is better")
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    return _save(plt, fig, out, "latency.svg")


def startup_chart(plt: Any, startup: dict, lab: dict, out: Path) -> Path:
    """Seconds to a usable chat: a new visitor, a cold start, a JupyterLab cell."""
    rows: list[tuple[str, float, str]] = []
    pre, cold = startup.get("preheated_kernels", {}), startup.get("no_preheat", {})
    if pre:
        rows.append(("app, new visitor\n(preheated kernels)", pre["new_visitor_s"]["median"], OURS))
    if cold:
        rows.append(
            ("app, new visitor\n(--no-preheat)", cold["new_visitor_s"]["median"], "#8a8f98")
        )
    if pre:
        rows.append(("app, cold start\n(livechat to usable)", pre["cold_start_s"], "#8a8f98"))
    if lab:
        rows.append(("JupyterLab cell,\nfirst run", lab["first_run_s"], OURS))
        rows.append(("JupyterLab cell,\nre-run (median)", lab["rerun_s_median"], OURS))
    fig, ax = plt.subplots(figsize=(7.5, 0.55 * len(rows) + 1.2))
    ys = list(range(len(rows)))[::-1]
    ax.barh(ys, [r[1] for r in rows], 0.6, color=[r[2] for r in rows])
    for y, (_, seconds, _) in zip(ys, rows, strict=True):
        # Beside the bar, clear of the target line.
        x = seconds + 0.1 if seconds > 1.0 else 1.1
        ax.text(x, y, f"{seconds:.2f} s", va="center", fontsize=8)
    ax.axvline(1.0, color=TARGET, linewidth=1.5)
    ax.text(1.1, ys[0] + 0.42, "target for a new visitor: ≤ 1 s", color=TARGET, fontsize=8)
    ax.set_yticks(ys, [r[0] for r in rows], fontsize=8)
    ax.set_xlabel("seconds until the message box can be used")
    ax.set_title("Startup, lower is better")
    return _save(plt, fig, out, "startup.svg")


def long_chats_chart(plt: Any, lc: dict, out: Path) -> Path:
    """Time to paint a chat when it opens, by its length (median of runs)."""
    sizes = [n for n in (200, 2000, 20000) if f"open_chat_{n}" in lc]
    values = [lc[f"open_chat_{n}"]["paint_ms_median"] for n in sizes]
    fig, ax = plt.subplots(figsize=(7.5, 2.8))
    bars = ax.bar([f"{n:,} messages" for n in sizes], values, 0.5, color=OURS)
    ax.bar_label(bars, labels=[f"{v:g} ms" for v in values], fontsize=8, padding=2)
    ax.axhline(60, color=TARGET, linewidth=1.5)
    ax.text(-0.45, 62, "target for 2,000 messages: ≤ 60 ms", color=TARGET, fontsize=8)
    ax.set_ylim(0, max([*values, 60]) * 1.35)
    ax.set_ylabel("ms to paint (median)")
    ax.set_title("Opening a chat: time to paint by its length, lower is better")
    return _save(plt, fig, out, "long-chats.svg")


def draw_charts(res: dict, out: Path = CHARTS_DIR) -> list[Path]:
    """Draw every chart results.json (``res``) has figures for; return the files written."""
    plt = _pyplot()
    out.mkdir(parents=True, exist_ok=True)
    r = res["benchmarks"]
    written = []
    cases = _get(r, "stream_ab", "result", "cases")
    if cases:
        written.append(streaming_chart(plt, cases, out))
    stream = _get(r, "stream", "result")
    if _get(stream, "paced_200_per_s", "token_to_screen_ms"):
        written.append(latency_chart(plt, stream, out))
    startup = _get(r, "startup", "result") or {}
    lab = _get(r, "long_chats", "result", "jupyterlab_cell_to_widget") or {}
    if startup or lab:
        written.append(startup_chart(plt, startup, lab, out))
    lc = _get(r, "long_chats", "result") or {}
    if "open_chat_2000" in lc:
        written.append(long_chats_chart(plt, lc, out))
    return written
