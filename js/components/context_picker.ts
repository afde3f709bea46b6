// The `@` picker of the composer: typing `@` (at the start or after a space) asks the
// kernel what it holds (`list_context`, a request with an answer) and lists it (variables, the last error, recent cells: names,
// kinds and sizes, never values). Arrow keys / Enter / Tab or the mouse choose an item,
// which becomes a removable chip; Escape closes the list. The chips' names go with the
// message; the kernel builds the context text from them.
import { h, icon } from "../dom";
import { whyFailed } from "../requests";
import type { ContextChip, ContextItem } from "../types";
import { FOCUS, listKey, showList } from "./ui";

const TRIGGER = /(^|\s)@([^\s@]*)$/;
const MAX_SHOWN = 50;
let pickerCounter = 0;

/** The `@query` just before the caret, or null. */
export function mentionAt(text: string, caret: number): { start: number; query: string } | null {
  const m = TRIGGER.exec(text.slice(0, caret));
  if (!m) return null;
  return { start: caret - m[2].length - 1, query: m[2] };
}

/** Items whose name contains the query (case-insensitive), names starting with it first. */
export function filterItems(items: ContextItem[], query: string): ContextItem[] {
  const q = query.toLowerCase();
  const hits = items.filter((i) => i.name.toLowerCase().includes(q));
  return hits.sort((a, b) => Number(!a.name.toLowerCase().startsWith(q)) - Number(!b.name.toLowerCase().startsWith(q)));
}

export class ContextPicker {
  readonly chipsEl: HTMLElement;
  readonly popup: HTMLElement;
  private list: HTMLElement;
  private chosen: string[] = [];
  /** The text a chip attaches, when the kernel put it there (a draft): shown on demand. */
  private previews = new Map<string, string>();
  private expanded = "";
  private enabled = false;
  // The kernel's last answer (kept while a new one is asked for), or why it failed.
  private items: ContextItem[] = [];
  private failed = "";
  private open = false;
  private waiting = false; // asked the kernel, no answer yet
  private shown: ContextItem[] = [];
  private active = 0;
  private mention: { start: number; query: string } | null = null;
  private readonly uid = `lc-picker-${++pickerCounter}`;
  /** Called when the chips change (the stale-context badge hides the ones attached). */
  onChange: () => void = () => {};

