// Compare: the chooser (2-4 candidates and "blind") that makes the next Send go to all
// of them, and the panes where their replies stream side by side (the kernel's
// `compares` trait and `compare_delta` messages; livechat_widget/compare.py). Panes sit
// in a grid that stacks under 600 px of width (a container query: the 250 px JupyterLab
// sidebar shows them one above the other). Deltas are applied once per frame, and only
// the panes that changed render their markdown again.
import { h } from "../dom";
import { IncrementalMarkdown } from "../markdown_stream";
import type {
  ChatModel,
  Command,
  CompareChoice,
  CompareDeltaMsg,
  ComparePane,
  CompareState,
  ModelListMsg,
} from "../types";
import { MARKDOWN } from "./bubble_body";
import { decorateMarkdown } from "./markdown_view";
import { FOCUS, SMALL_BUTTON } from "./ui";

export const MIN_PANES = 2;
export const MAX_PANES = 4;

export interface CompareHooks {
  send: (cmd: Command) => void;
  listModels: () => Promise<ModelListMsg>;
  /** Runs a callback before the next paint (tests run it at once). */
  schedule: (cb: () => void) => void;
}

const CHOOSER =
  "lc-compare-chooser lc:mx-3 lc:mb-2 lc:p-2.5 lc:rounded-item lc:border lc:border-line lc:bg-surface lc:text-note " +
  "lc:flex lc:flex-col lc:gap-1.5";
const PANE =
  "lc-compare-pane lc:flex lc:flex-col lc:min-w-0 lc:rounded-item lc:border lc:border-line lc:bg-surface lc:p-2.5 lc:gap-1.5";
const GRID_COLS: Record<number, string> = {
  2: "lc:@pane:grid-cols-2",
  3: "lc:@pane:grid-cols-2 lc:@wide:grid-cols-3",
  4: "lc:@pane:grid-cols-2 lc:@panes4:grid-cols-4",
};

/** One figure of a pane's footer, or null when it is not known. */
export function paneFigures(pane: ComparePane): string {
  const out: string[] = [];
  if (pane.ttft_ms !== null) out.push(`TTFT ${Math.round(pane.ttft_ms)} ms`);
  if (pane.tokens_per_s !== null) out.push(`${pane.tokens_per_s.toFixed(pane.tokens_per_s < 10 ? 1 : 0)} tok/s`);
  if (pane.tokens !== null) out.push(`${pane.tokens} tokens`);
  if (pane.cost !== null) out.push(`$${pane.cost < 0.01 ? pane.cost.toPrecision(2) : pane.cost.toFixed(2)}`);
  return out.join(" · ");
}

function statusText(pane: ComparePane): string {
  if (pane.status === "streaming") return "Streaming…";
  if (pane.status === "stopped") return "Stopped";
  if (pane.status === "length") return "Cut at the length limit";
  if (pane.status === "error") return `Failed: ${pane.error}`;
  return pane.finished === 1 ? "Finished first" : "Finished";
}

class PaneView {
  readonly el: HTMLElement;
  readonly keep: HTMLButtonElement;
  private name: HTMLElement;
  private model: HTMLElement;
  private status: HTMLElement;
  private figures: HTMLElement;
  readonly body: HTMLElement;
  private md: IncrementalMarkdown;
  text = "";
  private shown = "";

  constructor(
    readonly index: number,
    onKeep: (index: number) => void,
    signal: AbortSignal,
  ) {
    this.name = h("span", { class: "lc:font-semibold lc:text-fg lc:truncate" });
    this.model = h("span", { class: "lc:text-muted lc:text-xs lc:truncate" });
    this.status = h("span", { class: "lc-compare-status lc:text-xs lc:text-muted" });
    this.body = h("div", { class: `lc-compare-body lc:min-w-0 lc:break-words ${MARKDOWN}` });
    this.md = new IncrementalMarkdown(this.body, { decorate: decorateMarkdown });
    this.figures = h("span", { class: "lc-compare-figures lc:text-xs lc:text-muted lc:tabular-nums" });
    this.keep = h(
      "button",
      {
        type: "button",
        class: `lc-compare-keep ${SMALL_BUTTON} lc:self-start lc:bg-accent lc:text-on-accent lc:disabled:opacity-50`,
      },
      "Keep this",
    );
    this.keep.addEventListener("click", () => onKeep(this.index), { signal });
    const head = h("div", { class: "lc:flex lc:flex-col lc:min-w-0" }, this.name, this.model);
    const foot = h("div", { class: "lc:flex lc:flex-wrap lc:items-center lc:gap-2" }, this.keep, this.figures);
    this.el = h("article", { class: PANE }, head, this.status, this.body, foot);
  }

