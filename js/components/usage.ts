// How a reply's usage reads in its footer: the model, tokens in and out (estimates
// marked "≈"), time to first token, speed and cost.
import type { Usage } from "../types";

export function formatCount(n: number | null | undefined, estimated = false): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "–";
  return `${estimated ? "≈" : ""}${n.toLocaleString()}`;
}

function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

/** Dollars as the page shows them: "$0.0012", "$1.25" ("≈ " first when estimated). */
export function formatMoney(value: number | null | undefined, estimated = false): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  const approx = estimated ? "≈ " : "";
  if (value >= 1)
    return `${approx}$${value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  if (value > 0 && value < 0.0001) return `${approx}<$0.0001`;
  return `${approx}$${value.toFixed(4)}`;
}

/** A short line for the footer and a longer description for its tooltip. */
export function usageSummary(u: Usage): { text: string; title: string } {
  const parts: string[] = [];
  if (u.model) parts.push(u.model);
  parts.push(`${formatCount(u.prompt_tokens, u.estimated)} in · ${formatCount(u.completion_tokens, u.estimated)} out`);
  // The cost right after the tokens it is worked out from (a narrow footer cuts the end).
  const priced = u.cost !== null && u.cost !== undefined && Number.isFinite(u.cost);
  if (priced) parts.push(formatMoney(u.cost, u.estimated));
  if (u.ttft_ms !== null && Number.isFinite(u.ttft_ms)) parts.push(`${seconds(u.ttft_ms)} to first token`);
  if (u.tokens_per_s !== null && Number.isFinite(u.tokens_per_s))
    parts.push(`${u.tokens_per_s.toFixed(u.tokens_per_s < 10 ? 1 : 0)} tokens/s`);
  const text = parts.join(" · ");
  const source = u.estimated ? "estimated from the text (the provider sent no counts)" : "as counted by the provider";
  const title =
    `Written by ${u.model || "the model"}. Prompt tokens ${formatCount(u.prompt_tokens)}, ` +
    `completion tokens ${formatCount(u.completion_tokens)}, ${source}.` +
    (priced ? ` Cost ${formatMoney(u.cost, u.estimated)} (US dollars).` : "");
  return { text: u.estimated ? `${text} (estimated)` : text, title };
}
