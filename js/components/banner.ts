// The error banner under the topbar (the `error` trait): its text and a Dismiss button.
import { h, icon } from "../dom";
import { iconButton } from "./ui";

export class ErrorBanner {
  readonly el: HTMLElement;
  private text: HTMLElement;

  constructor(onDismiss: () => void, signal: AbortSignal) {
    this.text = h("span", { class: "lc:flex-1 lc:min-w-0 lc:wrap-anywhere" });
    const dismiss = h("button", {
      type: "button",
      class: iconButton("lc:size-8 lc:text-current"),
      "aria-label": "Dismiss error",
      title: "Dismiss",
    });
    dismiss.append(icon("x", 14));
    dismiss.addEventListener("click", onDismiss, { signal });
    this.el = h(
      "div",
      {
        class:
          "lc-banner lc:flex lc:items-center lc:gap-2 lc:shrink-0 lc:mt-2 lc:mx-3 lc:py-1.5 lc:pr-1.5 lc:pl-3 lc:rounded-item " +
          "lc:bg-danger-bg lc:border lc:border-danger-line lc:text-danger-fg lc:text-ui lc:@max-tiny:mt-1.5 lc:@max-tiny:mx-1.5",
        role: "alert",
        hidden: true,
      },
      icon("alert", 16),
      this.text,
      dismiss,
    );
  }

  /** Show `error` ("" hides the banner). */
  show(error: string): void {
    this.el.hidden = !error;
    this.text.textContent = error;
  }
}
