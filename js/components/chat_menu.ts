// The open chat's menu (⋯ in the topbar): export the chat as Markdown, JSON or a
// Jupyter notebook. The kernel builds the file and answers this view alone (the request
// id it echoes); the browser saves it as a download. Keyboard: Enter/Space/ArrowDown
// open it, arrows move, Escape closes it and returns focus to the button.
import { h, icon } from "../dom";
import type { Requests } from "../requests";
import { plainFileName } from "../title";
import type { ExportFormat } from "../types";
import { FOCUS_INSET, iconButton } from "./ui";

export const EXPORT_ITEMS: [ExportFormat, string][] = [
  ["markdown", "Export as Markdown"],
  ["json", "Export as JSON"],
  ["ipynb", "Export as notebook"],
];

const MENU =
  "lc-chat-menu lc:absolute lc:right-0 lc:top-full lc:mt-1 lc:z-30 lc:min-w-52 lc:py-1 lc:rounded-item " +
  "lc:border lc:border-line lc:bg-surface lc:shadow-float";
const ITEM =
  "lc:flex lc:w-full lc:items-center lc:gap-2 lc:px-3 lc:py-1.5 lc:text-left lc:text-ui lc:text-fg " +
  `lc:hover:bg-hover lc:focus:bg-hover ${FOCUS_INSET}`;

export class ChatMenu {
  readonly el: HTMLElement;
  readonly button: HTMLButtonElement;
  private menu: HTMLElement;
  private items: HTMLButtonElement[];
  private chatId = "";

  constructor(
    private requests: Requests,
    signal: AbortSignal,
    id: string,
    onCompare?: () => void,
  ) {
    this.button = h("button", {
      type: "button",
      class: `${iconButton()} lc:aria-expanded:bg-hover lc:aria-expanded:text-fg`,
      "aria-label": "Chat menu",
      title: "Chat menu",
      "aria-haspopup": "menu",
      "aria-expanded": "false",
      "aria-controls": id,
    });
    this.button.append(icon("dots", 18));
    this.items = EXPORT_ITEMS.map(([format, label]) => {
      const item = h("button", { type: "button", role: "menuitem", class: ITEM, tabindex: -1, "data-format": format });
      item.append(icon("download", 14, "lc:text-muted"), h("span", {}, label));
      item.addEventListener("click", () => this.export(format), { signal });
      return item;
    });
    if (onCompare) {
      const item = h("button", {
        type: "button",
        role: "menuitem",
        class: ITEM,
        tabindex: -1,
        "data-action": "compare",
      });
      item.append(icon("chat", 14, "lc:text-muted"), h("span", {}, "Compare models…"));
      item.addEventListener(
        "click",
        () => {
          this.close();
          onCompare();
        },
        { signal },
      );
      this.items.push(item);
    }
    this.menu = h(
      "div",
      { class: MENU, role: "menu", id, "aria-label": "Chat menu", hidden: true, "data-lc-own-esc": "" },
      ...this.items,
    );
    this.el = h("div", { class: "lc:relative lc:shrink-0" }, this.button, this.menu);

    this.button.addEventListener("click", () => (this.isOpen() ? this.close() : this.open(0)), { signal });
    this.button.addEventListener(
      "keydown",
      (e) => {
        if (e.key === "ArrowDown" || e.key === "ArrowUp") {
          e.preventDefault();
          this.open(e.key === "ArrowDown" ? 0 : this.items.length - 1);
        }
      },
      { signal },
    );
    this.menu.addEventListener("keydown", (e) => this.onMenuKey(e), { signal });
    // A click or focus anywhere else closes it.
    document.addEventListener(
      "pointerdown",
      (e) => {
        if (this.isOpen() && !this.el.contains(e.target as Node)) this.close();
      },
      { signal, capture: true },
    );
    this.el.addEventListener(
      "focusout",
      (e) => {
        if (this.isOpen() && !this.el.contains(e.relatedTarget as Node | null)) this.close();
      },
      { signal },
    );
  }

  /** The open chat ("" = none: no menu). */
  update(chatId: string): void {
    this.chatId = chatId;
    this.el.hidden = !chatId;
    if (!chatId) this.close();
  }

  isOpen(): boolean {
    return !this.menu.hidden;
  }

  open(focusIndex = 0): void {
    this.menu.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    this.items[focusIndex]?.focus();
  }

  close(focusButton = false): void {
    this.menu.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
    if (focusButton) this.button.focus();
  }

  export(format: ExportFormat): void {
    this.close(true);
    if (!this.chatId) return;
    // A refusal shows in the banner (the kernel sets `error`); nothing more to do here.
    this.requests.ask("export", { chat_id: this.chatId, format }).then(
      ({ msg, buffers }) => {
        const data = buffers[0];
        if (data && typeof msg.filename === "string" && typeof msg.mime === "string") {
          saveFile(msg.filename, msg.mime, data as BlobPart);
        }
      },
      () => undefined,
    );
  }

  private onMenuKey(e: KeyboardEvent): void {
    const at = this.items.indexOf(document.activeElement as HTMLButtonElement);
    const n = this.items.length;
    let next = -1;
    if (e.key === "ArrowDown") next = (at + 1) % n;
    else if (e.key === "ArrowUp") next = (at - 1 + n) % n;
    else if (e.key === "Home") next = 0;
    else if (e.key === "End") next = n - 1;
    else if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      this.close(true);
      return;
    } else if (e.key === "Tab") {
      this.close();
      return;
    }
    if (next >= 0) {
      e.preventDefault();
      this.items[next].focus();
    }
  }
}

/** Hand `data` to the browser as a download named `filename`. */
export function saveFile(filename: string, mime: string, data: BlobPart): void {
  const url = URL.createObjectURL(new Blob([data], { type: mime }));
  // A name the kernel made from the chat's title: no bidi override may disguise its extension.
  const link = h("a", { href: url, download: plainFileName(filename), hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started by now; the URL is released a little later to be safe.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
