// A row of the chat list: select the chat; on hover/focus inline rename (Enter saves,
// Esc cancels), archive, and delete with a confirm step inside the widget.
import { h, icon, relativeTime } from "../dom";
import { plainTitle, titleText } from "../title";
import type { ChatSummary, SendCommand } from "../types";
import { FOCUS, FOCUS_INSET, SMALL_BUTTON, iconButton } from "./ui";

// A row of the chat list: `group/item` (the <li>, .lc-active when it is the open chat)
// and `group/row` (the row, whose hover/focus reveals Rename/Archive/Delete).
// (Class names are written out whole: Tailwind finds them by scanning this file.)
const ROW =
  "lc-chat-row lc:group/row lc:relative lc:flex lc:items-center lc:min-h-9 lc:rounded-item " +
  "lc:hover:bg-hover lc:group-[.lc-active]/item:bg-active lc:group-[.lc-active]/item:hover:bg-active";
const TEXT_INPUT = "lc:w-full lc:h-[34px] lc:px-2.5 lc:border lc:bg-surface lc:placeholder:text-muted";
// Rename / Archive / Delete sit over the end of the row: always in the accessibility tree
// and reachable with Tab, shown on hover or focus (on touch screens: on the open chat).
const ROW_ACTIONS =
  "lc-chat-actions lc:absolute lc:right-0.5 lc:top-1/2 lc:-translate-y-1/2 lc:flex lc:gap-0.5 lc:pl-3.5 " +
  "lc:rounded-r-item lc:bg-linear-to-r lc:from-transparent lc:to-row-hover lc:to-[12px] " +
  "lc:group-[.lc-active]/item:to-active lc:opacity-0 lc:group-hover/row:opacity-100 lc:group-focus-within/row:opacity-100 " +
  "lc:touch:group-[.lc-active]/item:opacity-100 lc:touch:group-[:not(.lc-active)]/item:pointer-events-none";
const ROW_ACTION = iconButton("lc:size-7 lc:text-muted");

/** What a row asks of its list. */
export interface ChatItemOwner {
  send: SendCommand;
  select(chatId: string): void;
  /** Leave rename/confirm in every other row. */
  closeOtherModes(except: ChatItem): void;
}

type Mode = "view" | "rename" | "confirm";

export class ChatItem {
  readonly el: HTMLLIElement;
  mode: Mode = "view";
  chat: ChatSummary;
  active = false;

  constructor(
    chat: ChatSummary,
    private owner: ChatItemOwner,
  ) {
    this.chat = chat;
    this.el = h("li", { class: "lc-chat-item lc:group/item lc:m-0 lc:list-none", "data-chat-id": chat.id });
  }

  update(chat: ChatSummary, active: boolean): void {
    const changed =
      chat.title !== this.chat.title || chat.updated_at !== this.chat.updated_at || active !== this.active;
    this.chat = chat;
    this.active = active;
    if (changed || !this.el.firstChild) this.draw();
  }

  setMode(mode: Mode): void {
    this.mode = mode;
    this.draw();
  }

  draw(): void {
    const hadFocus = this.el.contains(document.activeElement);
    this.el.classList.toggle("lc-active", this.active);
    this.el.dataset.mode = this.mode;
    if (this.mode === "rename") this.drawRename();
    else if (this.mode === "confirm") this.drawConfirm();
    else this.drawView(hadFocus);
  }

  /** Inline rename: Enter or leaving the field saves, Esc cancels. */
  private drawRename(): void {
    const { chat } = this;
    const input = h("input", {
      type: "text",
      class: `lc-rename-input ${TEXT_INPUT} lc:border-accent lc:rounded-control lc:text-item ${FOCUS}`,
      "aria-label": "Chat title",
      maxlength: 200,
      "data-lc-own-esc": "",
    });
    // The title as shown (title.ts): leaving it as it is renames nothing.
    const shown = plainTitle(chat.title);
    input.value = shown;
    let finished = false;
    const finish = (save: boolean) => {
      if (finished) return;
      finished = true;
      const title = input.value.trim().replace(/\s+/g, " ");
      if (save && title && title !== shown) this.owner.send({ type: "rename", chat_id: chat.id, title });
      this.mode = "view";
      this.draw();
      (this.el.querySelector(".lc-chat-select") as HTMLElement | null)?.focus();
    };
    input.addEventListener("keydown", (e) => {
      e.stopPropagation();
      if (e.key === "Enter" && !e.isComposing) {
        e.preventDefault();
        finish(true);
      } else if (e.key === "Escape") {
        e.preventDefault();
        finish(false);
      }
    });
    input.addEventListener("blur", () => finish(true));
    this.el.replaceChildren(h("div", { class: `${ROW} lc-chat-row-edit lc:p-0.5` }, input));
    input.focus();
    input.select();
  }

