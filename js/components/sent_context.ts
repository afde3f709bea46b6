// The kernel context sent with a user message, as chips under it: each chip expands to
// show exactly the text the model received for that item.
import { h } from "../dom";
import type { ContextChip } from "../types";
import { FOCUS } from "./ui";

export function sentContext(chips: ContextChip[]): HTMLElement | null {
  if (!chips.length) return null;
  return h(
    "div",
    { class: "lc-sent-context lc:flex lc:flex-col lc:items-end lc:gap-1 lc:mt-1.5", "aria-label": "Context sent" },
    ...chips.map((chip) =>
      h(
        "details",
        { class: "lc-sent-chip lc:max-w-full lc:text-micro", "data-name": chip.name },
        h(
          "summary",
          {
            class: `lc:inline-flex lc:items-center lc:gap-1 lc:py-px lc:px-2 lc:rounded-full lc:bg-active lc:text-accent lc:font-mono lc:cursor-pointer ${FOCUS}`,
            title: "Show the text the model received",
          },
          `@${chip.name}`,
          h("span", { class: "lc:text-muted lc:font-ui" }, chip.kind),
        ),
        h(
          "pre",
          {
            class:
              "lc-sent-text lc:mt-1 lc:mb-0 lc:p-2 lc:max-h-[16em] lc:overflow-auto lc:whitespace-pre-wrap lc:text-left lc:bg-code " +
              "lc:border lc:border-line lc:rounded-control lc:text-fg lc:font-mono",
          },
          chip.text,
        ),
      ),
    ),
  );
}
