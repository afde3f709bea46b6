// One tool call of a reply, as a card in its bubble (reply_flow.ts places it at the
// call's offset in the text): the tool's name and source, a status badge, what it was
// called with (its Python highlighted, or the arguments' JSON), the consent step while
// it waits for the person, and its result collapsed under it. The card is updated in
// place as the call's state changes (a `tool` message, a snapshot, the saved message);
// each part is redrawn only when what it shows changed.
import { h, icon } from "../dom";
import { codeHtml } from "../markdown";
import type { SendCommand, ToolCall, ToolDecision } from "../types";
import { CodeBlock, focusableScrollers } from "./code_block";
import { FOCUS_INSET, SMALL_BUTTON } from "./ui";

/** What a card needs from its bubble. */
export interface ToolHost {
  chatId: string;
  send: SendCommand;
  /** The reply is streaming: state changes are news (announced); a saved reply's are not. */
  live: boolean;
  /** Say something to screen readers (the message log's polite status region). */
  announce: (text: string) => void;
}

/** A decision sent and no newer state seen: the buttons wait this long, then are offered again. */
const CONSENT_WAIT_MS = 8000;

const CARD =
  "lc-tool not-prose lc:my-2 lc:first:mt-0 lc:min-w-0 lc:max-w-full lc:overflow-hidden lc:rounded-item lc:border " +
  "lc:border-line lc:bg-surface lc:text-ui lc:data-[status=waiting]:border-accent";
const HEAD =
  "lc-tool-head lc:flex lc:flex-wrap lc:items-center lc:gap-x-2 lc:gap-y-1 lc:py-1.5 lc:px-2.5 lc:bg-code-head";
const BADGE =
  "lc-tool-badge lc:ms-auto lc:inline-flex lc:items-center lc:py-px lc:px-2 lc:rounded-full lc:border lc:text-meta";
const BADGE_BY_STATUS: Record<string, string> = {
  waiting: "lc:border-accent lc:bg-active lc:text-fg lc:font-semibold",
  running: "lc:border-line-strong lc:text-fg",
  error: "lc:border-danger-line lc:bg-danger-bg lc:text-danger-fg",
};
const RESULT_PRE =
  "lc-tool-content lc:m-0 lc:max-h-[16em] lc:overflow-auto lc:py-1.5 lc:px-2.5 lc:whitespace-pre-wrap lc:wrap-anywhere " +
  `lc:font-mono lc:text-xs lc:bg-code ${FOCUS_INSET}`;

/** The badge's text. */
export function statusText(call: ToolCall): string {
  switch (call.status) {
    case "proposed":
      return "Proposed";
    case "waiting":
      return call.needs_consent ? "Waiting for you" : "Waiting";
    case "running":
      return "Running…";
    case "ok":
      return call.ms === null || call.ms === undefined ? "Done" : `Done · ${formatMs(call.ms)}`;
    case "error":
      return "Failed";
    case "denied":
      return "Denied";
    default:
      return "Stopped";
  }
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

/** "MCP · server", "Your function"; "" for the kernel's own tools. */
export function sourceText(source: string): string {
  if (!source || source === "kernel") return "";
  if (source.startsWith("mcp:")) return `MCP · ${source.slice(4)}`;
  if (source === "python") return "Your function";
  return source;
}

/** What screen readers hear when a live call reaches `status` ("" = nothing). */
function news(call: ToolCall): string {
  switch (call.status) {
    case "waiting":
      return call.needs_consent
        ? `${call.name} is waiting for your permission: Allow once, Allow for this chat, or Deny, in the reply.`
        : "";
    case "ok":
      return `${call.name} finished.`;
    case "error":
      return `${call.name} failed.`;
    case "denied":
      return `${call.name} was denied.`;
    case "stopped":
      return `${call.name} was stopped.`;
    default:
      return "";
  }
}

/** The arguments to show besides the code: pretty JSON, the text as written if malformed. */
export function argumentsText(call: ToolCall): string {
  const raw = call.arguments ?? "";
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return raw.trim();
  }
  if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
    const rest = { ...(parsed as Record<string, unknown>) };
    if (call.code) delete rest.code; // shown as code already
    return Object.keys(rest).length ? JSON.stringify(rest, null, 2) : "";
  }
  return JSON.stringify(parsed, null, 2);
}

