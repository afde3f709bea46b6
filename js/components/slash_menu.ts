// The `/` menu of the composer: `/` as the first character lists the prompt templates
// (the kernel's `prompt_templates`: built-ins and the person's files) and the chat's
// actions (/new, /clear, /model NAME, /system TEXT), filtered as the name is typed.
// Arrow keys / Enter / Tab or the mouse choose; Escape closes it and leaves the text as
// it is (sent as written). A template fills the composer (slash.ts: `@` items the kernel
// offers fill their placeholders and come along as chips; a typed value fills the first
// one left; the rest are selected in turn with Tab) — nothing goes to the model before
// Send. An action runs at once; one missing its value says what to type.
import { h } from "../dom";
import {
  type Expansion,
  type SlashEntry,
  type SlashRun,
  actionRun,
  entries,
  expand,
  filterEntries,
  nextPlaceholder,
  parseSlash,
  placeholderRanges,
} from "../slash";
import type { ContextItem, PromptPayload } from "../types";
import type { ContextPicker } from "./context_picker";
import { listKey, showList } from "./ui";

export interface SlashHandlers {
  /** Run an action; a text back is why it could not run (shown, nothing sent). */
  run: (action: SlashRun) => string | undefined;
  /** What the kernel offers for `@` now (only asked when kernel context is on). */
  listContext: () => Promise<ContextItem[]>;
  /** The menu opened: the kernel reads the prompt folders again if they changed. */
  refresh: () => void;
}

let menuCounter = 0;

export class SlashMenu {
  readonly popup: HTMLElement;
  /** Under the composer: what an action is missing, what to fill in. */
  readonly note: HTMLElement;
  private list: HTMLElement;
  private prompts: readonly PromptPayload[] = [];
  private all: SlashEntry[] = entries([]);
  private shown: SlashEntry[] = [];
  private active = 0;
  private open = false;
  private contextEnabled = false;
  /** Text the person kept as it is (Escape): not a command until it changes. */
  private dismissed: string | null = null;
  /** The composer holds an expanded template: Tab moves between its placeholders. */
  private filling = false;
  private readonly uid = `lc-slash-${++menuCounter}`;

  constructor(
    private textarea: HTMLTextAreaElement,
    private picker: ContextPicker,
    private handlers: SlashHandlers,
    signal: AbortSignal,
  ) {
    this.list = h("ul", {
      id: this.uid,
      class: "lc:m-0 lc:p-1 lc:list-none lc:max-h-[240px] lc:overflow-y-auto",
      role: "listbox",
      "aria-label": "Commands and prompts",
    });
    this.popup = h(
      "div",
      {
        class:
          "lc-slash-menu lc:absolute lc:z-20 lc:bottom-full lc:left-4 lc:right-4 lc:mb-1 lc:bg-surface lc:border lc:border-line-strong " +
          "lc:rounded-item lc:shadow-float lc:text-ui",
        hidden: true,
      },
      h("div", { class: "lc:px-3 lc:pt-2 lc:pb-1 lc:text-micro lc:text-muted" }, "Commands and prompts"),
      this.list,
    );
    this.note = h("div", {
      class: "lc-slash-note lc:pt-1.5 lc:px-3.5 lc:text-micro lc:text-muted lc:empty:hidden",
      role: "status",
      "aria-live": "polite",
    });
    this.list.addEventListener("mousedown", (e) => e.preventDefault(), { signal }); // keep the caret
    this.list.addEventListener(
      "click",
      (e) => {
        const li = (e.target as Element | null)?.closest?.("[data-index]");
        if (li) this.choose(this.shown[Number(li.getAttribute("data-index"))]);
      },
      { signal },
    );
  }

