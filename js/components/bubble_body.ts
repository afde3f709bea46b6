// The text of a message. A user's or the system's is plain text; a reply is sanitized
// markdown, rendered once per content (cached). While a reply streams, its markdown is
// rendered incrementally (markdown_stream.ts: complete blocks once, the tail again) at
// most ~10 times a second, with the text that arrived since shown at once as plain text;
// at the end its tail is rendered once more, in slices of a few milliseconds per frame.
// A reply far from the viewport may wait, shown plain, until renderDeferred().
import { h } from "../dom";
import { IncrementalMarkdown, PLAIN_MAX_CHARS } from "../markdown_stream";
import type { Role } from "../types";
import { decorateMarkdown, showMarkdown } from "./markdown_view";

const MIN_STREAM_RENDER_MS = 100;
/** Markdown work per frame; what is left waits for the next frame, shown as text. */
const RENDER_BUDGET_MS = 10;

/** Markdown in a reply: the typography plugin (`prose`), sized and spaced for a chat. */
export const MARKDOWN =
  "lc-md lc:prose lc:prose-lc lc:max-w-none lc:text-body lc:leading-[1.6] lc:[&.lc-md-pending]:whitespace-pre-wrap " +
  "lc:*:first:mt-0 lc:*:last:mb-0 " +
  "lc:prose-p:my-[0.75em] lc:prose-ul:my-[0.75em] lc:prose-ol:my-[0.75em] lc:prose-ul:ps-[1.5em] lc:prose-ol:ps-[1.5em] " +
  "lc:prose-li:my-[0.2em] lc:prose-li:ps-0 lc:prose-headings:mt-[1.1em] lc:prose-headings:mb-[0.75em] " +
  "lc:prose-headings:font-strong lc:prose-headings:leading-[1.3] lc:prose-h1:text-[1.35em] lc:prose-h2:text-[1.2em] " +
  "lc:prose-h3:text-[1.08em] lc:prose-h4:text-[1em] lc:prose-a:font-normal lc:prose-a:underline-offset-2 " +
  "lc:prose-blockquote:my-[0.75em] lc:prose-blockquote:ps-3 lc:prose-blockquote:border-s-[3px] " +
  "lc:prose-blockquote:font-normal lc:prose-blockquote:not-italic lc:prose-blockquote:[quotes:none] lc:prose-hr:my-4 " +
  "lc:prose-table:block lc:prose-table:max-w-full lc:prose-table:overflow-x-auto lc:prose-table:my-[0.75em] " +
  "lc:prose-table:text-ui lc:prose-th:border lc:prose-th:border-line lc:prose-th:px-2.5 lc:prose-th:py-[5px] " +
  "lc:prose-th:bg-code lc:prose-th:text-left lc:prose-td:border lc:prose-td:border-line lc:prose-td:px-2.5 " +
  "lc:prose-td:py-[5px] lc:prose-code:font-mono lc:prose-code:font-normal lc:prose-code:text-[0.88em] " +
  "lc:prose-code:bg-code lc:prose-code:border lc:prose-code:border-line lc:prose-code:rounded-[5px] " +
  "lc:prose-code:px-[0.35em] lc:prose-code:py-[0.05em] lc:prose-code:before:content-none lc:prose-code:after:content-none";

export class BubbleBody {
  readonly el: HTMLElement;
  private readonly markdown: boolean;
  private text = "";
  private streaming = false;
  private renderedText: string | null = null;
  private renderedFinal = false;
  private lastRenderAt = 0;
  private renderCost = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private tailEl: HTMLElement | null = null;
  private deferred = false;
  /** The streamed reply's incremental rendering (kept to finish it when the reply ends). */
  private stream: IncrementalMarkdown | null = null;

  /** `onFinal`: the markdown of a finished reply is in place (its code blocks can get their actions). */
  constructor(
    role: Role,
    private onFinal: () => void,
  ) {
    this.markdown = role === "assistant";
    this.el = h("div", { class: this.markdown ? MARKDOWN : "lc-plain lc:whitespace-pre-wrap" });
  }

  /** Show `text`; `lazy`: a finished reply's markdown may wait for renderDeferred(). */
  update(text: string, streaming: boolean, lazy: boolean): void {
    this.text = text;
    this.streaming = streaming;
    if (!this.markdown) {
      if (this.renderedText !== text) {
        this.el.textContent = text;
        this.renderedText = text;
      }
    } else if (streaming) {
      this.renderedFinal = false;
      this.scheduleStreamingRender();
      this.showTail(text);
    } else {
      this.cancelTimer();
      if (!this.renderedFinal || this.renderedText !== text) {
        if (lazy && !this.renderedFinal) this.showPending();
        else this.renderFinal();
      }
    }
    // A reply stopped (or failed) before any text is just its note: a small bubble.
    this.el.hidden = !streaming && text === "";
  }

