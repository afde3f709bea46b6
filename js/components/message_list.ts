// The message log of the active chat: keyed bubbles (each rendered once), the
// streaming reply, scroll-follow only while at the bottom, a "Jump to latest" pill,
// older pages on scroll-up (scroll position kept), and a status region that
// announces completed replies only.
import { h, icon } from "../dom";
import type { StreamView } from "../stream_state";
import type { Message, SendCommand } from "../types";
import type { AttachmentStore } from "../attachment_store";
import type { CodeRunState } from "./code_runs";
import { KeyedChildren } from "./keyed";
import { type BubbleData, MessageBubble } from "./message_bubble";
import { FOCUS, FOCUS_INSET } from "./ui";

export interface ListState {
  chatId: string;
  messages: Message[];
  hasOlder: boolean;
  stream: StreamView | undefined;
  busy: boolean;
  modelLabel: string;
  code?: CodeRunState;
  /** The bytes of sent files, for their thumbnails. */
  files?: AttachmentStore;
}

const BOTTOM_SLACK = 40;
/** Messages at the end of the window whose markdown is rendered at once; older ones on approach. */
const EAGER = 16;
const TOP_LOAD = 120;

/** The role is part of the key: a bubble is never reused for a message of another role. */
function bubbleKey(item: Pick<BubbleData, "chatId" | "id" | "role">): string {
  return `${item.chatId}:${item.id}:${item.role}`;
}

/** What an empty chat shows (with the model's label). */
function emptyState(modelLabel: HTMLElement): HTMLElement {
  return h(
    "div",
    {
      class:
        "lc-empty lc:flex-1 lc:flex lc:flex-col lc:items-center lc:justify-center lc:gap-1.5 lc:py-6 lc:px-4 lc:text-center",
      hidden: true,
    },
    h(
      "div",
      {
        class: "lc:grid lc:place-items-center lc:size-11 lc:mb-1.5 lc:rounded-tile lc:bg-active lc:text-accent",
        "aria-hidden": "true",
      },
      icon("sparkle", 22),
    ),
    h("p", { class: "lc:text-hero lc:font-strong" }, "How can I help?"),
    modelLabel,
  );
}

/** "Jump to latest", over the end of the log while it is scrolled up (with a count of new messages). */
function jumpPill(count: HTMLElement): HTMLButtonElement {
  const pill = h("button", {
    type: "button",
    class:
      "lc-pill lc:absolute lc:z-5 lc:bottom-3 lc:left-1/2 lc:-translate-x-1/2 lc:inline-flex lc:items-center lc:gap-1.5 " +
      "lc:h-8 lc:px-3 lc:rounded-full lc:bg-surface lc:border lc:border-line-strong lc:shadow-float lc:text-note " +
      `lc:font-semibold lc:whitespace-nowrap lc:animate-pop ${FOCUS}`,
    "aria-label": "Jump to latest",
    hidden: true,
  });
  pill.append(icon("down", 14), h("span", {}, "Jump to latest"), count);
  return pill;
}

/** What the list looked like before an update. */
interface Before {
  chatChanged: boolean;
  wasAtBottom: boolean;
  height: number;
  top: number;
  /** The first message's id, if the same chat was shown. */
  firstId: number | null;
  keys: Set<string>;
}

/** The window of messages, then the reply in progress if not yet among them. */
function bubbleItems(next: ListState): BubbleData[] {
  const items: BubbleData[] = next.messages.map((m) => ({
    chatId: next.chatId,
    id: m.id,
    role: m.role,
    content: m.content,
    timestamp: m.timestamp,
    status: m.status,
    error: m.error,
    errorKind: m.error_kind ?? "",
    version: m.version,
    versions: m.versions,
    context: m.context,
    attachments: m.attachments,
    runs: m.runs,
    tools: m.tools,
    reasoning: m.reasoning ?? "",
    usage: m.usage ?? null,
  }));
  const s = next.stream;
  if (s && !next.messages.some((m) => m.id === s.messageId && m.role === "assistant")) {
    items.push({
      chatId: next.chatId,
      id: s.messageId,
      role: "assistant",
      content: s.text,
      timestamp: "",
      status: s.done ? s.done.status : "streaming",
      error: s.done ? s.done.error : "",
      errorKind: s.done ? s.done.errorKind : "",
      reasoning: s.reasoning,
      tools: s.tools,
    });
  }
  return items;
}

