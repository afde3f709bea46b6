// One message: user bubbles right, assistant left with an avatar. Assistant text is
// rendered as sanitized markdown (once per content, cached); while streaming, the
// markdown is rendered incrementally (markdown_stream.ts: complete blocks once, the
// tail again) at most ~10 times a second, and its tail once more at the end, in slices
// of a few milliseconds per frame.
import { copyText, formatTime, h, icon } from "../dom";
import { renderMarkdownInto } from "../markdown";
import { IncrementalMarkdown, PLAIN_MAX_CHARS } from "../markdown_stream";
import type { CodeRun, ContextChip, ErrorKind, MessageStatus, Role, SendCommand, Usage } from "../types";
import { type CodeRunState, decorateRuns } from "./code_runs";
import { sentContext } from "./sent_context";
import { MessageEditor } from "./message_editor";
import { FOCUS } from "./ui";
import { usageSummary } from "./usage";
import { VersionSwitcher } from "./version_switcher";

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
  /** Which version of its turn (from 1) of how many; absent = the only one. */
  version?: number;
  versions?: number;
  /** A user message: the kernel context sent with it. */
  context?: ContextChip[];
  /** An assistant message: runs of its Python blocks. */
  runs?: CodeRun[];
  usage?: Usage | null;
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
  /** Run on Python blocks (assistant messages). */
  code?: CodeRunState;
}

const MIN_STREAM_RENDER_MS = 100;
/** Markdown work per frame; what is left waits for the next frame, shown as text. */
const RENDER_BUDGET_MS = 10;

// A message is a daisyUI chat row (`chat chat-start|chat-end`, prefixed `lc:d-`): the
// avatar is its chat-image, the text its chat-bubble, the actions its chat-footer.
// Assistant replies read as a page, not a balloon: their bubble has no fill or tail.
// (The user row's column gap leaves room for the bubble's tail.)
const ROW: Record<Role, string> = {
  user: "lc:d-chat-end lc:gap-x-3",
  assistant: "lc:d-chat-start lc:gap-x-2.5 lc:@max-compact:gap-x-2 lc:@max-tiny:gap-x-0",
  system: "lc:grid-cols-1 lc:justify-items-center",
};
const BUBBLE: Record<Role, string> = {
  user:
    "lc-bubble-user lc:py-2 lc:px-3.5 lc:max-w-[min(85%,36rem)] lc:@max-compact:max-w-[92%] " +
    "lc:group-[.lc-editing]/msg:w-[min(85%,36rem)] lc:@max-compact:group-[.lc-editing]/msg:w-[92%]",
  assistant:
    // min-w-0: a wide code line scrolls in its block instead of widening the grid column
    "lc-bubble-assistant lc:w-full lc:max-w-full lc:min-w-0 lc:p-0 lc:pt-[3px] lc:rounded-none lc:bg-transparent lc:before:hidden",
  system:
    "lc:py-1 lc:px-2.5 lc:text-note lc:text-muted lc:bg-transparent lc:border lc:border-dashed lc:border-line-strong " +
    "lc:rounded-control lc:before:hidden",
};

/** Markdown in a reply: the typography plugin (`prose`), sized and spaced for a chat. */
const MARKDOWN =
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

const QUIET = "lc:text-muted lc:hover:text-fg";
const ACTIONS =
  "lc-actions lc:d-chat-footer lc:flex lc:flex-wrap lc:min-w-0 lc:max-w-full lc:items-center lc:gap-0.5 lc:text-muted lc:opacity-0 lc:transition-opacity " +
  "lc:duration-150 lc:group-hover/msg:opacity-100 lc:group-focus-within/msg:opacity-100 " +
  "lc:group-[.lc-msg-last]/msg:opacity-100 lc:group-[.lc-msg-error]/msg:opacity-100 lc:touch:opacity-100 " +
  "lc:group-[.lc-msg-versions]/msg:opacity-100";
