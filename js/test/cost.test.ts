// Cost and the context window: the reply footer's money, the stats panel's cost column,
// the composer's gauge ("Continue without oldest turns" from 80 %), the settings' cost fields.
import { afterEach, describe, expect, it } from "vitest";
import { formatTokens } from "../components/context_gauge";
import { readCost } from "../components/cost_fields";
import { formatMoney, usageSummary } from "../components/usage";
import { DEFAULT_SETTINGS } from "../components/settings_panel";
import type { Message, Traits, UsageTotals } from "../types";
import { CHAT_A } from "./fake_model";
import { mountApp, unmountAll } from "./mount";

afterEach(unmountAll);

const USAGE = {
  model: "gpt-4o-mini",
  prompt_tokens: 1000,
  completion_tokens: 200,
  estimated: false,
  ttft_ms: 250,
  tokens_per_s: 40,
  cost: 0.00027,
};

function reply(usage: Message["usage"]): Message[] {
  return [
    { id: 0, role: "user", content: "Why?", timestamp: "2025-01-01T10:00:00.000Z", status: "complete", error: "" },
    {
      id: 1,
      role: "assistant",
      content: "Because.",
      timestamp: "2025-01-01T10:00:01.000Z",
      status: "complete",
      error: "",
      usage,
    },
  ];
}

const totals = (over: Partial<UsageTotals> = {}): UsageTotals => ({
  replies: 1,
  prompt_tokens: 1000,
  completion_tokens: 200,
  estimated: 0,
  cost: null,
  ...over,
});

describe("money", () => {
  it("reads as dollars, estimated ones with ≈", () => {
    expect(formatMoney(0.0012)).toBe("$0.0012");
    expect(formatMoney(0.0012, true)).toBe("≈ $0.0012");
    expect(formatMoney(1234.5)).toBe("$1,234.50");
    expect(formatMoney(0.00001)).toBe("<$0.0001");
    expect(formatMoney(0)).toBe("$0.0000");
    expect(formatMoney(null)).toBe("–");
  });

  it("the reply footer shows the cost, and nothing of money without a price", () => {
    expect(usageSummary(USAGE).text).toContain("1,000 in · 200 out · $0.0003 · 250 ms to first token");
    expect(usageSummary(USAGE).title).toContain("Cost $0.0003 (US dollars).");
    expect(usageSummary({ ...USAGE, estimated: true }).text).toContain("≈ $0.0003");
    expect(usageSummary({ ...USAGE, cost: null }).text).not.toContain("$");
    const { cost: _cost, ...old } = USAGE; // a page given an old payload
    expect(usageSummary(old).text).not.toContain("$");
    const { root } = mountApp({ messages: reply(USAGE) });
    expect(root.querySelector(".lc-usage")!.textContent).toContain("$0.0003");
  });

  it("the stats panel sums the cost per chat and overall, only once a reply is priced", () => {
    const { root, model } = mountApp({
      stats: {
        recent: [],
        totals: { replies: 1, completed: 1, stopped: 0, errors: 0, tokens: 200 },
        chat: totals({ cost: 0.0012 }),
        overall: totals({ replies: 3, cost: 0.5 }),
      },
    });
    const table = root.querySelector(".lc-usage-totals")!;
    expect([...table.querySelectorAll("thead th")].map((th) => th.textContent)).toContain("Cost");
    expect([...table.querySelectorAll(".lc-cost")].map((td) => td.textContent)).toEqual(["$0.0012", "$0.5000"]);
    model.update({
      stats: {
        recent: [],
        totals: { replies: 1, completed: 1, stopped: 0, errors: 0, tokens: 200 },
        chat: totals(),
        overall: totals(),
      },
    });
    expect(root.querySelector(".lc-usage-totals")!.textContent).not.toContain("Cost");
    expect(root.querySelectorAll(".lc-cost")).toHaveLength(0);
  });
});

