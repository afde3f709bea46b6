// The actions under a message (its daisyUI chat-footer): time, version switcher, Edit
// (user), Copy, Regenerate / Retry / Continue without oldest turns (the newest reply),
// and a reply's tokens, speed and model. Shown on hover or focus, always on the newest
// message, an error, or a message with versions.
import { copyText, formatTime, h } from "../dom";
import type { Role, SendCommand } from "../types";
import type { BubbleData, BubbleOptions } from "./bubble_data";
import { FOCUS, flashText, textButton } from "./ui";
import { usageSummary } from "./usage";
import { VersionSwitcher } from "./version_switcher";

const QUIET = "lc:text-muted lc:hover:text-fg";
const ACTIONS =
  "lc-actions lc:d-chat-footer lc:flex lc:flex-wrap lc:min-w-0 lc:max-w-full lc:items-center lc:gap-0.5 lc:text-muted lc:opacity-0 lc:transition-opacity " +
  "lc:duration-150 lc:group-hover/msg:opacity-100 lc:group-focus-within/msg:opacity-100 " +
  "lc:group-[.lc-msg-last]/msg:opacity-100 lc:group-[.lc-msg-error]/msg:opacity-100 lc:touch:opacity-100 " +
  "lc:group-[.lc-msg-versions]/msg:opacity-100";
/** Hidden while a reply streams in the chat (the list marks itself busy). */
const NOT_WHILE_BUSY = "lc:group-data-[busy=true]/log:hidden";

export interface ActionHandlers {
  send: SendCommand;
  /** The message shown now. */
  data: () => BubbleData | null;
  onEdit: () => void;
  /** A reply streams in the chat (switching versions waits for it). */
  isBusy: () => boolean;
}

export class BubbleActions {
  readonly el: HTMLElement;
  readonly editBtn: HTMLButtonElement;
  private time: HTMLTimeElement;
  private usageEl: HTMLElement;
  private copyBtn: HTMLButtonElement;
  private regenBtn: HTMLButtonElement;
  private retryBtn: HTMLButtonElement;
  private shorterBtn: HTMLButtonElement;
  private switcher: VersionSwitcher;

  constructor(role: Role, handlers: ActionHandlers) {
    const isUser = role === "user";
    const size = isUser ? "lc:h-6" : "lc:h-7";
    const send = (type: "regenerate" | "retry" | "retry_shorter") => () => {
      const data = handlers.data();
      if (data) handlers.send({ type, chat_id: data.chatId });
    };
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
    this.copyBtn = actionButton("copy", "Copy", "Copy message", `${size} ${QUIET} lc:[&>.lc-action-label]:hidden`);
    this.copyBtn.addEventListener("click", () => {
      void copyText(handlers.data()?.content ?? "").then((ok) =>
        flashText(this.copyBtn, ok ? "Copied" : "Copy failed"),
      );
    });
    this.regenBtn = actionButton("refresh", "Regenerate", "Regenerate reply");
    this.regenBtn.addEventListener("click", send("regenerate"));
    this.retryBtn = actionButton(
      "refresh",
      "Retry",
      "Retry",
      `${size} lc:text-danger-fg lc:border lc:border-danger-line`,
    );
    this.retryBtn.addEventListener("click", send("retry"));
    // Offered when the conversation outgrew the model's context.
    this.shorterBtn = actionButton(
      "refresh",
      "Continue without oldest turns",
      "Retry, leaving the oldest half of the conversation out of what the model is sent",
      `${size} lc:text-fg lc:border lc:border-line`,
    );
    this.shorterBtn.addEventListener("click", send("retry_shorter"));
    this.editBtn = actionButton(
      "pencil",
      "Edit",
      "Edit message",
      `${size} ${QUIET} lc:[&>.lc-action-label]:hidden ${NOT_WHILE_BUSY}`,
    );
    this.editBtn.hidden = !isUser;
    this.editBtn.addEventListener("click", handlers.onEdit);
    this.switcher = new VersionSwitcher(
      (version) => {
        const data = handlers.data();
        if (data) handlers.send({ type: "select_version", chat_id: data.chatId, message_id: data.id, version });
      },
      () => !handlers.isBusy(),
    );
    this.el = isUser
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
  }

  update(data: BubbleData, opts: BubbleOptions): void {
    const ts = formatTime(data.timestamp);
    this.time.textContent = ts.short;
    this.time.dateTime = data.timestamp;
    this.time.title = ts.full;
    this.el.hidden = data.status === "streaming";
    this.copyBtn.hidden = data.content === "";
    // Regenerate / Retry: only under the newest reply, and not while one streams.
    const newest = data.role === "assistant" && opts.isLast && !opts.busy;
    this.regenBtn.hidden = !(newest && data.status !== "error");
    this.retryBtn.hidden = !(newest && data.status === "error");
    this.shorterBtn.hidden = this.retryBtn.hidden || data.errorKind !== "context_length";
    this.switcher.update(data.version ?? 1, data.versions ?? 1);
    const usage = data.usage ? usageSummary(data.usage) : null;
    this.usageEl.hidden = !usage;
    this.usageEl.textContent = usage?.text ?? "";
    if (usage) this.usageEl.title = usage.title;
  }
}

/** An action under a message; `extra` sets its height and colours (default: a quiet 28 px one). */
function actionButton(iconName: string, label: string, title: string, extra = `lc:h-7 ${QUIET}`): HTMLButtonElement {
  return textButton(
    { icon: iconName, iconSize: 14, text: label, textClass: "lc-action-label" },
    {
      class: `lc-action lc:inline-flex lc:items-center lc:gap-[5px] lc:px-[7px] lc:rounded-control lc:text-xs lc:hover:bg-hover ${FOCUS} ${extra}`,
      label,
      title,
    },
  );
}