export class MessageList {
  readonly el: HTMLElement;
  readonly scroller: HTMLElement;
  private inner: HTMLElement;
  private olderRow: HTMLElement;
  private olderBtn: HTMLButtonElement;
  private empty: HTMLElement;
  private emptyModel: HTMLElement;
  private pill: HTMLButtonElement;
  private pillCount: HTMLElement;
  private status: HTMLElement;
  private bubbles: KeyedChildren<MessageBubble>;
  private state: ListState | null = null;
  private atBottom = true;
  private newCount = 0;
  private loadingOlder = false;
  private forceBottom = false;
  private announcedKey = "";
  private lastStreamKey = "";
  private io: IntersectionObserver | null = null;
  private ro: ResizeObserver | null = null;
  private byEl = new WeakMap<Element, MessageBubble>();

  constructor(
    private send: SendCommand,
    signal: AbortSignal,
  ) {
    this.olderBtn = h(
      "button",
      {
        type: "button",
        class: `lc:py-1 lc:px-2.5 lc:rounded-full lc:border lc:border-line lc:text-xs lc:text-muted lc:hover:bg-hover lc:hover:text-fg ${FOCUS}`,
      },
      "Load older messages",
    );
    this.olderBtn.addEventListener("click", () => this.requestOlder(), { signal });
    this.olderRow = h("div", { class: "lc:pb-3 lc:text-center", hidden: true }, this.olderBtn);
    this.emptyModel = h("p", { class: "lc:text-note lc:text-muted" });
    this.empty = emptyState(this.emptyModel);
    this.inner = h("div", {
      class:
        "lc:group/log lc:flex lc:flex-col lc:gap-1.5 lc:w-full lc:max-w-[48rem] lc:mx-auto lc:px-4 lc:@max-compact:gap-1 lc:@max-compact:px-2.5",
    });
    this.bubbles = new KeyedChildren(this.inner, (b) => {
      this.io?.unobserve(b.el);
      b.destroy();
    });
    this.scroller = h(
      "div",
      {
        class:
          "lc-log lc:flex lc:flex-col lc:h-full lc:overflow-y-auto lc:overflow-x-hidden lc:overscroll-contain lc:pt-4 lc:pb-2 " +
          FOCUS_INSET,
        role: "log",
        "aria-label": "Messages",
        "aria-live": "off",
        tabindex: 0,
      },
      this.olderRow,
      this.empty,
      this.inner,
    );
    this.pillCount = h("span", {
      class: "lc:px-[7px] lc:rounded-full lc:bg-accent lc:text-on-accent lc:text-micro lc:leading-[18px]",
      hidden: true,
    });
    this.pill = jumpPill(this.pillCount);
    this.pill.addEventListener("click", () => this.scrollToBottom(true), { signal });
    this.status = h("div", { class: "lc:sr-only", role: "status", "aria-live": "polite", "aria-atomic": "true" });
    this.el = h("div", { class: "lc:relative lc:flex-1 lc:min-h-0" }, this.scroller, this.pill, this.status);

    this.scroller.addEventListener("scroll", () => this.onScroll(), { signal, passive: true });
    this.observe(signal);
  }

  /** Stay at the bottom while the content grows; render deferred bubbles as they near the viewport. */
  private observe(signal: AbortSignal): void {
    if (typeof ResizeObserver !== "undefined") {
      const ro = new ResizeObserver(() => {
        if (this.atBottom) this.pinBottom();
      });
      ro.observe(this.inner);
      this.ro = ro;
      signal.addEventListener("abort", () => ro.disconnect());
    }
    if (typeof IntersectionObserver !== "undefined") {
      this.io = new IntersectionObserver(
        (entries) => {
          for (const e of entries) {
            if (!e.isIntersecting) continue;
            this.byEl.get(e.target)?.renderDeferred();
            this.io?.unobserve(e.target);
          }
        },
        { root: this.scroller, rootMargin: "1200px 0px" },
      );
    }
    signal.addEventListener("abort", () => {
      this.io?.disconnect();
      for (const b of this.bubbles.values()) b.destroy();
    });
  }