describe("the context gauge", () => {
  const gaugeOf = (root: HTMLElement) => root.querySelector<HTMLElement>(".lc-gauge")!;
  const trim = (root: HTMLElement) => root.querySelector<HTMLButtonElement>(".lc-trim")!;

  it("formats token counts shortly", () => {
    expect(formatTokens(950)).toBe("950");
    expect(formatTokens(12_300)).toBe("12.3k");
    expect(formatTokens(16_384)).toBe("16.4k");
    expect(formatTokens(128_000)).toBe("128k");
    expect(formatTokens(1_048_576)).toBe("1.05M");
  });

  it("is hidden while the window is unknown", () => {
    const { root } = mountApp({ context_gauge: { tokens: 500, window: null, estimated: true } });
    expect(gaugeOf(root).hidden).toBe(true);
  });

  it("shows a meter, warns from 80 % and offers to continue without the oldest turns", () => {
    const { root, model } = mountApp({ context_gauge: { tokens: 1000, window: 4096, estimated: false } });
    const gauge = gaugeOf(root);
    const meter = gauge.querySelector('[role="meter"]')!;
    expect(gauge.hidden).toBe(false);
    expect(gauge.textContent).toContain("1k / 4.1k tokens");
    expect(meter.getAttribute("aria-label")).toBe("Context window");
    expect(meter.getAttribute("aria-valuenow")).toBe("1000");
    expect(meter.getAttribute("aria-valuemax")).toBe("4096");
    expect(trim(root).hidden).toBe(true);
    expect(gauge.dataset.level).toBe("ok");

    model.update({ context_gauge: { tokens: 3400, window: 4096, estimated: true } });
    expect(gauge.dataset.level).toBe("warn");
    expect(gauge.textContent).toContain("≈ 3.4k / 4.1k tokens");
    expect(gauge.querySelector('[role="status"]')!.textContent).toBe("83% of the context window.");
    expect(trim(root).hidden).toBe(false);
    expect(trim(root).textContent).toBe("Continue without oldest turns");
    trim(root).click();
    expect(model.lastSent()).toEqual({ type: "trim_history", chat_id: CHAT_A });

    model.update({ context_gauge: { tokens: 5000, window: 4096, estimated: true } });
    expect(gauge.dataset.level).toBe("full");
    expect(gauge.textContent).toContain("the next request would likely fail");
    expect(meter.getAttribute("aria-valuenow")).toBe("4096");

    model.update({ busy: true });
    expect(trim(root).disabled).toBe(true); // not while a reply streams
    model.update({ busy: false, context_gauge: { tokens: 1500, window: 4096, estimated: true } });
    expect(trim(root).hidden).toBe(true);
    expect(gauge.querySelector('[role="status"]')!.textContent).toBe("");
  });
});

describe("the cost settings", () => {
  it("checks prices, the budget and the window like the kernel", () => {
    expect(readCost("", "", "", "")).toEqual({ prices: null, max_cost: null, context_window: null });
    expect(readCost("0.15", "0.6", "0.5", "8192")).toEqual({
      prices: { input_per_mtok: 0.15, output_per_mtok: 0.6 },
      max_cost: 0.5,
      context_window: 8192,
    });
    expect(readCost("1", "", "", "")).toBe("Give both prices (input and output), or neither.");
    expect(readCost("abc", "1", "", "")).toBe("The input price must be a number of dollars.");
    expect(readCost("", "", "-1", "")).toBe("The budget must not be below zero.");
    expect(readCost("", "", "", "0")).toContain("The context window must be a whole number");
    expect(readCost("", "", "", "1.5")).toContain("The context window must be a whole number");
  });

  it("the panel sends them with configure and refuses a negative budget in place", () => {
    const settings = {
      ...DEFAULT_SETTINGS,
      model: "fake-model",
      prices: { input_per_mtok: 1, output_per_mtok: 2 },
      max_cost: null,
      context_window: null,
    };
    const over: Partial<Traits> = { chat_settings: settings };
    const { root, model } = mountApp(over);
    model.kernel.list_models = () => ({ names: ["fake-model"], error: "" });
    root.querySelector<HTMLButtonElement>('[aria-label="Chat settings"]')!.click();
    const panel = root.querySelector<HTMLElement>(".lc-settings")!;
    const field = (label: string) => panel.querySelector<HTMLInputElement>(`[aria-label="${label}"]`)!;
    expect(field("Input price per million tokens").value).toBe("1");
    expect(field("Output price per million tokens").value).toBe("2");
    field("Budget for this chat in dollars").value = "-0.5";
    panel.querySelector("form")!.dispatchEvent(new Event("submit", { cancelable: true }));
    expect(panel.querySelector(".lc-settings-problem")!.textContent).toBe("The budget must not be below zero.");
    expect(model.sent.filter((c) => c.type === "configure")).toHaveLength(0);
    field("Budget for this chat in dollars").value = "0.5";
    field("Context window in tokens").value = "4096";
    panel.querySelector("form")!.dispatchEvent(new Event("submit", { cancelable: true }));
    expect(model.lastSent()).toMatchObject({
      type: "configure",
      prices: { input_per_mtok: 1, output_per_mtok: 2 },
      max_cost: 0.5,
      context_window: 4096,
    });
  });
});
