// "Opening <chat>…": shown over the message list while the kernel reads a big chat's
// file off its event loop (the `opening` trait); the chat shown so far stays underneath.
import { h, icon } from "../dom";
import type { ChatSummary } from "../types";

export class OpeningNotice {
  readonly el: HTMLElement;
  private text: HTMLElement;

  constructor() {
    this.text = h("span", { class: "lc:min-w-0 lc:truncate" });
    this.el = h(
      "div",
      {
        class:
          "lc-opening lc:absolute lc:top-2 lc:left-1/2 lc:-translate-x-1/2 lc:z-10 lc:flex lc:items-center lc:gap-2 " +
          "lc:max-w-[90%] lc:py-1.5 lc:px-3 lc:rounded-full lc:bg-surface lc:border lc:border-line lc:shadow-md " +
          "lc:text-ui lc:text-fg",
        role: "status",
        hidden: true,
      },
      icon("refresh", 14, "lc:animate-spin lc:shrink-0"),
      this.text,
    );
  }

  /** `opening`: the chat being read ("" = none); `chats` to name it. */
  update(opening: string, chats: ChatSummary[]): void {
    const title = chats.find((c) => c.id === opening)?.title ?? "chat";
    this.el.hidden = !opening;
    this.text.textContent = opening ? `Opening “${title}”…` : "";
    this.el.setAttribute("aria-busy", opening ? "true" : "false");
  }
}
