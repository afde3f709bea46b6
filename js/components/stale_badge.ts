// The stale-context badge above the composer box (the `stale_context` trait): variables
// this chat sent as context that changed in the kernel since the model saw them, and how
// ("df changed since the model saw it: 1,203 fewer rows, new column `tenure_bucket`").
// Refresh attaches them again as chips of the `@` picker, so the next message carries
// their new description; Ignore asks the kernel to hide them until they change again.
// Screen readers hear a change of the list (a polite status); both buttons are in the
// tab order.
import { h, icon } from "../dom";
import type { StaleItem } from "../types";
import { SMALL_BUTTON } from "./ui";

export interface StaleHandlers {
  onRefresh: (names: string[]) => void;
  onIgnore: (names: string[]) => void;
}

/** `text` with its `backticked` parts as code elements (never HTML). */
function withCode(text: string): (string | HTMLElement)[] {
  return text.split("`").map((part, i) => (i % 2 ? h("code", { class: "lc:font-mono" }, part) : part));
}

/** One item in words, as the status announces it. */
export function staleText(item: StaleItem): string {
  return `${item.name} changed since the model saw it: ${item.change}`;
}

export class StaleBadge {
  /** The badge and its (always present) live region. */
  readonly el: HTMLElement;
  private box: HTMLElement;
  private list: HTMLElement;
  private refresh: HTMLButtonElement;
  private ignore: HTMLButtonElement;
  private announcer: HTMLElement;
  private items: StaleItem[] = [];
  private said = "";

  constructor(handlers: StaleHandlers, signal: AbortSignal) {
    this.list = h("ul", { class: "lc:m-0 lc:p-0 lc:list-none lc:flex lc:flex-col lc:gap-0.5 lc:min-w-0" });
    this.refresh = h(
      "button",
      {
        type: "button",
        class: `lc-stale-refresh lc:bg-accent lc:text-on-accent lc:enabled:hover:bg-accent-hover ${SMALL_BUTTON}`,
      },
      "Refresh",
    );
    this.ignore = h(
      "button",
      { type: "button", class: `lc-stale-ignore lc:text-fg lc:hover:bg-hover ${SMALL_BUTTON}` },
      "Ignore",
    );
    const names = (all: boolean) => this.items.filter((i) => all || !i.gone).map((i) => i.name);
    this.refresh.addEventListener("click", () => handlers.onRefresh(names(false)), { signal });
    this.ignore.addEventListener("click", () => handlers.onIgnore(names(true)), { signal });
    this.box = h(
      "div",
      {
        class:
          "lc-stale lc:flex lc:flex-wrap lc:items-start lc:gap-x-3 lc:gap-y-1.5 lc:mb-1.5 lc:py-1.5 lc:px-3 " +
          "lc:rounded-item lc:border lc:border-line-strong lc:bg-side lc:text-note lc:text-fg",
        role: "group",
        "aria-label": "Changed context",
        hidden: true,
      },
      h("span", { class: "lc:text-muted lc:mt-0.5 lc:shrink-0" }, icon("alert", 14)),
      h("div", { class: "lc:flex-1 lc:min-w-0 lc:wrap-anywhere" }, this.list),
      h("div", { class: "lc:flex lc:gap-1.5 lc:ms-auto lc:shrink-0" }, this.refresh, this.ignore),
    );
    this.announcer = h("div", { class: "lc:sr-only", role: "status", "aria-live": "polite", "aria-atomic": "true" });
    this.el = h("div", { class: "lc-stale-wrap" }, this.box, this.announcer);
  }

  /** Show `items` (none: the badge hides). */
  show(items: StaleItem[]): void {
    this.items = items;
    this.box.hidden = !items.length;
    this.list.replaceChildren(
      ...items.map((item) =>
        h(
          "li",
          { class: "lc-stale-item", "data-name": item.name },
          h("code", { class: "lc:font-mono lc:font-semibold" }, item.name),
          item.gone ? " is no longer in the kernel" : " changed since the model saw it: ",
          ...(item.gone ? [] : withCode(item.change)),
        ),
      ),
    );
    const refreshable = items.filter((i) => !i.gone);
    this.refresh.hidden = !refreshable.length;
    const what = (list: StaleItem[]) => (list.length === 1 ? list[0].name : `${list.length} items`);
    this.refresh.setAttribute("aria-label", `Refresh ${what(refreshable)}`);
    this.refresh.title = "Attach the new values to your next message";
    this.ignore.setAttribute("aria-label", `Ignore ${what(items)}`);
    this.ignore.title = "Send without them (until they change again)";
    // Read out when the list changes, not on every redraw.
    const said = items.map((i) => (i.gone ? `${i.name} is no longer in the kernel` : staleText(i))).join(". ");
    if (said !== this.said) this.announcer.textContent = said;
    this.said = said;
  }

  get shown(): StaleItem[] {
    return [...this.items];
  }
}
