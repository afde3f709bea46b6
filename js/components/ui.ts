// Utility-class recipes shared by several components (Tailwind v4, prefixed `lc:`; the
// tokens — surface, fg, muted, line, accent, ... — are defined in styles.css). Written
// out in full so Tailwind's scanner finds every class.
import { h, icon } from "../dom";

/** Keyboard focus ring (also the `lc-focus` hook for tests and tooling). */
export const FOCUS =
  "lc-focus lc:focus-visible:outline-2 lc:focus-visible:outline-offset-2 lc:focus-visible:outline-accent";

/** The focus ring drawn inside the element (rows, the message log). */
export const FOCUS_INSET =
  "lc-focus lc:focus-visible:outline-2 lc:focus-visible:-outline-offset-2 lc:focus-visible:outline-accent";

/** A square icon button (32 px; pass a size class to change it). */
export function iconButton(extra = "lc:size-8 lc:text-muted"): string {
  return (
    "lc-icon-btn lc:inline-grid lc:place-items-center lc:shrink-0 lc:rounded-control " +
    `lc:hover:bg-hover lc:hover:text-fg ${FOCUS} ${extra}`
  );
}

/** A small text button (Cancel, Delete in the confirm step). */
export const SMALL_BUTTON = `lc:h-7 lc:px-3 lc:rounded-control lc:text-note lc:font-semibold ${FOCUS}`;

/** Lists without bullets or indentation (chat list, search results). */
export const PLAIN_LIST = "lc:m-0 lc:p-0 lc:list-none lc:flex lc:flex-col lc:gap-0.5";

/** A code block's toolbar button (Copy, Run, Insert as cell, …): a small icon and a short text. */
export const TOOL_BUTTON =
  "lc:inline-flex lc:shrink-0 lc:whitespace-nowrap lc:items-center lc:gap-[5px] lc:h-[26px] lc:px-2 lc:rounded-md " +
  "lc:text-xs lc:text-muted lc:enabled:hover:bg-hover lc:enabled:hover:text-fg lc:disabled:opacity-60 " +
  `lc:disabled:cursor-default ${FOCUS}`;

/** What a button with an icon and a text shows; `label` is its accessible name (kept when the text changes). */
export interface ButtonFace {
  icon: string;
  iconSize: number;
  text: string;
  /** Classes of the text's span (e.g. hidden at narrow widths). */
  textClass?: string;
}

/** The one recipe for a button with an icon and a text: code-block tools and message actions. */
export function textButton(
  face: ButtonFace,
  attrs: { class: string; label: string; title: string; hidden?: boolean },
): HTMLButtonElement {
  const b = h("button", {
    type: "button",
    class: attrs.class,
    "aria-label": attrs.label,
    title: attrs.title,
    hidden: attrs.hidden,
  });
  setButtonFace(b, face);
  return b;
}

/** Redraw a button's icon and text (its name stays). */
export function setButtonFace(b: HTMLButtonElement, face: ButtonFace): void {
  b.replaceChildren(icon(face.icon, face.iconSize), h("span", { class: face.textClass ?? "" }, face.text));
}

/** Show `text` in place of the button's text for a moment ("Copied"). */
export function flashText(b: HTMLButtonElement, text: string, ms = 1500): void {
  const span = b.querySelector("span");
  if (!span) return;
  const before = span.dataset.lcText ?? span.textContent ?? "";
  span.dataset.lcText = before;
  span.textContent = text;
  setTimeout(() => {
    span.textContent = before;
    delete span.dataset.lcText;
  }, ms);
}

/** What a key does in an open pop-up list (the `@` picker, the `/` menu); null: not ours. */
export type ListKey = { move: number } | "choose" | "close" | null;

/** Arrows move (wrapping) among `count` options, Enter or Tab chooses, Escape closes. */
export function listKey(e: KeyboardEvent, count: number, active: number): ListKey {
  if (e.key === "ArrowDown" || e.key === "ArrowUp") {
    return { move: count ? (active + (e.key === "ArrowDown" ? 1 : count - 1)) % count : active };
  }
  if ((e.key === "Enter" || e.key === "Tab") && !e.shiftKey && count) return "choose";
  return e.key === "Escape" ? "close" : null;
}

/**
 * Show a pop-up list's `rows` (ids `${uid}-${i}`) over the message box, which keeps the
 * focus: the box owns Escape while the list is open, controls the list and names its
 * active option (`active` null: no option to choose), scrolled into view.
 */
export function showList(
  textarea: HTMLTextAreaElement,
  popup: HTMLElement,
  list: HTMLElement,
  uid: string,
  rows: HTMLElement[],
  active: number | null,
): void {
  list.replaceChildren(...rows);
  popup.hidden = false;
  textarea.setAttribute("data-lc-own-esc", "");
  textarea.setAttribute("aria-controls", uid);
  if (active !== null) {
    textarea.setAttribute("aria-activedescendant", `${uid}-${active}`);
    rows[active]?.scrollIntoView?.({ block: "nearest" });
  } else {
    textarea.removeAttribute("aria-activedescendant");
  }
}
