// The message log of the active chat: keyed bubbles (each rendered once), the
// streaming reply, scroll-follow only while at the bottom, a "Jump to latest" pill,
// older pages on scroll-up (scroll position kept), and a status region that
// announces completed replies only.
import { h, icon } from "../dom";
import type { StreamView } from "../stream_state";
import type { Message, SendCommand } from "../types";
import type { CodeRunState } from "./code_runs";
import { MessageBubble, type BubbleData } from "./message_bubble";
import { FOCUS, FOCUS_INSET } from "./ui";

export interface ListState {
  chatId: string;
  messages: Message[];
  hasOlder: boolean;
  stream: StreamView | undefined;
  busy: boolean;
  modelLabel: string;
  code?: CodeRunState;
}

const BOTTOM_SLACK = 40;
/** Messages at the end of the window whose markdown is rendered at once; older ones on approach. */
const EAGER = 16;
const TOP_LOAD = 120;

function bubbleKey(item: Pick<BubbleData, "chatId" | "id" | "role">): string {
  return `${item.chatId}:${item.id}:${item.role}`;
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
  private bubbles = new Map<string, MessageBubble>();
  private state: ListState | null = null;
  private atBottom = true;
  private newCount = 0;
  private loadingOlder = false;
  private forceBottom = false;
  private announcedKey = "";
  private lastStreamKey = "";
  private io: IntersectionObserver | null = null;
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
    this.empty = h(
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
      this.emptyModel,
    );
    this.inner = h("div", {
      class:
        "lc:group/log lc:flex lc:flex-col lc:gap-1.5 lc:w-full lc:max-w-[48rem] lc:mx-auto lc:px-4 lc:@max-compact:gap-1 lc:@max-compact:px-2.5",
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
    this.pill = h("button", {
      type: "button",
      class:
        "lc-pill lc:absolute lc:z-5 lc:bottom-3 lc:left-1/2 lc:-translate-x-1/2 lc:inline-flex lc:items-center lc:gap-1.5 " +
        "lc:h-8 lc:px-3 lc:rounded-full lc:bg-surface lc:border lc:border-line-strong lc:shadow-float lc:text-note " +
        `lc:font-semibold lc:whitespace-nowrap lc:animate-pop ${FOCUS}`,
      "aria-label": "Jump to latest",
      hidden: true,
    });
    this.pill.append(icon("down", 14), h("span", {}, "Jump to latest"), this.pillCount);
    this.pill.addEventListener("click", () => this.scrollToBottom(true), { signal });
    this.status = h("div", { class: "lc:sr-only", role: "status", "aria-live": "polite", "aria-atomic": "true" });
    this.el = h("div", { class: "lc:relative lc:flex-1 lc:min-h-0" }, this.scroller, this.pill, this.status);

    this.scroller.addEventListener("scroll", () => this.onScroll(), { signal, passive: true });
    if (typeof ResizeObserver !== "undefined") {
      const ro = new ResizeObserver(() => {
        if (this.atBottom) this.pinBottom();
      });
      ro.observe(this.inner);
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
    const wasAtBottom = this.atBottom || this.forceBottom || chatChanged;
    const prevHeight = this.scroller.scrollHeight;
    const prevTop = this.scroller.scrollTop;
    const prevFirstId = prev && !chatChanged && prev.messages.length ? prev.messages[0].id : null;
    const prevKeys = new Set(this.bubbles.keys());

    if (chatChanged) {
      for (const b of this.bubbles.values()) b.destroy();
      this.bubbles.clear();
      this.inner.replaceChildren();
      this.newCount = 0;
      this.loadingOlder = false;
    }
    if (prev && !chatChanged && prev.messages !== next.messages) this.loadingOlder = false;

    // Items: the window of messages, then the reply in progress if not yet among them.
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
      runs: m.runs,
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
      });
    }

    const wanted: HTMLElement[] = [];
    const keep = new Set<string>();
    let appended = 0;
    const lastIndex = items.length - 1;
    items.forEach((item, i) => {
      // The role is part of the key: a bubble is never reused for a message of another role.
      const key = bubbleKey(item);
      keep.add(key);
      let b = this.bubbles.get(key);
      let lazy = false;
      if (!b) {
        b = new MessageBubble(this.send, item.role, this.isBusy);
        this.bubbles.set(key, b);
        this.byEl.set(b.el, b);
        // Older messages (a chat just opened, or a page loaded above) render their
        // markdown when they come near the viewport; the newest ones at once.
        lazy = !!this.io && i < lastIndex + 1 - EAGER && (chatChanged || prevFirstId === null || item.id < prevFirstId);
        if (!chatChanged && prevFirstId !== null && item.id > prevFirstId && !prevKeys.has(key)) appended++;
        if (chatChanged) b.el.classList.remove("lc-fade-in");
      }
      // Only the last bubble depends on `busy` (Regenerate / Retry): the others stay
      // unchanged, so a reply starting or ending touches one bubble, not the window.
      const isLast = i === lastIndex;
      b.update(item, { isLast, busy: isLast && (next.busy || (!!s && !s.done)), lazy, code: next.code });
      if (lazy && b.isDeferred) this.io?.observe(b.el);
      wanted.push(b.el);
    });
    for (const [key, b] of this.bubbles) {
      if (!keep.has(key)) {
        this.io?.unobserve(b.el);
        b.destroy();
        b.el.remove();
        this.bubbles.delete(key);
      }
    }
    // Put the nodes in order, moving only what is out of place.
    const kids = this.inner.children;
    wanted.forEach((node, i) => {
      if (kids[i] !== node) this.inner.insertBefore(node, kids[i] ?? null);
    });
    while (kids.length > wanted.length) kids[kids.length - 1].remove();

    this.empty.hidden = items.length > 0;
    this.emptyModel.textContent = next.modelLabel;
    this.olderRow.hidden = !next.hasOlder;
    this.olderBtn.textContent = this.loadingOlder ? "Loading older messages…" : "Load older messages";

    // Streaming state for assistive tech: busy while a reply streams; announce the
    // completed reply once, whether it ends through `done` or through the traits.
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

    // Scrolling
    const newFirstId = next.messages.length ? next.messages[0].id : null;
    const prepended = !chatChanged && prevFirstId !== null && newFirstId !== null && newFirstId < prevFirstId;
    if (prepended && !wasAtBottom) {
      this.scroller.scrollTop = prevTop + (this.scroller.scrollHeight - prevHeight);
    } else if (wasAtBottom) {
      this.forceBottom = false;
      this.pinBottom();
      this.atBottom = true;
    } else {
      const streamStarted =
        !!s &&
        !s.done &&
        !prevKeys.has(bubbleKey({ chatId: next.chatId, id: s.messageId, role: "assistant" })) &&
        !chatChanged;
      this.newCount += appended + (streamStarted && appended === 0 ? 1 : 0);
    }
    this.updatePill();
    // A chat opens with its newest messages only, painted at once; the page before
    // them is asked for right after that paint, so scrolling back finds it there.
    if (chatChanged && next.hasOlder) this.prefetchOlder(next.chatId);
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