  constructor(
    private textarea: HTMLTextAreaElement,
    private listItems: () => Promise<ContextItem[]>,
    signal: AbortSignal,
  ) {
    this.chipsEl = h("div", {
      class: "lc-context-chips lc:flex lc:flex-wrap lc:gap-1 lc:pt-1.5 lc:px-3 lc:empty:hidden",
      // A label needs a role to mean anything (axe: aria-prohibited-attr on a bare div).
      role: "group",
      "aria-label": "Attached context",
    });
    this.list = h("ul", {
      id: this.uid,
      class: "lc:m-0 lc:p-1 lc:list-none lc:max-h-[240px] lc:overflow-y-auto",
      role: "listbox",
      "aria-label": "Kernel context",
    });
    this.popup = h(
      "div",
      {
        class:
          "lc-context-picker lc:absolute lc:z-20 lc:bottom-full lc:left-4 lc:right-4 lc:mb-1 lc:bg-surface lc:border lc:border-line-strong " +
          "lc:rounded-item lc:shadow-float lc:text-ui",
        hidden: true,
      },
      h("div", { class: "lc:px-3 lc:pt-2 lc:pb-1 lc:text-micro lc:text-muted" }, "Attach from the kernel"),
      this.list,
    );
    this.list.addEventListener("mousedown", (e) => e.preventDefault(), { signal }); // keep the caret
    this.list.addEventListener(
      "click",
      (e) => {
        const li = (e.target as Element | null)?.closest?.("[data-name]");
        if (li) this.choose(li.getAttribute("data-name") ?? "");
      },
      { signal },
    );
  }

  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
    if (enabled) return;
    this.close();
    this.clear();
  }

  /** Chips the kernel chose (a draft), each with the text it attaches; false when off. */
  addChips(chips: readonly ContextChip[]): boolean {
    if (!this.enabled) return false;
    for (const chip of chips) {
      if (!this.chosen.includes(chip.name)) this.chosen.push(chip.name);
      this.previews.set(chip.name, chip.text);
    }
    this.drawChips();
    return true;
  }

  /** The names chosen for the next message. */
  names(): string[] {
    return [...this.chosen];
  }

  clear(): void {
    this.chosen = [];
    this.previews.clear();
    this.expanded = "";
    this.drawChips();
  }

  /** Attach `names` as chips, as if picked here (a `/` template's items, Refresh on the
   * stale-context badge); none while kernel context is off. */
  add(names: readonly string[]): void {
    if (!this.enabled) return;
    const added = names.filter((n) => !this.chosen.includes(n));
    if (!added.length) return;
    this.chosen.push(...added);
    this.drawChips();
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** After every input in the textarea: open, filter or close the list. */
  onInput(): void {
    if (!this.enabled) return;
    const ta = this.textarea;
    const mention = ta.selectionStart === ta.selectionEnd ? mentionAt(ta.value, ta.selectionStart) : null;
    if (!mention) {
      this.close();
      return;
    }
    if (!this.open) {
      this.open = true;
      this.active = 0;
      this.ask(); // the kernel's current list, not a stale one
    }
    if (this.mention?.query !== mention.query) this.active = 0;
    this.mention = mention;
    this.drawList();
  }

  /** Keys while the list is open; true when the key was the picker's. */
  onKeydown(e: KeyboardEvent): boolean {
    if (!this.open) return false;
    const key = listKey(e, this.shown.length, this.active);
    if (key === null) return false;
    if (key === "choose") {
      this.choose(this.shown[this.active].name);
    } else if (key === "close") {
      this.close();
    } else {
      this.active = key.move;
      this.drawList();
    }
    e.preventDefault();
    return true;
  }

  close(): void {
    if (!this.open && this.popup.hidden) return;
    this.open = false;
    this.mention = null;
    this.popup.hidden = true;
    this.textarea.removeAttribute("data-lc-own-esc");
    // (a closed list leaves no aria-expanded: axe allows it on a textarea only while it controls one)
    this.textarea.removeAttribute("aria-expanded");
    this.textarea.removeAttribute("aria-activedescendant");
  }

  private ask(): void {
    this.waiting = true;
    this.failed = "";
    this.listItems().then(
      (items) => this.receive(items, ""),
      (err: unknown) => {
        const error = whyFailed(err);
        if (error !== null) this.receive(this.items, error);
      },
    );
  }

  private receive(items: ContextItem[], failed: string): void {
    this.items = items;
    this.failed = failed;
    this.waiting = false;
    if (this.open) this.drawList();
  }

  private choose(name: string): void {
    const m = this.mention;
    if (!name || !m) return;
    const ta = this.textarea;
    const end = m.start + 1 + m.query.length;
    ta.value = ta.value.slice(0, m.start) + ta.value.slice(end);
    ta.setSelectionRange(m.start, m.start);
    if (!this.chosen.includes(name)) this.chosen.push(name);
    this.close();
    this.drawChips();
    ta.dispatchEvent(new Event("input")); // the composer resizes and redraws Send
    ta.focus();
  }

  private drawList(): void {
    const query = this.mention?.query ?? "";
    this.shown = filterItems(this.items, query).slice(0, MAX_SHOWN);
    if (this.active >= this.shown.length) this.active = 0;
    const rows = this.shown.map((item, i) => {
      const li = h(
        "li",
        {
          id: `${this.uid}-${i}`,
          role: "option",
          "aria-selected": i === this.active ? "true" : "false",
          "data-name": item.name,
          class:
            "lc-context-option lc:flex lc:items-baseline lc:gap-2 lc:py-1 lc:px-2 lc:rounded-control lc:cursor-pointer " +
            "lc:hover:bg-hover lc:aria-selected:bg-active",
        },
        h("span", { class: "lc:font-mono lc:text-fg lc:truncate" }, item.name),
        h("span", { class: "lc:text-micro lc:text-muted lc:shrink-0" }, item.kind),
        h("span", { class: "lc:ms-auto lc:text-micro lc:text-muted lc:shrink-0" }, item.detail),
      );
      return li;
    });
    if (!rows.length) {
      const text = this.waiting
        ? "Asking the kernel…"
        : this.failed
          ? this.failed
          : query
            ? `Nothing named “${query}”`
            : "Nothing to attach yet";
      rows.push(h("li", { class: "lc-context-empty lc:py-1 lc:px-2 lc:text-muted", role: "presentation" }, text));
    }
    showList(this.textarea, this.popup, this.list, this.uid, rows, this.shown.length ? this.active : null);
    this.textarea.setAttribute("aria-expanded", "true");
  }

  private drawChips(): void {
    const chips: HTMLElement[] = this.chosen.map((name) => this.chip(name));
    const text = this.previews.get(this.expanded);
    if (text !== undefined && this.chosen.includes(this.expanded)) {
      chips.push(
        h(
          "pre",
          {
            id: `${this.uid}-preview`,
            // scrollable, so reachable by keyboard
            tabindex: "0",
            role: "region",
            "aria-label": `What @${this.expanded} attaches`,
            class:
              "lc-chip-text lc:basis-full lc:m-0 lc:p-2 lc:max-h-[12em] lc:overflow-auto lc:whitespace-pre-wrap lc:wrap-anywhere lc:bg-code " +
              "lc:border lc:border-line lc:rounded-control lc:text-micro lc:text-fg lc:font-mono",
          },
          text,
        ),
      );
    }
    this.chipsEl.replaceChildren(...chips);
    this.onChange();
  }

  private chip(name: string): HTMLElement {
    const remove = h("button", {
      type: "button",
      class: `lc-chip-remove lc:inline-grid lc:place-items-center lc:size-4 lc:rounded-full lc:hover:bg-hover ${FOCUS}`,
      "aria-label": `Remove ${name}`,
      title: "Remove",
    });
    remove.append(icon("x", 10));
    remove.addEventListener("click", () => {
      this.chosen = this.chosen.filter((n) => n !== name);
      this.previews.delete(name);
      this.drawChips();
      this.textarea.focus();
    });
    const chipClass =
      "lc-chip lc:inline-flex lc:items-center lc:gap-1 lc:py-px lc:ps-2 lc:pe-1 lc:rounded-full lc:bg-active lc:text-accent " +
      "lc:text-micro lc:font-mono";
    if (!this.previews.has(name)) return h("span", { class: chipClass, "data-name": name }, `@${name}`, remove);
    // A chip the kernel put here: its name shows (and hides) the text it attaches.
    const open = this.expanded === name;
    const toggle = h(
      "button",
      {
        type: "button",
        class: `lc-chip-show lc:font-mono lc:text-accent lc:cursor-pointer lc:hover:underline ${FOCUS}`,
        "aria-expanded": open ? "true" : "false",
        // (only while the text is shown: aria-controls must name an element that exists)
        ...(open ? { "aria-controls": `${this.uid}-preview` } : {}),
        title: open ? "Hide the text it attaches" : "Show the text it attaches",
      },
      `@${name}`,
    );
    toggle.addEventListener("click", () => {
      this.expanded = open ? "" : name;
      this.drawChips();
    });
    return h("span", { class: chipClass, "data-name": name }, toggle, remove);
  }
}