/** Hidden while a reply streams in the chat (the list marks itself busy). */
const NOT_WHILE_BUSY = "lc:group-data-[busy=true]/log:hidden";

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
  private usageEl: HTMLElement;
  private copyBtn: HTMLButtonElement;
  private regenBtn: HTMLButtonElement;
  private retryBtn: HTMLButtonElement;
  private shorterBtn: HTMLButtonElement;
  private editBtn: HTMLButtonElement;
  private switcher: VersionSwitcher;
  private editor: MessageEditor | null = null;
  private data: BubbleData | null = null;
  private renderedText: string | null = null;
  private renderedFinal = false;
  private lastRenderAt = 0;
  private renderCost = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private tailEl: HTMLElement | null = null;
  private deferred = false;
  private opts: BubbleOptions | null = null;
  /** The streamed reply's incremental rendering (kept to finish it when the reply ends). */
  private stream: IncrementalMarkdown | null = null;
  private contextEl: HTMLElement;
  private contextSig = "";

  /** `isBusy`: a reply streams in the chat (editing and switching versions wait for it). */
  constructor(
    private send: SendCommand,
    role: Role,
    private isBusy: () => boolean = () => false,
  ) {
    const isUser = role === "user";
    this.el = h("div", {
      class:
        `lc-msg lc-msg-${role} lc-fade-in lc:group/msg lc:d-chat ${ROW[role]} lc:min-w-0 lc:py-0 ` +
        "lc:[&.lc-fade-in]:animate-fade",
      "data-role": role,
    });
    this.bubble = h("div", {
      class: `lc-bubble lc:d-chat-bubble lc:min-w-0 lc:min-h-0 lc:wrap-anywhere ${BUBBLE[role]}`,
    });
    this.reasoningBody = h("div", {
      class: "lc-reasoning-body lc:whitespace-pre-wrap lc:max-h-[12em] lc:overflow-y-auto",
    });
    this.reasoningEl = h(
      "details",
      {
        class: "lc-reasoning lc:mb-2 lc:ps-2.5 lc:border-s-2 lc:border-line-strong lc:text-note lc:text-muted",
        hidden: true,
      },
      h("summary", { class: `lc:cursor-pointer lc:font-semibold ${FOCUS}` }, "Reasoning"),
      this.reasoningBody,
    );
    this.body = h("div", { class: role === "assistant" ? MARKDOWN : "lc-plain lc:whitespace-pre-wrap" });
    this.note = h("div", {
      class:
        "lc-note lc:inline-flex lc:mt-1.5 lc:py-px lc:px-2 lc:rounded-full lc:border lc:border-line lc:text-meta lc:text-muted",
      hidden: true,
    });
    this.errorBox = h("div", {
      class:
        "lc-error-box lc:flex lc:items-start lc:gap-2 lc:mt-1.5 lc:py-2 lc:px-2.5 lc:rounded-item lc:bg-danger-bg " +
        "lc:border lc:border-danger-line lc:text-danger-fg lc:text-ui",
      role: "note",
      hidden: true,
    });
    this.contextEl = h("div", { class: "lc:contents" });
    this.bubble.append(this.reasoningEl, this.body, this.contextEl, this.note, this.errorBox);

    this.time = h("time", {
      class:
        "lc-time lc:px-1.5 lc:text-meta lc:text-muted lc:opacity-0 lc:transition-opacity lc:duration-150 " +
        "lc:group-hover/msg:opacity-100 lc:group-focus-within/msg:opacity-100",
    });
    // Tokens, speed and model of a reply: with the other actions, on hover or focus.
    this.usageEl = h("span", {
      // narrow (the sidebar): a row of its own, cut with an ellipsis (its title has it all)
      class: "lc-usage lc:min-w-0 lc:truncate lc:px-1.5 lc:text-meta lc:text-muted lc:tabular-nums",
      hidden: true,
    });
    const size = isUser ? "lc:h-6" : "lc:h-7";
    this.copyBtn = actionButton("copy", "Copy", "Copy message", `${size} ${QUIET} lc:[&>.lc-action-label]:hidden`);
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
    this.retryBtn = actionButton(
      "refresh",
      "Retry",
      "Retry",
      `${size} lc:text-danger-fg lc:border lc:border-danger-line`,
    );
    this.retryBtn.addEventListener("click", () => {
      if (this.data) this.send({ type: "retry", chat_id: this.data.chatId });
    });
    // Offered when the conversation outgrew the model's context.
    this.shorterBtn = actionButton(
      "refresh",
      "Continue without oldest turns",
      "Retry, leaving the oldest half of the conversation out of what the model is sent",
      `${size} lc:text-fg lc:border lc:border-line`,
    );
    this.shorterBtn.addEventListener("click", () => {
      if (this.data) this.send({ type: "retry_shorter", chat_id: this.data.chatId });
    });
    this.editBtn = actionButton(
      "pencil",
      "Edit",
      "Edit message",
      `${size} ${QUIET} lc:[&>.lc-action-label]:hidden ${NOT_WHILE_BUSY}`,
    );
    this.editBtn.hidden = !isUser;
    this.editBtn.addEventListener("click", () => this.startEditing());
    this.switcher = new VersionSwitcher(
      (version) => {
        if (this.data)
          this.send({ type: "select_version", chat_id: this.data.chatId, message_id: this.data.id, version });
      },
      () => !this.isBusy(),
    );
    this.actions = isUser
      ? h("div", { class: `${ACTIONS} lc:min-h-6 lc:mt-px` }, this.time, this.switcher.el, this.editBtn, this.copyBtn)
      : h(
          "div",
          { class: `${ACTIONS} lc:min-h-7 lc:mt-0.5` },
          this.switcher.el,
          this.copyBtn,
          this.regenBtn,
          this.retryBtn,
          this.shorterBtn,
          this.time,
          this.usageEl,
        );

    if (role === "assistant") {
      const avatar = h(
        "div",
        {
          class:
            "lc-avatar lc:d-chat-image lc:row-[2/span_2] lc:self-start lc:grid lc:place-items-center lc:size-7 lc:rounded-full lc:bg-active " +
            "lc:text-accent lc:group-[.lc-msg-error]/msg:bg-danger-bg lc:group-[.lc-msg-error]/msg:text-danger-fg " +
            "lc:@max-compact:size-6 lc:@max-tiny:hidden",
          "aria-hidden": "true",
        },
        icon("sparkle", 16),
      );
      this.el.append(avatar);
    }
    this.el.append(this.bubble, this.actions);
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
          this.stream = null;
          this.body.textContent = data.content;
          this.body.classList.add("lc-md-pending");
          this.deferred = true;
        } else {
          this.renderFinal();
        }
      }
    }
    const contextSig = JSON.stringify(data.context ?? []);
    if (contextSig !== this.contextSig) {
      this.contextSig = contextSig;
      this.contextEl.replaceChildren(...[sentContext(data.context ?? [])].filter((el) => el !== null));
    }
    if (!streaming && this.renderedFinal) this.decorateCode();
    // A reply stopped (or failed) before any text is just its note: a small bubble.
    this.body.hidden = !streaming && data.content === "";

    // Reasoning: collapsed above the answer, while streaming and once saved
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
      this.errorBox.replaceChildren(icon("alert", 14, "lc:mt-[3px]"), h("span", {}, data.error || "The reply failed."));
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
    this.switcher.update(data.version ?? 1, data.versions ?? 1);
    this.el.classList.toggle("lc-msg-versions", (data.versions ?? 1) > 1);
    const usage = data.usage ? usageSummary(data.usage) : null;
    this.usageEl.hidden = !usage;
    this.usageEl.textContent = usage?.text ?? "";
    if (usage) this.usageEl.title = usage.title;
    this.el.classList.toggle("lc-msg-last", opts.isLast);
    if (prev && prev.status === "streaming" && !streaming) this.el.classList.remove("lc-fade-in");
  }

  /** Edit this user message in place (the editor replaces its text until saved or cancelled). */
  startEditing(): void {
    if (this.data?.role !== "user" || this.editor || this.isBusy()) return;
    const data = this.data;
    this.editor = new MessageEditor({
      onSave: (text) => this.send({ type: "edit", chat_id: data.chatId, message_id: data.id, text }),
      onClose: (saved) => this.stopEditing(saved),
      isBusy: this.isBusy,
    });
    this.el.classList.add("lc-editing");
    this.body.hidden = true;
    this.actions.hidden = true;
    this.bubble.append(this.editor.el);
    this.editor.open(data.content);
  }

  private stopEditing(saved: boolean): void {
    if (!this.editor) return;
    this.editor.el.remove();
    this.editor = null;
    this.el.classList.remove("lc-editing");
    this.body.hidden = false;
    this.actions.hidden = false;
    // Saved: this bubble gives way to the new version, so the app moves focus on.
    if (!saved) this.editBtn.focus({ preventScroll: true });
  }

  /** True while the markdown render waits for renderDeferred(). */
  get isDeferred(): boolean {
    return this.deferred;
  }

  renderDeferred(): void {
    if (this.deferred && this.data && this.data.status !== "streaming") this.renderFinal();
  }

  private renderFinal(): void {
    const data = this.data;
    if (!data) return;
    if (this.stream) {
      this.finishStream();
      return;
    }
    renderMarkdownInto(this.body, data.content, true);
    this.body.classList.remove("lc-md-pending");
    this.renderedText = data.content;
    this.renderedFinal = true;
    this.deferred = false;
    this.decorateCode();
  }

  private decorateCode(): void {
    const data = this.data;
    const code = this.opts?.code;
    if (data?.role !== "assistant" || !code) return;
    decorateRuns(this.body, {
      chatId: data.chatId,
      messageId: data.id,
      runs: data.runs ?? [],
      state: code,
      send: this.send,
    });
  }

  /** The end of a streamed reply: only its tail is rendered again, a slice per frame. */
  private finishStream(): void {
    const data = this.data;
    if (!data || !this.stream || data.status === "streaming") return;
    this.tailEl?.remove();
    const done = this.stream.render(data.content, RENDER_BUDGET_MS);
    this.renderedText = data.content;
    if (!done) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.finishStream();
      }, 0);
      return;
    }
    this.stream = null;
    this.body.classList.remove("lc-md-pending");
    this.renderedFinal = true;
    this.deferred = false;
    // Finished in a later slice, after update() ran: the blocks get their Run here.
    this.decorateCode();
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
      tailHost(this.body).append(this.tailEl);
    }
    if (this.tailEl.textContent !== tail) this.tailEl.textContent = tail;
  }

  private renderStreaming(): void {
    const data = this.data;
    if (data?.status !== "streaming") return;
    if (this.renderedText === data.content) return;
    const t0 = now();
    this.stream ??= new IncrementalMarkdown(this.body);
    this.tailEl?.remove();
    const done = this.stream.render(data.content, RENDER_BUDGET_MS);
    this.renderedText = data.content;
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

function sameData(a: BubbleData, b: BubbleData): boolean {
  return (
    a.id === b.id &&
    a.content === b.content &&
    a.status === b.status &&
    a.error === b.error &&
    a.errorKind === b.errorKind &&
    a.timestamp === b.timestamp &&
    (a.reasoning ?? "") === (b.reasoning ?? "") &&
    a.role === b.role &&
    a.chatId === b.chatId &&
    a.version === b.version &&
    a.versions === b.versions &&
    a.context === b.context &&
    a.runs === b.runs &&
    JSON.stringify(a.usage ?? null) === JSON.stringify(b.usage ?? null)
  );
}

function sameOpts(a: BubbleOptions, b: BubbleOptions): boolean {
  return (
    a.isLast === b.isLast &&
    a.busy === b.busy &&
    !b.lazy &&
    a.code?.allowed === b.code?.allowed &&
    a.code?.running === b.code?.running &&
    a.code?.insertable === b.code?.insertable
  );
}

function now(): number {
  return typeof performance !== "undefined" ? performance.now() : Date.now();
}

/** An action under a message; `extra` sets its height and colours (default: a quiet 28 px one). */
function actionButton(iconName: string, label: string, title: string, extra = `lc:h-7 ${QUIET}`): HTMLButtonElement {
  const b = h("button", {
    type: "button",
    class: `lc-action lc:inline-flex lc:items-center lc:gap-[5px] lc:px-[7px] lc:rounded-control lc:text-xs lc:hover:bg-hover ${FOCUS} ${extra}`,
    "aria-label": label,
    title,
  });
  b.append(icon(iconName, 14), h("span", { class: "lc-action-label" }, label));
  return b;
}