  update(pane: ComparePane, streaming: boolean): void {
    this.name.textContent = pane.label;
    this.model.textContent = pane.model && pane.model !== pane.label ? pane.model : "";
    this.model.hidden = !this.model.textContent;
    this.el.setAttribute("aria-label", pane.model ? `${pane.label} (${pane.model})` : pane.label);
    this.el.dataset.status = pane.status;
    this.status.textContent = statusText(pane);
    this.figures.textContent = paneFigures(pane);
    this.keep.disabled = streaming || pane.message_id === null;
    this.keep.setAttribute("aria-label", `Keep this (${pane.label})`);
  }

  /** Render the text if it changed since the last paint. */
  paint(): void {
    if (this.text === this.shown) return;
    this.shown = this.text;
    this.md.render(this.text);
  }
}

export class ComparePanes {
  /** The panes, under the chat's messages. */
  readonly el: HTMLElement;
  /** The chooser, above the composer. */
  readonly chooser: HTMLElement;
  private grid: HTMLElement;
  private options: HTMLElement;
  private blind: HTMLInputElement;
  private hint: HTMLElement;
  private views: PaneView[] = [];
  private chatId = "";
  private state: CompareState | null = null;
  private seq = -1;
  private scheduled = false;
  private choices: CompareChoice[] = [];
  private models: string[] = [];
  private picked: string[] = [];

  constructor(
    private hooks: CompareHooks,
    private signal: AbortSignal,
    id: string,
  ) {
    this.grid = h("div", { class: "lc-compare-grid lc:grid lc:gap-2 lc:grid-cols-1" });
    this.el = h(
      "section",
      { class: "lc-compare lc:@container lc:w-full lc:px-3 lc:pb-2", "aria-label": "Compared replies", hidden: true },
      this.grid,
    );
    this.options = h("div", { class: "lc:flex lc:flex-col lc:gap-1", role: "group", "aria-labelledby": `${id}-t` });
    this.blind = h("input", { type: "checkbox", class: `lc-compare-blind ${FOCUS}` });
    this.hint = h("p", { class: "lc:m-0 lc:text-xs lc:text-muted", role: "status" });
    const cancel = h("button", { type: "button", class: `${SMALL_BUTTON} lc:border lc:border-line` }, "Cancel");
    cancel.addEventListener("click", () => this.close(), { signal });
    this.chooser = h(
      "div",
      { class: CHOOSER, id, hidden: true, "data-lc-own-esc": "" },
      h("p", { class: "lc:m-0 lc:font-semibold", id: `${id}-t` }, "Compare models: your next message goes to each"),
      this.options,
      h("label", { class: "lc:flex lc:items-center lc:gap-1.5" }, this.blind, "Blind: hide the names until I keep one"),
      h("div", { class: "lc:flex lc:items-center lc:gap-2" }, cancel, this.hint),
    );
    this.chooser.addEventListener(
      "keydown",
      (e) => {
        if (e.key === "Escape") {
          e.preventDefault();
          e.stopPropagation();
          this.close();
        }
      },
      { signal },
    );
  }

  get isOpen(): boolean {
    return !this.chooser.hidden;
  }

  /** Show the chooser: the configured clients, then the provider's models (asked for now). */
  open(): void {
    this.chooser.hidden = false;
    this.drawOptions();
    this.hooks.listModels().then(
      (msg) => {
        this.models = (msg.names ?? []).filter((n) => typeof n === "string");
        this.drawOptions();
      },
      () => undefined, // refused: the banner says why; the configured clients remain
    );
    this.options.querySelector<HTMLInputElement>("input")?.focus();
  }

  close(): void {
    this.chooser.hidden = true;
    this.picked = [];
  }

  /** The candidates the chooser offers: compare clients by label, then the provider's models. */
  candidates(): { name: string; label: string }[] {
    const out = this.choices.map((c) => ({ name: c.label, label: c.model ? `${c.label} (${c.model})` : c.label }));
    for (const m of this.models) if (!out.some((o) => o.name === m)) out.push({ name: m, label: m });
    return out;
  }