  /** The finished reply's markdown is rendered (not deferred, not still in slices). */
  get isFinal(): boolean {
    return this.renderedFinal;
  }

  /** True while the markdown render waits for renderDeferred(). */
  get isDeferred(): boolean {
    return this.deferred;
  }

  renderDeferred(): void {
    if (this.deferred && !this.streaming) this.renderFinal();
  }

  destroy(): void {
    this.cancelTimer();
  }

  private showPending(): void {
    this.stream = null;
    this.el.textContent = this.text;
    this.el.classList.add("lc-md-pending");
    this.deferred = true;
  }

  private renderFinal(): void {
    if (this.stream) {
      this.finishStream();
      return;
    }
    showMarkdown(this.el, this.text, true);
    this.settled();
  }

  private settled(): void {
    this.el.classList.remove("lc-md-pending");
    this.renderedText = this.text;
    this.renderedFinal = true;
    this.deferred = false;
    this.onFinal();
  }

  /** The end of a streamed reply: only its tail is rendered again, a slice per frame. */
  private finishStream(): void {
    if (!this.stream || this.streaming) return;
    this.tailEl?.remove();
    const done = this.stream.render(this.text, RENDER_BUDGET_MS);
    this.renderedText = this.text;
    if (!done) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.finishStream();
      }, 0);
      return;
    }
    this.stream = null;
    // Finished in a later slice, after the bubble's update ran: onFinal gives the blocks their Run.
    this.settled();
  }

  private cancelTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private scheduleStreamingRender(): void {
    if (this.timer !== null) return;
    const interval = Math.max(MIN_STREAM_RENDER_MS, this.renderCost * 8);
    const wait = this.lastRenderAt + interval - now();
    if (wait <= 0) this.renderStreaming();
    else
      this.timer = setTimeout(() => {
        this.timer = null;
        this.renderStreaming();
      }, wait);
  }

  /**
   * Markdown is re-rendered at most ~10 times a second; text that arrived since the
   * last render is shown at once as plain text at the end of the last block, so a
   * token reaches the screen in the next frame, not up to 100 ms later.
   */
  private showTail(content: string): void {
    const rendered = this.renderedText ?? "";
    if (!content.startsWith(rendered)) return; // the next render catches up
    // Capped like IncrementalMarkdown's plain rest: the render that follows shows more.
    const tail = content.slice(rendered.length, rendered.length + PLAIN_MAX_CHARS);
    if (!this.tailEl?.isConnected) {
      if (!tail) return;
      this.tailEl = h("span", { class: "lc-stream-tail" });
      tailHost(this.el).append(this.tailEl);
    }
    if (this.tailEl.textContent !== tail) this.tailEl.textContent = tail;
  }

  private renderStreaming(): void {
    if (!this.streaming || this.renderedText === this.text) return;
    const t0 = now();
    this.stream ??= new IncrementalMarkdown(this.el, { decorate: decorateMarkdown });
    this.tailEl?.remove();
    const done = this.stream.render(this.text, RENDER_BUDGET_MS);
    this.renderedText = this.text;
    this.lastRenderAt = now();
    this.renderCost = this.lastRenderAt - t0;
    // Out of budget: the rest shows as text; go on soon rather than after the interval.
    if (!done && this.timer === null)
      this.timer = setTimeout(() => {
        this.timer = null;
        this.renderedText = null;
        this.renderStreaming();
      }, 0);
  }
}

/** Where streamed text continues: the innermost last block (a paragraph, list item, code). */
function tailHost(body: HTMLElement): HTMLElement {
  let host = body;
  for (;;) {
    const last = host.lastElementChild as HTMLElement | null;
    if (!last) return host;
    if (last.classList.contains("lc-codeblock")) {
      const pre = last.querySelector("pre");
      return (pre?.querySelector("code") as HTMLElement | null) ?? pre ?? last;
    }
    if (!/^(P|UL|OL|LI|BLOCKQUOTE|H[1-6]|PRE|CODE|TD|TR|TBODY|TABLE)$/.test(last.tagName)) return host;
    host = last;
  }
}

function now(): number {
  return typeof performance !== "undefined" ? performance.now() : Date.now();
}
