// The context gauge in the composer's footer: how full the next request would be against
// the model's context window (the `context_gauge` trait). From 80 % it warns and offers
// "Continue without oldest turns" (`trim_history`), before any request fails; from 100 %
// it says the request would likely fail. Hidden while the window is unknown.
import { h } from "../dom";
import type { ContextGauge } from "../types";
import { FOCUS } from "./ui";

/** From this share of the window the gauge warns and offers to leave old turns out. */
export const WARN_AT = 0.8;

/** Token counts as the gauge shows them: 950, 12.3k, 128k, 1.05M. */
export function formatTokens(n: number): string {
  if (!Number.isFinite(n) || n < 1000) return `${Math.max(0, Math.round(n || 0))}`;
  const [value, unit] = n < 1_000_000 ? [n / 1000, "k"] : [n / 1_000_000, "M"];
  const digits = value < 10 ? 2 : value < 100 ? 1 : 0;
  return `${Number(value.toFixed(digits))}${unit}`;
}

export class ContextGaugeView {
  readonly el: HTMLElement;
  readonly meter: HTMLElement;
  readonly label: HTMLElement;
  /** Read out when the gauge starts warning (a live region, empty otherwise). */
  readonly warning: HTMLElement;
  readonly trimButton: HTMLButtonElement;
  private fill: HTMLElement;

  constructor(onTrim: () => void, signal: AbortSignal) {
    this.fill = h("div", { class: "lc-gauge-fill lc:h-full lc:rounded-full lc:bg-accent" });
    this.meter = h(
      "div",
      {
        role: "meter",
        "aria-label": "Context window",
        "aria-valuemin": "0",
        class: "lc-gauge-meter lc:w-14 lc:h-1.5 lc:shrink-0 lc:rounded-full lc:bg-line lc:overflow-hidden",
      },
      this.fill,
    );
    this.label = h("span", { class: "lc-gauge-label lc:tabular-nums lc:whitespace-nowrap" });
    this.warning = h("span", { class: "lc-gauge-warning", role: "status", "aria-live": "polite" });
    this.trimButton = h(
      "button",
      {
        type: "button",
        class:
          "lc-trim lc:px-1.5 lc:rounded-control lc:underline lc:text-fg lc:hover:bg-hover lc:whitespace-nowrap " +
          FOCUS,
        title: "Leave the oldest half of the turns out of what the model is sent (nothing is sent now)",
        hidden: true,
      },
      "Continue without oldest turns",
    );
    this.trimButton.addEventListener("click", () => onTrim(), { signal });
    this.el = h(
      "div",
      { class: "lc-gauge lc:flex lc:flex-wrap lc:items-center lc:justify-center lc:gap-x-2 lc:gap-y-1", hidden: true },
      this.meter,
      this.label,
      this.warning,
      this.trimButton,
    );
  }

  update(gauge: ContextGauge | null | undefined, busy: boolean): void {
    const window = gauge?.window ?? null;
    if (!gauge || !window || window <= 0) {
      this.el.hidden = true;
      this.el.removeAttribute("data-level");
      this.warning.textContent = "";
      return;
    }
    const share = gauge.tokens / window;
    const level = share >= 1 ? "full" : share >= WARN_AT ? "warn" : "ok";
    const approx = gauge.estimated ? "≈ " : "";
    const text = `${approx}${formatTokens(gauge.tokens)} / ${formatTokens(window)} tokens`;
    const percent = Math.round(share * 100);
    this.el.hidden = false;
    this.el.dataset.level = level;
    this.meter.setAttribute("aria-valuemax", `${window}`);
    this.meter.setAttribute("aria-valuenow", `${Math.min(gauge.tokens, window)}`);
    this.meter.setAttribute("aria-valuetext", `${text} (${percent}%)`);
    this.meter.title = `The next request would send ${text}: ${percent}% of the model's context window`;
    this.fill.style.width = `${Math.min(100, share * 100)}%`;
    this.fill.classList.toggle("lc:bg-accent", level === "ok");
    this.fill.classList.toggle("lc:bg-danger", level !== "ok");
    this.label.textContent = text;
    this.label.classList.toggle("lc:text-danger-fg", level !== "ok");
    const warning =
      level === "full"
        ? "Over the context window: the next request would likely fail."
        : level === "warn"
          ? `${percent}% of the context window.`
          : "";
    if (this.warning.textContent !== warning) this.warning.textContent = warning;
    this.warning.className = `lc-gauge-warning${warning ? " lc:text-danger-fg lc:font-semibold" : ""}`;
    this.trimButton.hidden = level === "ok";
    this.trimButton.disabled = busy;
  }
}