  /** A block under the messages (the compare panes): the log keeps to its bottom as it grows. */
  appendBelow(el: HTMLElement): void {
    this.scroller.append(el);
    this.ro?.observe(el);
  }

  /** A reply streams in the chat shown (editing and switching versions wait for it). */
  private readonly isBusy = (): boolean => {
    const st = this.state;
    return !!st && (st.busy || (!!st.stream && !st.stream.done));
  };

  /** The person sent a message: follow the conversation again. */
  followNext(): void {
    this.forceBottom = true;
  }

  update(next: ListState): void {
    const prev = this.state;
    this.state = next;
    const chatChanged = !prev || prev.chatId !== next.chatId;
    const before: Before = {
      chatChanged,
      wasAtBottom: this.atBottom || this.forceBottom || chatChanged,
      height: this.scroller.scrollHeight,
      top: this.scroller.scrollTop,
      firstId: prev && !chatChanged && prev.messages.length ? prev.messages[0].id : null,
      keys: this.bubbles.keys(),
    };
    if (chatChanged) this.resetForChat();
    if (prev && !chatChanged && prev.messages !== next.messages) this.loadingOlder = false;

    const items = bubbleItems(next);
    const appended = this.drawBubbles(items, next, before);
    this.drawChrome(next, items.length);
    this.trackStream(next, items, chatChanged);
    this.keepScroll(next, before, appended);
    this.updatePill();
    // A chat opens with its newest messages only, painted at once; the page before
    // them is asked for right after that paint, so scrolling back finds it there.
    if (chatChanged && next.hasOlder) this.prefetchOlder(next.chatId);
  }

  /** Another chat: no bubble of the last one is kept. */
  private resetForChat(): void {
    this.bubbles.clear();
    this.inner.replaceChildren();
    this.newCount = 0;
    this.loadingOlder = false;
  }

  /** One bubble per item (keyed), in order; returns how many new ones came after the old window. */
  private drawBubbles(items: BubbleData[], next: ListState, before: Before): number {
    const s = next.stream;
    const lastIndex = items.length - 1;
    let appended = 0;
    this.bubbles.sync(
      items,
      bubbleKey,
      (item) => {
        const b = new MessageBubble(this.send, item.role, this.isBusy, this.say);
        this.byEl.set(b.el, b);
        return b;
      },
      (b, item, i, fresh) => {
        let lazy = false;
        if (fresh) {
          // Older messages (a chat just opened, or a page loaded above) render their
          // markdown when they come near the viewport; the newest ones at once.
          lazy =
            !!this.io &&
            i < lastIndex + 1 - EAGER &&
            (before.chatChanged || before.firstId === null || item.id < before.firstId);
          if (
            !before.chatChanged &&
            before.firstId !== null &&
            item.id > before.firstId &&
            !before.keys.has(bubbleKey(item))
          ) {
            appended++;
          }
          if (before.chatChanged) b.el.classList.remove("lc-fade-in");
        }
        // Only the last bubble depends on `busy` (Regenerate / Retry): the others stay
        // unchanged, so a reply starting or ending touches one bubble, not the window.
        const isLast = i === lastIndex;
        b.update(item, {
          isLast,
          busy: isLast && (next.busy || (!!s && !s.done)),
          lazy,
          code: next.code,
          files: next.files,
        });
        if (lazy && b.isDeferred) this.io?.observe(b.el);
      },
    );
    return appended;
  }

  /** The empty state, "Load older messages". */
  private drawChrome(next: ListState, count: number): void {
    this.empty.hidden = count > 0;
    this.emptyModel.textContent = next.modelLabel;
    this.olderRow.hidden = !next.hasOlder;
    this.olderBtn.textContent = this.loadingOlder ? "Loading older messages…" : "Load older messages";
  }