const cards = new WeakMap<Element, ToolCard>();

/** The card drawn in `el` (for the app's Stop, which may need to leave a note on it). */
export function toolCardOf(el: Element | null): ToolCard | undefined {
  return el ? cards.get(el) : undefined;
}

export class ToolCard {
  readonly el: HTMLElement;
  private name: HTMLElement;
  private source: HTMLElement;
  private badge: HTMLElement;
  private args: HTMLElement;
  private consent: HTMLElement;
  private consentButtons: HTMLButtonElement[] = [];
  private noteEl: HTMLElement;
  private result: HTMLDetailsElement;
  private call: ToolCall | null = null;
  private host: ToolHost | null = null;
  private argsSig = "";
  private resultSig = "";
  private waitTimer: ReturnType<typeof setTimeout> | null = null;

  constructor() {
    this.name = h("span", { class: "lc-tool-name lc:min-w-0 lc:font-mono lc:font-semibold lc:wrap-anywhere" });
    this.source = h("span", { class: "lc-tool-source lc:text-meta lc:text-muted", hidden: true });
    this.badge = h("span", { class: BADGE });
    const head = h("div", { class: HEAD }, icon("wrench", 14, "lc:text-muted"), this.name, this.source, this.badge);
    this.args = h("div", { class: "lc-tool-args lc:p-1.5 lc:empty:hidden" });
    this.consent = this.makeConsent();
    this.noteEl = h("p", { class: "lc-tool-note lc:py-1 lc:px-2.5 lc:text-note lc:text-muted", role: "status" });
    this.noteEl.hidden = true;
    this.result = h("details", { class: "lc-tool-result lc:border-t lc:border-line", hidden: true });
    this.el = h("div", { class: CARD, role: "group" }, head, this.args, this.consent, this.noteEl, this.result);
    cards.set(this.el, this);
  }

  /** The consent step: the three answers (each sends `tool_consent`). */
  private makeConsent(): HTMLElement {
    const button = (decision: ToolDecision, text: string, cls: string) => {
      const b = h(
        "button",
        { type: "button", class: `lc-tool-${decision} lc:whitespace-nowrap ${SMALL_BUTTON} ${cls}` },
        text,
      );
      b.addEventListener("click", () => this.decide(decision));
      this.consentButtons.push(b);
      return b;
    };
    const quiet = "lc:bg-surface lc:border lc:border-line-strong lc:enabled:hover:bg-hover lc:disabled:opacity-60";
    return h(
      "div",
      {
        class:
          "lc-tool-consent lc:flex lc:flex-wrap lc:items-center lc:gap-2 lc:py-1.5 lc:px-2.5 lc:border-t lc:border-line " +
          "lc:bg-code-head",
        role: "group",
        hidden: true,
      },
      h("span", { class: "lc-tool-ask lc:flex-1 lc:min-w-[10em] lc:text-ui" }),
      button(
        "once",
        "Allow once",
        "lc:bg-accent lc:text-on-accent lc:enabled:hover:bg-accent-hover lc:disabled:opacity-60",
      ),
      button("chat", "Allow for this chat", quiet),
      button("deny", "Deny", quiet),
    );
  }

  update(call: ToolCall, host: ToolHost): void {
    const prev = this.call;
    this.host = host;
    if (prev === call) return;
    this.call = call;
    this.el.dataset.status = call.status;
    this.el.dataset.callId = call.id;
    this.el.setAttribute("aria-label", `Tool call: ${call.name}`);
    this.name.textContent = call.name;
    const source = sourceText(call.source);
    this.source.hidden = !source;
    this.source.textContent = source;
    this.badge.textContent = statusText(call);
    this.badge.className = `${BADGE} ${BADGE_BY_STATUS[call.status] ?? "lc:border-line lc:text-muted"}`;
    this.drawArgs(call);
    this.drawConsent(call);
    this.drawResult(call);
    if (call.status !== "running") this.note("");
    if (host.live && prev?.status !== call.status) {
      const text = news(call);
      if (text) host.announce(text);
    }
  }

  /** A note under the card ("" removes it): what Stop could not do. */
  note(text: string): void {
    this.noteEl.textContent = text;
    this.noteEl.hidden = !text;
  }

