// The settings panel's cost and context fields: this chat's price (dollars per million
// input and output tokens, for a local or private model), its budget (max_cost: a send
// past it is refused) and the model's context window (when the provider does not say
// it). Empty means "the default". The kernel checks everything again (chat_settings.py).
import { h } from "../dom";
import type { ChatSettings, Prices } from "../types";
import { FOCUS } from "./ui";

export const MAX_CONTEXT_WINDOW = 100_000_000;

export interface CostValues {
  prices: Prices | null;
  max_cost: number | null;
  context_window: number | null;
}

const FIELD = "lc:flex lc:flex-col lc:gap-1 lc:text-xs lc:text-muted lc:min-w-0";
const CONTROL =
  "lc:w-full lc:min-w-0 lc:px-2 lc:py-1 lc:border lc:border-line-strong lc:rounded-control lc:bg-surface lc:text-fg " +
  `lc:text-ui lc:focus:border-accent ${FOCUS}`;

function numberInput(cls: string, label: string, step: string, placeholder: string): HTMLInputElement {
  return h("input", {
    type: "number",
    class: `${cls} ${CONTROL}`,
    "aria-label": label,
    min: 0,
    step,
    placeholder,
    inputmode: "decimal",
  });
}

const shown = (v: number | null | undefined) => (v === null || v === undefined ? "" : String(v));

/** The fields' values, checked like the kernel checks them; a string is the problem. */
export function readCost(input: string, output: string, budget: string, window: string): CostValues | string {
  const money = (text: string, what: string): number | string | null => {
    if (!text.trim()) return null;
    const n = Number(text);
    if (!Number.isFinite(n)) return `${what} must be a number of dollars.`;
    if (n < 0) return `${what} must not be below zero.`;
    return n;
  };
  const inPrice = money(input, "The input price");
  const outPrice = money(output, "The output price");
  const maxCost = money(budget, "The budget");
  for (const v of [inPrice, outPrice, maxCost]) if (typeof v === "string") return v;
  if ((inPrice === null) !== (outPrice === null)) return "Give both prices (input and output), or neither.";
  let contextWindow: number | null = null;
  if (window.trim()) {
    contextWindow = Number(window);
    if (!Number.isInteger(contextWindow) || contextWindow < 1 || contextWindow > MAX_CONTEXT_WINDOW)
      return `The context window must be a whole number of tokens between 1 and ${MAX_CONTEXT_WINDOW.toLocaleString()}.`;
  }
  const prices = inPrice === null ? null : { input_per_mtok: inPrice as number, output_per_mtok: outPrice as number };
  return { prices, max_cost: maxCost as number | null, context_window: contextWindow };
}

export class CostFields {
  readonly inputPrice = numberInput("lc-input-price", "Input price per million tokens", "any", "default");
  readonly outputPrice = numberInput("lc-output-price", "Output price per million tokens", "any", "default");
  readonly maxCost = numberInput("lc-max-cost", "Budget for this chat in dollars", "any", "none");
  readonly contextWindow = numberInput("lc-context-window", "Context window in tokens", "1", "the provider's");

  /** The labelled fields, for the settings form's grid. */
  fields(): HTMLElement[] {
    return [
      h("label", { class: FIELD }, "Input price ($ per million tokens)", this.inputPrice),
      h("label", { class: FIELD }, "Output price ($ per million tokens)", this.outputPrice),
      h("label", { class: FIELD }, "Budget (max cost, $)", this.maxCost),
      h("label", { class: FIELD }, "Context window (tokens)", this.contextWindow),
    ];
  }

  fill(s: ChatSettings): void {
    this.inputPrice.value = shown(s.prices?.input_per_mtok);
    this.outputPrice.value = shown(s.prices?.output_per_mtok);
    this.maxCost.value = shown(s.max_cost);
    this.contextWindow.value = shown(s.context_window);
  }

  read(): CostValues | string {
    return readCost(this.inputPrice.value, this.outputPrice.value, this.maxCost.value, this.contextWindow.value);
  }

  /** The fields differ from the chat's saved settings (or hold what is not a number). */
  changed(s: ChatSettings): boolean {
    const inputs = [this.inputPrice, this.outputPrice, this.maxCost, this.contextWindow];
    const saved = [s.prices?.input_per_mtok, s.prices?.output_per_mtok, s.max_cost, s.context_window];
    return inputs.some((input, i) => input.validity.badInput || input.value.trim() !== shown(saved[i]));
  }
}
