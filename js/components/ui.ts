// Utility-class recipes shared by several components (Tailwind v4, prefixed `lc:`; the
// tokens — surface, fg, muted, line, accent, ... — are defined in styles.css). Written
// out in full so Tailwind's scanner finds every class.

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
