"""The streaming-peers section of RESULTS.md (bench_peers.py's figures)."""

from __future__ import annotations

from collections.abc import Callable

PEER_LABELS = {
    "panel_generator": "Panel, generator",
    "panel_stream": "Panel, .stream()",
    "gradio": "Gradio",
}

AB_ROWS = [
    ("visible tokens at the end (or at the cap)", "visible_tokens"),
    ("lost tokens", "lost_tokens"),
    ("first token -> last visible (s)", "first_token_to_last_visible_s"),
    ("visible tokens/s", "visible_tokens_per_s"),
    ("websocket bytes server -> page", "ws_bytes_in"),
    ("all bytes server -> page (HTTP + websocket)", "bytes_in"),
    ("websocket messages server -> page", "ws_messages_in"),
    ("CPU s, server (Voila + kernel / panel serve / gradio)", "cpu_s_server"),
    ("CPU s, browser (all Chromium processes)", "cpu_s_browser"),
    ("longest frame gap (ms)", "longest_frame_gap_ms"),
    ("p95 frame gap (ms)", "p95_frame_gap_ms"),
    ("longest main-thread task (ms)", "longest_task_ms"),
    ("token-to-screen p50 (ms)", "token_to_screen_p50_ms"),
    ("token-to-screen p95 (ms)", "token_to_screen_p95_ms"),
]


def streaming_peers_section(ab: dict, fmt: Callable[[object], str]) -> list[str]:
    """One table per case: livechat, then each peer's value with ours / peer."""
    lines = [
        "",
        "## Streaming: livechat (Voila) vs. its peers at their best",
        "",
        "Same token source (OpenAI-compatible SSE on 127.0.0.1), same headless Chromium, "
        "runs in a rotating order; medians. Peers: Panel's `ChatInterface` with its default "
        "generator callback and with `ChatInterface.stream(token, message=...)` (both use "
        "Panel's `enable_streaming` Markdown updates), and Gradio's `ChatInterface` with a "
        f"streaming generator. Runs stop at a {fmt(ab.get('cap_s'))} s cap (tokens visible "
        "at the cap and the rate so far are reported). Token-to-screen: send time at the "
        "token server to the DOM update showing the token. Each peer cell: its value "
        "(ours / peer).",
    ]
    for peer, why in ab.get("skipped", {}).items():
        lines += ["", f"{PEER_LABELS.get(peer, peer)} was not run: {why}."]
    for name, case in ab["cases"].items():
        # Results of runs before bench_peers.py hold one peer, Panel's default idiom.
        peers = case.get("peers") or {
            "panel_generator": {
                "medians": case["peer"],
                "ratio_ours_over_peer": case["ratio_ours_over_peer"],
            }
        }
        o = case["ours"]
        runs = ", ".join(
            f"{v['medians']['runs']} {PEER_LABELS.get(k, k)}"
            + (f" ({v['medians']['capped_runs']} capped)" if v["medians"]["capped_runs"] else "")
            for k, v in peers.items()
        )
        lines += [
            "",
            f"### {name.replace('_', ' ')} ({o['runs']} runs ours; {runs})",
            "",
            "| | livechat | " + " | ".join(PEER_LABELS.get(k, k) for k in peers) + " |",
            "|---|---|" + "---|" * len(peers),
        ]
        for label, key in AB_ROWS:
            if key not in o and not any(key in v["medians"] for v in peers.values()):
                continue
            cells = []
            for v in peers.values():
                m, ratio = v["medians"], v["ratio_ours_over_peer"]
                if key == "lost_tokens" and m["capped_runs"]:
                    cells.append(f"– (capped: {fmt(m.get(key))} not yet shown)")
                elif key in ratio:
                    cells.append(f"{fmt(m.get(key))} ({fmt(ratio[key])})")
                else:
                    cells.append(fmt(m.get(key)))
            lines.append(f"| {label} | {fmt(o.get(key))} | " + " | ".join(cells) + " |")
    lines.append("")
    return lines
