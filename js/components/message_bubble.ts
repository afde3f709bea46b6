// One message: user bubbles right, assistant left with an avatar. Assistant text is
// rendered as sanitized markdown (once per content, cached); while streaming, the
// markdown is re-rendered at most ~10 times a second (less often when rendering is
// slow), and fully at the end.
import { copyText, formatTime, h, icon } from "../dom";
import { renderMarkdownInto } from "../markdown";
import type { ErrorKind, MessageStatus, Role, SendCommand } from "../types";

export interface BubbleData {
  chatId: string;
  id: number;
  role: Role;
  content: string;
  timestamp: string;
  status: MessageStatus | "streaming";
  error: string;
  errorKind?: ErrorKind;
  reasoning?: string;
}

export interface BubbleOptions {
  /** The newest message of the chat (Regenerate / Retry are offered only there). */
  isLast: boolean;
  /** A reply is in progress in this chat. */
  busy: boolean;
  /**
   * Defer the markdown render until renderDeferred() (the list calls it when the
   * bubble nears the viewport); until then the text is shown plain.
   */
  lazy?: boolean;
}

const MIN_STREAM_RENDER_MS = 100;

export class MessageBubble {
  readonly el: HTMLElement;
  private bubble: HTMLElement;
  private body: HTMLElement;
  private reasoningEl: HTMLDetailsElement;
  private reasoningBody: HTMLElement;
  private note: HTMLElement;
  private errorBox: HTMLElement;
  private actions: HTMLElement;
  private time: HTMLTimeElement;
  private copyBtn: HTMLButtonElement;
  private regenBtn: HTMLButtonElement;
  private retryBtn: HTMLButtonElement;
  private shorterBtn: HTMLButtonElement;
  private data: BubbleData | null = null;
  private renderedText: string | null = null;
  private renderedFinal = false;
  private lastRenderAt = 0;
  private renderCost = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private tailEl: HTMLElement | null = null;
  private deferred = false;
  private opts: BubbleOptions | null = null;

  constructor(private send: SendCommand, role: Role) {
    const isUser = role === "user";
    this.el = h("div", { class: `lc-msg lc-msg-${role} lc-fade-in`, "data-role": role });
    this.bubble = h("div", { class: `lc-bubble ${isUser ? "lc-bubble-user" : "lc-bubble-assistant"}` });
    this.reasoningBody = h("div", { class: "lc-reasoning-body" });
    this.reasoningEl = h("details", { class: "lc-reasoning", hidden: true }, h("summary", {}, "Reasoning"), this.reasoningBody);
    this.body = h("div", { class: isUser ? "lc-plain" : "lc-md" });
    this.note = h("div", { class: "lc-note", hidden: true });
    this.errorBox = h("div", { class: "lc-error-box", role: "note", hidden: true });
    this.bubble.append(this.reasoningEl, this.body, this.note, this.errorBox);

    this.time = h("time", { class: "lc-time" });
    this.copyBtn = actionButton("copy", "Copy", "Copy message");
    this.copyBtn.addEventListener("click", () => {
      const label = this.copyBtn.querySelector(".lc-action-label");
      void copyText(this.data?.content ?? "").then((ok) => {
        if (label) {
          label.textContent = ok ? "Copied" : "Copy failed";
          setTimeout(() => (label.textContent = "Copy"), 1500);
        }
      });
    });
    this.regenBtn = actionButton("refresh", "Regenerate", "Regenerate reply");
    this.regenBtn.addEventListener("click", () => {
      if (this.data) this.send({ type: "regenerate", chat_id: this.data.chatId });
    });
    this.retryBtn = actionButton("refresh", "Retry", "Retry");
    this.retryBtn.addEventListener("click", () => {
      if (this.data) this.send({ type: "retry", chat_id: this.data.chatId });
    });
    // Offered when the conversation outgrew the model's context.
    this.shorterBtn = actionButton("refresh", "Continue without oldest turns", "Retry, leaving the oldest half of the conversation out of what the model is sent");
    this.shorterBtn.addEventListener("click", () => {
      if (this.data) this.send({ type: "retry_shorter", chat_id: this.data.chatId });
    });
    this.actions = isUser
      ? h("div", { class: "lc-actions" }, this.time, this.copyBtn)
      : h("div", { class: "lc-actions" }, this.copyBtn, this.regenBtn, this.retryBtn, this.shorterBtn, this.time);

    const main = h("div", { class: "lc-msg-main" }, this.bubble, this.actions);
    if (role === "assistant") {
      this.el.append(h("div", { class: "lc-avatar", "aria-hidden": "true" }, icon("sparkle", 16)), main);
    } else {
      this.el.append(main);
    }
  }

