// Reply statistics from the `stats` trait: a small SVG chart of time to first token
// and tokens/s over the recent replies, and totals.
import { h, svg } from "../dom";
import type { Stats, StatsPoint, UsageTotals } from "../types";
import { formatCount, formatMoney } from "./usage";

const W = 280;
const H = 64;

export class StatsPanel {
  readonly el: HTMLElement;

  constructor(id: string) {
    this.el = h("section", {
      class:
        "lc-stats lc:flex lc:flex-col lc:gap-2.5 lc:shrink-0 lc:max-h-[45%] lc:overflow-y-auto lc:p-3 " +
        "lc:bg-side lc:border-b lc:border-line",
      id,
      "aria-label": "Reply statistics",
      hidden: true,
    });
  }

  setOpen(open: boolean): void {
    this.el.hidden = !open;
  }

  update(stats: Stats | null | undefined): void {
    const recent = stats?.recent ?? [];
    const t = stats?.totals ?? { replies: 0, completed: 0, stopped: 0, errors: 0, tokens: 0 };
    const totals = h(
      "dl",
      { class: "lc:grid lc:grid-cols-[repeat(auto-fit,minmax(64px,1fr))] lc:gap-1.5" },
      ...(
        [
          ["Replies", t.replies],
          ["Completed", t.completed],
          ["Stopped", t.stopped],
          ["Errors", t.errors],
          // This session's replies' completion tokens (the table below has both kinds).
          ["Completion tokens", t.tokens],
        ] as [string, number][]
      ).map(([k, v]) =>
        h(
          "div",
          { class: "lc:py-1.5 lc:px-2 lc:rounded-control lc:bg-surface lc:border lc:border-line" },
          h("dt", { class: "lc:text-micro lc:text-muted" }, k),
          h("dd", { class: "lc:text-head lc:font-strong lc:tabular-nums" }, formatNumber(v)),
        ),
      ),
    );
    this.el.replaceChildren(
      totals,
      tokenTable(stats?.chat, stats?.overall),
      h(
        "div",
        { class: "lc:grid lc:grid-cols-[repeat(auto-fit,minmax(200px,1fr))] lc:gap-2" },
        chart("Time to first token", "ms", recent, (p) => p.ttft_ms, "lc:fill-accent"),
        chart("Speed", "tokens/s", recent, (p) => p.tokens_per_s, "lc:fill-good"),
      ),
    );
  }
}

/** Tokens (and dollars, where priced) summed from the replies' usage rows: this chat and every chat. */
function tokenTable(chat: UsageTotals | undefined, overall: UsageTotals | undefined): HTMLElement {
  // The cost column shows once a reply has a price (none without prices: nothing to say).
  const priced = [chat, overall].some((t) => t?.cost !== null && t?.cost !== undefined);
  const row = (name: string, t: UsageTotals | undefined) => {
    const u = t ?? { replies: 0, prompt_tokens: 0, completion_tokens: 0, estimated: 0, cost: null };
    const est = u.estimated > 0;
    const cost = priced ? [h("td", { class: "lc-cost lc:py-1 lc:pl-2 lc:text-right" }, formatMoney(u.cost, est))] : [];
    return h(
      "tr",
      { class: "lc:border-t lc:border-line", title: est ? `${u.estimated} of ${u.replies} replies estimated` : "" },
      h("th", { scope: "row", class: "lc:py-1 lc:pr-2 lc:text-left lc:font-normal lc:text-muted" }, name),
      h("td", { class: "lc:py-1 lc:px-2 lc:text-right" }, formatCount(u.replies)),
      h("td", { class: "lc:py-1 lc:px-2 lc:text-right" }, formatCount(u.prompt_tokens, est)),
      h("td", { class: "lc:py-1 lc:pl-2 lc:text-right" }, formatCount(u.completion_tokens, est)),
      ...cost,
    );
  };
  const head = (text: string) =>
    h("th", { scope: "col", class: "lc:py-1 lc:px-2 lc:text-right lc:font-normal lc:text-muted" }, text);
  return h(
    "table",
    { class: "lc-usage-totals lc:w-full lc:text-xs lc:tabular-nums lc:border-collapse", "aria-label": "Tokens used" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col", class: "lc:py-1 lc:pr-2 lc:text-left lc:font-normal lc:text-muted" }, "Tokens"),
        head("Replies"),
        head("Prompt"),
        head("Completion"),
        ...(priced ? [head("Cost")] : []),
      ),
    ),
    h("tbody", {}, row("This chat", chat), row("All chats", overall)),
  );
}

function formatNumber(v: number | null | undefined, digits = 0): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  return v.toLocaleString(undefined, { maximumFractionDigits: digits });
}

function chart(
  title: string,
  unit: string,
  points: StatsPoint[],
  pick: (p: StatsPoint) => number | null,
  barFill: string,
): HTMLElement {
  const values = points.map(pick);
  const known = values.filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  const last = known.length ? known[known.length - 1] : null;
  const avg = known.length ? known.reduce((a, b) => a + b, 0) / known.length : null;
  const max = Math.max(1, ...known);
  const n = Math.max(values.length, 1);
  const slot = W / n;
  const bw = Math.max(2, Math.min(18, slot * 0.7));
  const bars = values.map((v, i) => {
    const x = i * slot + (slot - bw) / 2;
    if (v === null || !Number.isFinite(v)) {
      return svg("rect", { x, y: H - 2, width: bw, height: 2, class: "lc-bar-missing lc:fill-line-strong", rx: 1 });
    }
    const bh = Math.max(2, (v / max) * (H - 6));
    const outcome = points[i]?.outcome ?? "";
    const fill = outcome === "error" ? "lc-bar-error lc:fill-danger" : barFill;
    const r = svg("rect", { x, y: H - bh, width: bw, height: bh, rx: 1.5, class: `lc-bar ${fill}` });
    r.append(svg("title", {}, document.createTextNode(`${formatNumber(v, 1)} ${unit} (${outcome || "reply"})`)));
    return r;
  });
  const label = known.length
    ? `${title}: last ${formatNumber(last, 1)} ${unit}, average ${formatNumber(avg, 1)} ${unit} over ${known.length} replies`
    : `${title}: no data yet`;
  const chartSvg = svg(
    "svg",
    {
      viewBox: `0 0 ${W} ${H}`,
      preserveAspectRatio: "none",
      role: "img",
      "aria-label": label,
      class: "lc-chart lc:block lc:w-full lc:h-14",
    },
    svg("line", { x1: 0, y1: H - 0.5, x2: W, y2: H - 0.5, class: "lc:stroke-line-strong lc:stroke-1" }),
    ...bars,
  );
  return h(
    "figure",
    { class: "lc:py-2 lc:px-2.5 lc:rounded-item lc:bg-surface lc:border lc:border-line" },
    h(
      "figcaption",
      { class: "lc:flex lc:justify-between lc:gap-2 lc:mb-1.5 lc:text-xs" },
      h("span", { class: "lc:text-muted" }, title),
      h(
        "span",
        { class: "lc:font-strong lc:tabular-nums" },
        last === null ? "–" : `${formatNumber(last, last < 10 ? 1 : 0)} ${unit}`,
      ),
    ),
    chartSvg,
    h(
      "p",
      { class: "lc:mt-1 lc:text-micro lc:text-muted" },
      avg !== null ? `avg ${formatNumber(avg, avg < 10 ? 1 : 0)} ${unit} · ${known.length} replies` : "no replies yet",
    ),
  );
}