  update(prompts: readonly PromptPayload[], contextEnabled: boolean): void {
    this.contextEnabled = contextEnabled;
    if (prompts === this.prompts) return;
    this.prompts = prompts;
    this.all = entries(prompts);
    if (this.open) this.onInput();
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** After every input in the textarea: open, filter or close the menu. */
  onInput(): void {
    const ta = this.textarea;
    // The note goes once it is done with: the placeholders typed over, the command gone.
    if (this.filling && !placeholderRanges(ta.value).length) this.filling = false;
    if (!this.filling && !ta.value.startsWith("/")) this.say("");
    if (this.dismissed !== null && ta.value !== this.dismissed) this.dismissed = null;
    const typed = this.dismissed === null && !this.picker.isOpen ? parseSlash(ta.value) : null;
    if (!typed) {
      this.close();
      return;
    }
    this.shown = typed.spaced ? this.all.filter((e) => e.name === typed.name) : filterEntries(this.all, typed.name);
    if (typed.spaced && !this.shown.length) {
      this.close(); // "/usr/bin is…": not a command, just text
      return;
    }
    if (!this.open) {
      this.open = true;
      this.active = 0;
      this.handlers.refresh();
    }
    if (this.active >= this.shown.length) this.active = 0;
    this.draw(typed.name);
  }

  /** Keys while the menu is open, or Tab between placeholders; true when the key was ours. */
  onKeydown(e: KeyboardEvent): boolean {
    if (!this.open) return this.onPlaceholderKey(e);
    const key = listKey(e, this.shown.length, this.active);
    if (key === null) return false;
    if (key === "choose") {
      this.choose(this.shown[this.active]);
    } else if (key === "close") {
      this.dismissed = this.textarea.value;
      this.close();
    } else {
      this.active = key.move;
      this.draw(parseSlash(this.textarea.value)?.name ?? "");
    }
    e.preventDefault();
    return true;
  }

  /**
   * Before the composer sends: a `/name …` the person did not keep as text (Escape) is a
   * command, run or expanded here instead of sent. True when it was one.
   */
  intercept(): boolean {
    const value = this.textarea.value;
    const typed = value !== this.dismissed ? parseSlash(value) : null;
    const entry = typed ? this.all.find((e) => e.name === typed.name) : undefined;
    if (!entry) return false;
    this.choose(entry);
    return true;
  }

  close(): void {
    if (!this.open && this.popup.hidden) return;
    this.open = false;
    this.popup.hidden = true;
    this.textarea.removeAttribute("data-lc-own-esc");
    this.textarea.removeAttribute("aria-activedescendant");
  }

  /** The `@` names the kernel offers now ([] when kernel context is off or it refused). */
  private async offered(prompt: PromptPayload, value: string): Promise<string[]> {
    if (!this.contextEnabled || !(prompt.placeholders.length || prompt.context.length || value)) return [];
    this.say("Asking the kernel what it holds…");
    try {
      return (await this.handlers.listContext()).map((i) => i.name);
    } catch {
      return []; // refused (the banner says why) or dropped: the template expands without items
    }
  }

  private choose(entry: SlashEntry | undefined): void {
    if (!entry) return;
    const ta = this.textarea;
    const value = parseSlash(ta.value)?.value ?? "";
    if (entry.kind === "template") {
      this.close();
      void this.expandTemplate(entry.prompt, value);
      return;
    }
    const run = actionRun(entry, value);
    if (typeof run === "string") {
      // Missing its value: complete the name and say what to type.
      this.setText(`/${entry.name} `);
      this.say(run);
      return;
    }
    const refused = this.handlers.run(run);
    this.close();
    if (refused) {
      this.say(refused);
      return;
    }
    this.say("");
    this.setText("");
  }

  private async expandTemplate(prompt: PromptPayload, value: string): Promise<void> {
    const before = this.textarea.value;
    const offered = await this.offered(prompt, value);
    if (this.textarea.value !== before) return; // the person typed on meanwhile
    this.apply(expand(prompt, value, offered, this.picker.names()));
  }

  private apply(exp: Expansion): void {
    this.setText(exp.text);
    this.picker.add(exp.attach);
    this.filling = exp.unfilled.length > 0;
    const first = exp.unfilled[0];
    if (first) {
      this.textarea.setSelectionRange(first[0], first[1]);
      const more = exp.unfilled.length > 1 ? " (Tab: the next one)" : "";
      this.say(`Type over ${exp.text.slice(first[0], first[1])}${more}, then Send.`);
    } else {
      this.say("");
    }
  }

  /** Tab / Shift+Tab select the next / previous `{{x}}` of an expanded template. */
  private onPlaceholderKey(e: KeyboardEvent): boolean {
    if (!this.filling || e.key !== "Tab" || e.altKey || e.ctrlKey || e.metaKey) return false;
    const ta = this.textarea;
    const range = e.shiftKey
      ? nextPlaceholder(ta.value, ta.selectionStart, true)
      : nextPlaceholder(ta.value, ta.selectionEnd);
    if (!range) return false; // past the last one: Tab leaves the composer as usual
    e.preventDefault();
    ta.setSelectionRange(range[0], range[1]);
    return true;
  }

  private setText(text: string): void {
    const ta = this.textarea;
    ta.value = text;
    ta.setSelectionRange(text.length, text.length);
    ta.dispatchEvent(new Event("input")); // the composer resizes and redraws Send
    ta.focus();
  }

  private say(text: string): void {
    if (this.note.textContent !== text) this.note.textContent = text;
  }

  private draw(query: string): void {
    const rows = this.shown.map((entry, i) =>
      h(
        "li",
        {
          id: `${this.uid}-${i}`,
          role: "option",
          "aria-selected": i === this.active ? "true" : "false",
          "data-index": String(i),
          "data-name": entry.name,
          class:
            "lc-slash-option lc:flex lc:items-baseline lc:gap-2 lc:py-1 lc:px-2 lc:rounded-control lc:cursor-pointer " +
            "lc:hover:bg-hover lc:aria-selected:bg-active",
        },
        h(
          "span",
          { class: "lc:font-mono lc:text-fg lc:shrink-0" },
          `/${entry.name}${entry.kind === "action" && entry.arg ? ` ${entry.arg}` : ""}`,
        ),
        h("span", { class: "lc:text-micro lc:text-muted lc:truncate" }, entry.description),
        entry.kind === "template" && entry.prompt.source !== "built-in"
          ? h("span", { class: "lc:ms-auto lc:text-micro lc:text-muted lc:shrink-0" }, "yours")
          : null,
      ),
    );
    if (!rows.length) {
      const text = `No command or prompt named “/${query}”: Enter sends the text as it is`;
      rows.push(h("li", { class: "lc-slash-empty lc:py-1 lc:px-2 lc:text-muted", role: "presentation" }, text));
    }
    // A textarea takes aria-activedescendant (a textbox) but not aria-expanded (axe).
    showList(this.textarea, this.popup, this.list, this.uid, rows, this.shown.length ? this.active : null);
  }
}