  private drawOptions(): void {
    const boxes = this.candidates().map(({ name, label }) => {
      const box = h("input", { type: "checkbox", class: FOCUS, value: name });
      box.checked = this.picked.includes(name);
      box.addEventListener(
        "change",
        () => {
          this.picked = box.checked ? [...this.picked, name] : this.picked.filter((p) => p !== name);
          this.drawHint();
        },
        { signal: this.signal },
      );
      return h("label", { class: "lc:flex lc:items-center lc:gap-1.5 lc:min-w-0" }, box, h("span", {}, label));
    });
    this.options.replaceChildren(
      ...(boxes.length ? boxes : [h("p", { class: "lc:m-0 lc:text-muted" }, "No models to compare yet…")]),
    );
    this.drawHint();
  }

  private drawHint(): void {
    const n = this.picked.length;
    this.hint.textContent =
      n < MIN_PANES ? `Pick ${MIN_PANES} to ${MAX_PANES}.` : n > MAX_PANES ? `At most ${MAX_PANES}.` : `${n} models.`;
    for (const box of Array.from(this.options.querySelectorAll<HTMLInputElement>("input"))) {
      box.disabled = !box.checked && n >= MAX_PANES;
    }
  }

  /** Pick candidates by name (the chooser's checkboxes do the same). */
  pick(names: string[], blind = false): void {
    this.picked = [...names];
    this.blind.checked = blind;
    if (this.isOpen) this.drawOptions();
  }

  /** Whether a Send may go now: not while the open chooser has too few or too many
   * models picked (the hint says so, read out; the message stays in the box). */
  readyToSend(): boolean {
    const n = this.picked.length;
    if (!this.isOpen || (n >= MIN_PANES && n <= MAX_PANES)) return true;
    this.hint.textContent = "";
    this.hint.textContent = `Pick ${MIN_PANES} to ${MAX_PANES} models to compare, then send.`;
    return false;
  }

  /** The command for a Send while the chooser is open (then it closes); null: a plain send. */
  takeSend(text: string, chatId: string): Command | null {
    if (!this.isOpen) return null;
    const cmd: Command = {
      type: "compare",
      text,
      chat_id: chatId,
      candidates: [...this.picked],
      blind: this.blind.checked,
    };
    this.close();
    return cmd;
  }

  /** Draw from the model's traits. */
  draw(model: ChatModel): void {
    this.update(model.get("active_chat_id") || "", model.get("compares") ?? {}, model.get("compare_choices") ?? []);
  }

  /** The traits: the configured clients and the active chat's comparison (if any). */
  update(chatId: string, compares: Record<string, CompareState>, choices: CompareChoice[]): void {
    if (choices !== this.choices) {
      this.choices = choices;
      if (this.isOpen) this.drawOptions();
    }
    const state = compares[chatId] ?? null;
    if (chatId !== this.chatId || !state || state.panes.length !== this.views.length) {
      this.chatId = chatId;
      this.seq = -1;
      this.build(state?.panes.length ?? 0);
    }
    this.state = state;
    this.el.hidden = !state;
    if (!state) return;
    const ahead = this.seq > state.seq; // deltas applied here went past this snapshot
    if (!ahead) this.seq = state.seq;
    state.panes.forEach((pane, i) => {
      const view = this.views[i];
      if (!ahead || pane.status !== "streaming") view.text = pane.text;
      view.update(pane, state.streaming);
    });
    this.paintSoon();
  }

  private build(n: number): void {
    this.views = Array.from({ length: n }, (_, i) => new PaneView(i, (pane) => this.keep(pane), this.signal));
    this.grid.className = `lc-compare-grid lc:grid lc:gap-2 lc:grid-cols-1 ${GRID_COLS[n] ?? ""}`;
    this.grid.replaceChildren(...this.views.map((v) => v.el));
  }

  private keep(pane: number): void {
    if (!this.state) return;
    this.hooks.send({ type: "compare_keep", chat_id: this.state.chat_id, pane });
  }

  /** A compare_delta: its pieces join their panes' texts, painted in the next frame. */
  receive(delta: CompareDeltaMsg): void {
    if (typeof delta.seq !== "number" || delta.chat_id !== this.chatId || !this.state || delta.seq <= this.seq) return;
    this.seq = delta.seq;
    for (const piece of delta.panes) {
      const view = this.views[piece.pane];
      if (view) view.text += piece.text;
    }
    this.paintSoon();
  }

  private paintSoon(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.hooks.schedule(() => {
      this.scheduled = false;
      for (const view of this.views) view.paint();
    });
  }

  /** The panes' elements (tests). */
  panes(): HTMLElement[] {
    return this.views.map((v) => v.el);
  }
}
