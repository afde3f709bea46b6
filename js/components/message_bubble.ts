// One message: user bubbles right, assistant left with an avatar. The bubble is a shell
// around its parts: the text (bubble_body.ts: plain, or markdown rendered as it streams),
// what it says besides (bubble_notes.ts: reasoning, sent context, status note, error),
// the actions under it (bubble_actions.ts), and the in-place editor of a user message.
// A reply's text is a ReplyFlow (reply_flow.ts): its tool calls' cards sit in it, at
// their offsets. A reply's code blocks get their toolbar actions once its markdown is final.
import { h, formatTime, icon } from "../dom";
import type { Role, SendCommand } from "../types";
import { BubbleActions } from "./bubble_actions";
import { BubbleBody } from "./bubble_body";
import { BubbleNotes } from "./bubble_notes";
import type { BubbleData, BubbleOptions } from "./bubble_data";
import { MessageEditor } from "./message_editor";
import { decorateReplyCode } from "./reply_code";
import { ReplyFlow } from "./reply_flow";

export type { BubbleData, BubbleOptions } from "./bubble_data";

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
const AVATAR =
  "lc-avatar lc:d-chat-image lc:row-[2/span_2] lc:self-start lc:grid lc:place-items-center lc:size-7 lc:rounded-full lc:bg-active " +
  "lc:text-accent lc:group-[.lc-msg-error]/msg:bg-danger-bg lc:group-[.lc-msg-error]/msg:text-danger-fg " +
  "lc:@max-compact:size-6 lc:@max-tiny:hidden";

export class MessageBubble {
  readonly el: HTMLElement;
  private bubble: HTMLElement;
  private body: BubbleBody | ReplyFlow;
  private flow: ReplyFlow | null = null;
  private notes: BubbleNotes;
  private actions: BubbleActions;
  private editor: MessageEditor | null = null;
  private data: BubbleData | null = null;
  private opts: BubbleOptions | null = null;

  /**
   * `isBusy`: a reply streams in the chat (editing and switching versions wait for it);
   * `announce`: tell screen readers a tool call's news (the log's status region).
   */
  constructor(
    private send: SendCommand,
    role: Role,
    private isBusy: () => boolean = () => false,
    private announce: (text: string) => void = () => undefined,
  ) {
    this.el = h("div", {
      class:
        `lc-msg lc-msg-${role} lc-fade-in lc:group/msg lc:d-chat ${ROW[role]} lc:min-w-0 lc:py-0 ` +
        "lc:[&.lc-fade-in]:animate-fade",
      "data-role": role,
    });
    const onFinal = () => this.decorateCode();
    if (role === "assistant") this.flow = new ReplyFlow(onFinal);
    this.body = this.flow ?? new BubbleBody(role, onFinal);
    this.notes = new BubbleNotes();
    this.bubble = h(
      "div",
      { class: `lc-bubble lc:d-chat-bubble lc:min-w-0 lc:min-h-0 lc:wrap-anywhere ${BUBBLE[role]}` },
      this.notes.reasoning,
      this.body.el,
      ...this.notes.below,
    );
    this.actions = new BubbleActions(role, {
      send,
      data: () => this.data,
      onEdit: () => this.startEditing(),
      isBusy,
    });
    if (role === "assistant") this.el.append(h("div", { class: AVATAR, "aria-hidden": "true" }, icon("sparkle", 16)));
    this.el.append(this.bubble, this.actions.el);
  }

  update(data: BubbleData, opts: BubbleOptions): void {
    const prev = this.data;
    // Unchanged (the common case while another bubble streams): nothing to do.
    if (prev && this.opts && sameData(prev, data) && sameOpts(this.opts, opts)) return;
    this.opts = opts;
    this.data = data;
    const streaming = data.status === "streaming";
    this.drawRow(data, opts);
    this.flow?.setTools(data.tools ?? [], { chatId: data.chatId, send: this.send, announce: this.announce });
    this.body.update(data.content, streaming, !!opts.lazy);
    if (!streaming && this.body.isFinal) this.decorateCode();
    this.notes.update(data, opts.files ?? null);
    this.actions.update(data, opts);
    if (prev && prev.status === "streaming" && !streaming) this.el.classList.remove("lc-fade-in");
  }

  /** The row's data attributes and state classes, and the bubble's full time as its title. */
  private drawRow(data: BubbleData, opts: BubbleOptions): void {
    this.el.dataset.id = String(data.id);
    this.el.dataset.status = data.status;
    this.el.classList.toggle("lc-streaming", data.status === "streaming");
    this.el.classList.toggle("lc-msg-error", data.status === "error");
    this.el.classList.toggle("lc-msg-versions", (data.versions ?? 1) > 1);
    this.el.classList.toggle("lc-msg-last", opts.isLast);
    const full = formatTime(data.timestamp).full;
    if (full) this.bubble.title = full;
    else this.bubble.removeAttribute("title");
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
    this.body.el.hidden = true;
    this.actions.el.hidden = true;
    this.bubble.append(this.editor.el);
    this.editor.open(data.content);
  }

  private stopEditing(saved: boolean): void {
    if (!this.editor) return;
    this.editor.el.remove();
    this.editor = null;
    this.el.classList.remove("lc-editing");
    this.body.el.hidden = false;
    this.actions.el.hidden = false;
    // Saved: this bubble gives way to the new version, so the app moves focus on.
    if (!saved) this.actions.editBtn.focus({ preventScroll: true });
  }

  /** True while the markdown render waits for renderDeferred(). */
  get isDeferred(): boolean {
    return this.body.isDeferred;
  }

  renderDeferred(): void {
    this.body.renderDeferred();
  }

  destroy(): void {
    this.body.destroy();
    this.notes.destroy();
  }

  /** A reply's code blocks: their toolbar actions (Run, Insert as cell, Copy) and run output. */
  private decorateCode(): void {
    const data = this.data;
    const code = this.opts?.code;
    if (data?.role !== "assistant" || !code) return;
    decorateReplyCode(this.body.el, {
      chatId: data.chatId,
      messageId: data.id,
      runs: data.runs ?? [],
      state: code,
      send: this.send,
    });
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
    a.attachments === b.attachments &&
    a.runs === b.runs &&
    a.tools === b.tools &&
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
    a.code?.insertable === b.code?.insertable &&
    a.files === b.files
  );
}