  update(data: BubbleData, opts: BubbleOptions): void {
    const prev = this.data;
    // Unchanged (the common case while another bubble streams): nothing to do.
    if (prev && this.opts && sameData(prev, data) && sameOpts(this.opts, opts)) return;
    this.opts = opts;
    this.data = data;
    const streaming = data.status === "streaming";
    const isUser = data.role === "user";
    this.el.dataset.id = String(data.id);
    this.el.dataset.status = data.status;
    this.el.classList.toggle("lc-streaming", streaming);

    // Body
    if (isUser || data.role === "system") {
      if (this.renderedText !== data.content) {
        this.body.textContent = data.content;
        this.renderedText = data.content;
      }
    } else if (streaming) {
      this.renderedFinal = false;
      this.scheduleStreamingRender();
      this.showTail(data.content);
    } else {
      this.cancelTimer();
      if (!this.renderedFinal || this.renderedText !== data.content) {
        if (opts.lazy && !this.renderedFinal) {
          this.body.textContent = data.content;
          this.body.classList.add("lc-md-pending");
          this.deferred = true;
        } else {
          this.renderFinal();
        }
      }
    }
    // A reply stopped (or failed) before any text is just its note: a small bubble.
    this.body.hidden = !streaming && data.content === "";

    // Reasoning (only known while streaming; messages carry only the reply text)
    const reasoning = data.reasoning ?? "";
    this.reasoningEl.hidden = reasoning === "";
    if (reasoning && this.reasoningBody.textContent !== reasoning) this.reasoningBody.textContent = reasoning;

    // Status notes
    let note = "";
    if (data.status === "stopped") note = "Stopped";
    else if (data.status === "length") note = "Cut off: the reply reached the length limit";
    this.note.hidden = note === "";
    this.note.textContent = note;
    this.el.classList.toggle("lc-msg-error", data.status === "error");
    if (data.status === "error") {
      this.errorBox.hidden = false;
      this.errorBox.replaceChildren(icon("alert", 14), h("span", {}, data.error || "The reply failed."));
    } else {
      this.errorBox.hidden = true;
    }

    // Actions
    const ts = formatTime(data.timestamp);
    this.time.textContent = ts.short;
    this.time.dateTime = data.timestamp;
    this.time.title = ts.full;
    if (ts.full) this.bubble.title = ts.full;
    else this.bubble.removeAttribute("title");
    this.actions.hidden = streaming;
    this.copyBtn.hidden = data.content === "";
    const assistant = data.role === "assistant";
    this.regenBtn.hidden = !(assistant && opts.isLast && !opts.busy && data.status !== "error");
    this.retryBtn.hidden = !(assistant && opts.isLast && !opts.busy && data.status === "error");
    this.shorterBtn.hidden = this.retryBtn.hidden || data.errorKind !== "context_length";
    this.el.classList.toggle("lc-msg-last", opts.isLast);
    if (prev && prev.status === "streaming" && !streaming) this.el.classList.remove("lc-fade-in");
  }

  /** True while the markdown render waits for renderDeferred(). */
  get isDeferred(): boolean {
    return this.deferred;
  }

  renderDeferred(): void {
    if (this.deferred && this.data && this.data.status !== "streaming") this.renderFinal();
  }

  private renderFinal(): void {
    const data = this.data!;
    renderMarkdownInto(this.body, data.content, true);
    this.body.classList.remove("lc-md-pending");
    this.renderedText = data.content;
    this.renderedFinal = true;
    this.deferred = false;
  }

  destroy(): void {
    this.cancelTimer();
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
    else this.timer = setTimeout(() => {
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
    const tail = content.slice(rendered.length);
    if (!this.tailEl || !this.tailEl.isConnected) {
      if (!tail) return;
      this.tailEl = h("span", { class: "lc-stream-tail" });
      tailHost(this.body).append(this.tailEl);
    }
    if (this.tailEl.textContent !== tail) this.tailEl.textContent = tail;
  }

  private renderStreaming(): void {
    const data = this.data;
    if (!data || data.status !== "streaming") return;
    if (this.renderedText === data.content) return;
    const t0 = now();
    renderMarkdownInto(this.body, data.content, false);
    this.renderedText = data.content;
    this.lastRenderAt = now();
    this.renderCost = this.lastRenderAt - t0;
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

function sameData(a: BubbleData, b: BubbleData): boolean {
  return (
    a.id === b.id && a.content === b.content && a.status === b.status && a.error === b.error && a.errorKind === b.errorKind &&
    a.timestamp === b.timestamp && (a.reasoning ?? "") === (b.reasoning ?? "") && a.role === b.role && a.chatId === b.chatId
  );
}

function sameOpts(a: BubbleOptions, b: BubbleOptions): boolean {
  return a.isLast === b.isLast && a.busy === b.busy && !b.lazy;
}

function now(): number {
  return typeof performance !== "undefined" ? performance.now() : Date.now();
}

function actionButton(iconName: string, label: string, title: string): HTMLButtonElement {
  const b = h("button", { type: "button", class: "lc-action lc-focus", "aria-label": label, title });
  b.append(icon(iconName, 14), h("span", { class: "lc-action-label" }, label));
  return b;
}