  destroy(): void {
    this.stopWaiting();
  }

  private drawArgs(call: ToolCall): void {
    const rest = argumentsText(call);
    const sig = JSON.stringify([call.code, rest]);
    if (sig === this.argsSig) return;
    this.argsSig = sig;
    const parts: HTMLElement[] = [];
    if (call.code) parts.push(codeBlock(call.code, "python"));
    // Malformed JSON stays as the model wrote it (plain text, no highlighting).
    if (rest) parts.push(codeBlock(rest, isJson(rest) ? "json" : ""));
    this.args.replaceChildren(...parts);
  }

  private drawConsent(call: ToolCall): void {
    const asking = call.status === "waiting" && call.needs_consent;
    this.consent.hidden = !asking;
    this.consent.setAttribute("aria-label", `Allow ${call.name}?`);
    const ask = this.consent.querySelector(".lc-tool-ask");
    if (ask)
      ask.textContent = call.code
        ? `Run this code in the kernel? It can change your variables and files.`
        : `Allow ${call.name} to run?`;
    // A newer state of the call has come: the answer was heard (or is asked again).
    this.stopWaiting();
    this.setButtonsDisabled(false);
  }

  private decide(decision: ToolDecision): void {
    const call = this.call;
    const host = this.host;
    if (!call || !host || this.waitTimer !== null) return;
    host.send({ type: "tool_consent", chat_id: host.chatId, call_id: call.id, decision });
    this.setButtonsDisabled(true);
    // No newer state (the kernel refused: the banner says why): offer the answers again.
    this.waitTimer = setTimeout(() => {
      this.waitTimer = null;
      this.setButtonsDisabled(false);
    }, CONSENT_WAIT_MS);
  }

  private setButtonsDisabled(disabled: boolean): void {
    for (const b of this.consentButtons) b.disabled = disabled;
  }

  private stopWaiting(): void {
    if (this.waitTimer !== null) {
      clearTimeout(this.waitTimer);
      this.waitTimer = null;
    }
  }

  /** The result, collapsed: what the model received, then the images. */
  private drawResult(call: ToolCall): void {
    const images = call.images ?? [];
    const sig = JSON.stringify([call.status, call.content, images.length, images[0]?.length ?? 0]);
    if (sig === this.resultSig) return;
    this.resultSig = sig;
    this.result.hidden = !call.content && !images.length;
    if (this.result.hidden) return;
    const lines = call.content ? call.content.split("\n").length : 0;
    const size = [lines ? `${lines} line${lines === 1 ? "" : "s"}` : "", imagesText(images.length)].filter(Boolean);
    const summary = h(
      "summary",
      { class: `lc-tool-summary lc:cursor-pointer lc:py-1 lc:px-2.5 lc:text-note lc:font-semibold ${FOCUS_INSET}` },
      call.status === "error" ? "Error" : "Result",
      size.length ? h("span", { class: "lc:font-normal lc:text-muted" }, ` · ${size.join(", ")}`) : null,
    );
    const body: HTMLElement[] = [];
    if (call.content) {
      body.push(h("pre", { class: RESULT_PRE, tabindex: 0, "aria-label": `Result of ${call.name}` }, call.content));
    }
    for (const png of images) {
      const img = h("img", {
        alt: `Image ${call.name} returned`,
        class: "lc-tool-image lc:block lc:max-w-full lc:h-auto lc:m-1.5",
      });
      img.src = `data:image/png;base64,${png}`;
      body.push(img);
    }
    // The person's open/closed choice stays across updates (the element is kept).
    this.result.replaceChildren(summary, ...body);
  }
}

function imagesText(n: number): string {
  return n ? `${n} image${n === 1 ? "" : "s"}` : "";
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Code in a card: a code block as in replies (language, Copy), capped in height. */
function codeBlock(code: string, lang: string): HTMLElement {
  const box = h("div");
  box.innerHTML = codeHtml(code, lang, "lc:max-h-[20em] lc:overflow-y-auto");
  const pre = box.querySelector<HTMLPreElement>("pre.lc-pre");
  if (!pre) return box;
  focusableScrollers(box);
  pre.setAttribute("aria-label", lang === "python" ? "Code" : "Arguments");
  return new CodeBlock(pre).el;
}