  /**
   * Streaming state for assistive tech: busy while a reply streams; announce the
   * completed reply once, whether it ends through `done` or through the traits.
   */
  private trackStream(next: ListState, items: BubbleData[], chatChanged: boolean): void {
    const s = next.stream;
    const streaming = !!s && !s.done;
    this.scroller.setAttribute("aria-busy", streaming ? "true" : "false");
    this.inner.dataset.busy = String(this.isBusy()); // hides Edit, quiets the version switchers
    if (chatChanged) this.lastStreamKey = "";
    if (s && !s.done) {
      this.lastStreamKey = bubbleKey({ chatId: next.chatId, id: s.messageId, role: "assistant" });
    } else if (this.lastStreamKey) {
      const ended = items.find((it) => bubbleKey(it) === this.lastStreamKey);
      if (ended && ended.status !== "streaming" && this.announcedKey !== this.lastStreamKey) {
        this.announcedKey = this.lastStreamKey;
        this.lastStreamKey = "";
        this.announce(ended.status, ended.content, ended.error);
      }
    }
  }

  /** Older messages above keep the view still; at the bottom it follows; else new ones are counted. */
  private keepScroll(next: ListState, before: Before, appended: number): void {
    const s = next.stream;
    const newFirstId = next.messages.length ? next.messages[0].id : null;
    const prepended =
      !before.chatChanged && before.firstId !== null && newFirstId !== null && newFirstId < before.firstId;
    if (prepended && !before.wasAtBottom) {
      this.scroller.scrollTop = before.top + (this.scroller.scrollHeight - before.height);
    } else if (before.wasAtBottom) {
      this.forceBottom = false;
      this.pinBottom();
      this.atBottom = true;
    } else {
      const streamStarted =
        !!s &&
        !s.done &&
        !before.keys.has(bubbleKey({ chatId: next.chatId, id: s.messageId, role: "assistant" })) &&
        !before.chatChanged;
      this.newCount += appended + (streamStarted && appended === 0 ? 1 : 0);
    }
  }

  private prefetchOlder(chatId: string): void {
    const afterPaint = (cb: () => void) =>
      typeof requestAnimationFrame === "function" ? requestAnimationFrame(() => setTimeout(cb, 0)) : setTimeout(cb, 0);
    afterPaint(() => {
      if (this.state?.chatId === chatId) this.requestOlder();
    });
  }

  scrollToBottom(focusLog = false): void {
    this.pinBottom();
    this.atBottom = true;
    this.newCount = 0;
    this.updatePill();
    if (focusLog) this.scroller.focus({ preventScroll: true });
  }

  private pinBottom(): void {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  private onScroll(): void {
    const el = this.scroller;
    this.atBottom = el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_SLACK;
    if (this.atBottom) this.newCount = 0;
    this.updatePill();
    if (el.scrollTop < TOP_LOAD) this.requestOlder();
  }

  private requestOlder(): void {
    const st = this.state;
    if (!st?.hasOlder || this.loadingOlder || !st.messages.length || !st.chatId) return;
    this.loadingOlder = true;
    this.olderBtn.textContent = "Loading older messages…";
    this.send({ type: "load_older", chat_id: st.chatId, before: st.messages[0].id });
  }

  private updatePill(): void {
    const show = !this.atBottom && this.bubbles.size > 0;
    this.pill.hidden = !show;
    this.pillCount.hidden = this.newCount === 0;
    this.pillCount.textContent = this.newCount ? `${this.newCount} new` : "";
  }

  /** A tool call's news (reply_flow.ts); the same words again are read again. */
  private readonly say = (text: string): void => {
    this.status.textContent = "";
    this.status.textContent = text;
  };

  private announce(status: string, text: string, error: string): void {
    let msg: string;
    if (status === "error") msg = `Reply failed: ${error}`;
    else if (status === "stopped") msg = "Reply stopped.";
    else {
      const short = text.length > 400 ? `${text.slice(0, 400)}…` : text;
      msg = `Reply ${status === "length" ? "cut off" : "complete"}: ${short}`;
    }
    this.status.textContent = msg;
  }

  /** For tests. */
  get statusText(): string {
    return this.status.textContent ?? "";
  }
}
