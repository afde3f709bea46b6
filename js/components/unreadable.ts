// Under the chat list: how many chat files the kernel could not read (the `unreadable`
// trait). They are left as they are and listed nowhere else, so the person learns of them
// here rather than not at all.
import { h, icon } from "../dom";

export class UnreadableNotice {
  readonly el: HTMLElement;
  private text: HTMLElement;

  constructor() {
    this.text = h("span", { class: "lc:min-w-0" });
    this.el = h(
      "p",
      {
        class:
          "lc-unreadable lc:flex lc:items-start lc:gap-1.5 lc:mx-3 lc:mb-2 lc:py-1.5 lc:px-2 lc:rounded-item " +
          "lc:bg-danger-bg lc:border lc:border-danger-line lc:text-danger-fg lc:text-xs",
        role: "note",
        hidden: true,
      },
      icon("alert", 14, "lc:shrink-0 lc:mt-px"),
      this.text,
    );
  }

  update(count: number): void {
    this.el.hidden = !(count > 0);
    const files = count === 1 ? "1 chat file" : `${count} chat files`;
    this.text.textContent =
      count > 0
        ? `${files} in this folder could not be read. They were left as they are; the kernel's log says why.`
        : "";
  }
}