  /** The delete confirm step, inside the widget. */
  private drawConfirm(): void {
    const { chat } = this;
    const del = h(
      "button",
      { type: "button", class: `${SMALL_BUTTON} lc:bg-destructive lc:text-white lc:hover:bg-destructive-hover` },
      "Delete",
    );
    const cancel = h(
      "button",
      {
        type: "button",
        class: `${SMALL_BUTTON} lc:bg-surface lc:border lc:border-line-strong lc:hover:bg-hover`,
        "data-lc-own-esc": "",
      },
      "Cancel",
    );
    del.addEventListener("click", () => {
      this.owner.send({ type: "delete", chat_id: chat.id });
      this.mode = "view";
      this.draw();
    });
    cancel.addEventListener("click", () => {
      this.mode = "view";
      this.draw();
      (this.el.querySelector(".lc-chat-select") as HTMLElement | null)?.focus();
    });
    const box = h(
      "div",
      {
        class: "lc-confirm lc:py-2 lc:px-2.5 lc:rounded-item lc:bg-danger-bg lc:border lc:border-danger-line",
        role: "group",
        "aria-label": `Delete “${plainTitle(chat.title) || "Untitled chat"}”?`,
        "data-lc-own-esc": "",
      },
      h("p", { class: "lc:mb-1.5 lc:text-ui lc:text-fg" }, "Delete this chat?"),
      h("div", { class: "lc:flex lc:justify-end lc:gap-1.5" }, cancel, del),
    );
    box.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.preventDefault();
        e.stopPropagation();
        cancel.click();
      }
    });
    this.el.replaceChildren(box);
    cancel.focus();
  }

  /** The row: select button, time, and Rename / Archive / Delete over its end. */
  private drawView(hadFocus: boolean): void {
    const { chat } = this;
    const select = h(
      "button",
      {
        type: "button",
        class: `lc-chat-select lc:flex-1 lc:min-w-0 lc:flex lc:items-baseline lc:gap-2 lc:py-2 lc:px-2.5 lc:rounded-item lc:text-left ${FOCUS_INSET}`,
        title: plainTitle(chat.title) || "Untitled chat",
        "aria-current": this.active ? "page" : null,
      },
      h(
        "span",
        {
          class: "lc-chat-title lc:flex-1 lc:min-w-0 lc:truncate lc:text-item lc:group-[.lc-active]/item:font-semibold",
        },
        titleText(chat.title, "Untitled chat"),
      ),
      h(
        "span",
        {
          class:
            "lc-chat-time lc:shrink-0 lc:text-meta lc:text-muted lc:group-hover/row:invisible " +
            "lc:group-focus-within/row:invisible lc:touch:group-[.lc-active]/item:invisible",
        },
        relativeTime(chat.updated_at),
      ),
    );
    select.addEventListener("click", () => this.owner.select(chat.id));
    const rename = h("button", { type: "button", class: ROW_ACTION, "aria-label": "Rename chat", title: "Rename" });
    rename.append(icon("pencil", 14));
    rename.addEventListener("click", () => this.setMode("rename"));
    // Archive ("clear") is undoable from disk (chat_logs/archive/), so it needs no confirm.
    const archive = h("button", { type: "button", class: ROW_ACTION, "aria-label": "Archive chat", title: "Archive" });
    archive.append(icon("archive", 14));
    archive.addEventListener("click", () => this.owner.send({ type: "clear", chat_id: chat.id }));
    const del = h("button", {
      type: "button",
      class: `${ROW_ACTION} lc:hover:text-danger-fg`,
      "aria-label": "Delete chat",
      title: "Delete",
    });
    del.append(icon("trash", 14));
    del.addEventListener("click", () => {
      this.owner.closeOtherModes(this);
      this.setMode("confirm");
    });
    this.el.replaceChildren(h("div", { class: ROW }, select, h("div", { class: ROW_ACTIONS }, rename, archive, del)));
    if (hadFocus) select.focus();
  }
}
