// The composer: an auto-growing textarea ("Message"); Enter sends, Shift+Enter inserts
// a newline, IME composition is never interrupted; Send becomes Stop while busy.
// Text over the kernel's limit is never cut by the browser (no maxlength) nor thrown
// away: it stays here, is not sent, and a note says how much to cut. Files ride along
// (composer_files.ts): chips above the text, sent as the message's binary buffers.
// Above the box, context the model saw that changed since (stale_badge.ts).
import type { PendingFile } from "../attachments";
import { h, icon } from "../dom";
import type { ContextChip, ContextGauge, ContextItem, Message, PromptPayload, StaleItem } from "../types";
import { ComposerFiles } from "./composer_files";
import { ContextGaugeView } from "./context_gauge";
import { ContextPicker } from "./context_picker";
import { type SlashHandlers, SlashMenu } from "./slash_menu";
import { StaleBadge } from "./stale_badge";
import { FOCUS } from "./ui";

export interface ComposerState {
  busy: boolean;
  /** The `@` picker of kernel context is offered. */
  contextEnabled?: boolean;
  /** The chat shown and its messages: a send with files is accepted once they show its message. */
  chatId?: string;
  messages?: readonly Message[];
  /** The `/` templates (the `prompt_templates` trait). */
  prompts?: readonly PromptPayload[];
  /** The chat's context that changed since the model saw it (`stale_context`). */
  stale?: StaleItem[];
  /** How full the next request would be (the `context_gauge` trait). */
  gauge?: ContextGauge | null;
}

export interface ComposerHandlers {
  onSend: (text: string, context: string[], files: PendingFile[]) => void;
  /** False: the message cannot go yet (e.g. Compare with too few models); it stays here. */
  canSend?: () => boolean;
  onStop: () => void;
  /** What the kernel offers for the `@` picker now (a request with an answer). */
  listContext?: () => Promise<ContextItem[]>;
  /** The `/` menu's actions and the kernel's prompt folders (slash_menu.ts). */
  slash?: Omit<SlashHandlers, "listContext">;
  /** Ignore on the stale-context badge: the kernel hides them until they change again. */
  onIgnoreStale?: (names: string[]) => void;
  /** "Continue without oldest turns" (the gauge, from 80 % of the context window). */
  onTrim?: () => void;
}

const MAX_HEIGHT_PX = 200;
/** The kernel's limit for a message, in characters (code points, as Python counts). */
export const MAX_TEXT = 100_000;

/** Characters as the kernel counts them: code points (a UTF-16 pair is one). */
export function countChars(text: string): number {
  // Never more code points than UTF-16 units: only long texts need counting.
  if (text.length <= MAX_TEXT) return text.length;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // a high surrogate followed by a low one is one character
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

export class Composer {
  readonly el: HTMLElement;
  readonly textarea: HTMLTextAreaElement;
  readonly button: HTMLButtonElement;
  private busy = false;
  private counter: HTMLElement;
  private hint: HTMLElement;
  /** Shown while the text is over MAX_TEXT: how much to cut (the text stays). */
  readonly tooLong: HTMLElement;
  private chars = 0;
  /** Reads the note out when the text goes over the limit, and on a refused send. */
  private announcer: HTMLElement;
  readonly picker: ContextPicker;
  readonly files: ComposerFiles;
  readonly slash: SlashMenu;
  readonly stale: StaleBadge;
  private staleItems: StaleItem[] = [];
  /** Refreshed with the last send, or ignored: hidden until the kernel's list changes. */
  private settled = new Set<string>();
  readonly gauge: ContextGaugeView;

  constructor(
    private handlers: ComposerHandlers,
    signal: AbortSignal,
  ) {
    this.textarea = h("textarea", {
      class:
        "lc-input lc:flex-1 lc:min-w-0 lc:min-h-[34px] lc:max-h-[200px] lc:py-1.5 lc:px-0 lc:border-0 lc:outline-none " +
        "lc:bg-transparent lc:resize-none lc:overflow-y-hidden lc:text-body lc:leading-normal lc:placeholder:text-muted",
      rows: 1,
      "aria-label": "Message",
      placeholder: "Message",
      enterkeyhint: "send",
    });
    // Send (accent), disabled while the box is empty, Stop (.lc-send-stop) while a reply streams.
    this.button = h("button", {
      type: "button",
      class:
        "lc-send lc:grid lc:place-items-center lc:shrink-0 lc:size-[34px] lc:rounded-item lc:bg-accent lc:text-on-accent " +
        "lc:transition-colors lc:duration-150 lc:enabled:hover:bg-accent-hover lc:disabled:bg-line lc:disabled:text-muted lc:disabled:cursor-default " +
        `lc:[&.lc-send-stop]:bg-fg lc:[&.lc-send-stop]:text-surface ${FOCUS}`,
    });
    this.counter = h("span", { class: "lc-counter lc:tabular-nums", hidden: true });
    this.hint = h("span", { class: "lc:@max-compact:hidden" }, "Enter to send · Shift+Enter for a new line");
    this.announcer = h("div", { class: "lc:sr-only", role: "status", "aria-live": "polite", "aria-atomic": "true" });
    this.tooLong = h("span", { class: "lc-too-long lc:text-danger-fg lc:font-semibold", hidden: true });
    this.picker = new ContextPicker(this.textarea, () => this.handlers.listContext?.() ?? Promise.resolve([]), signal);
    this.slash = new SlashMenu(
      this.textarea,
      this.picker,
      {
        run: (action) => this.handlers.slash?.run(action),
        refresh: () => this.handlers.slash?.refresh(),
        listContext: () => this.handlers.listContext?.() ?? Promise.resolve([]),
      },
      signal,
    );
    this.stale = new StaleBadge(
      {
        onRefresh: (names) => {
          this.picker.add(names); // chips: the badge hides them (drawStale)
          this.focus();
        },
        onIgnore: (names) => {
          for (const name of names) this.settled.add(name);
          this.handlers.onIgnoreStale?.(names);
          this.drawStale();
          this.focus();
        },
      },
      signal,
    );
    this.picker.onChange = () => this.drawStale();
    // Send waits while files are read.
    this.files = new ComposerFiles(this.textarea, () => this.busy || this.drawButton(), signal);
    this.gauge = new ContextGaugeView(() => this.handlers.onTrim?.(), signal);
    const row = h(
      "div",
      {
        class: "lc-composer-row lc:flex lc:items-end lc:gap-2 lc:py-1.5 lc:pr-1.5 lc:pl-3.5",
      },
      this.files.button,
      this.textarea,
      this.button,
    );
    const box = h(
      "div",
      {
        class:
          "lc-composer-box lc:bg-surface lc:border lc:border-line-strong " +
          "lc:rounded-composer lc:shadow-float lc:transition-[border-color,box-shadow] lc:duration-150 " +
          "lc:focus-within:border-accent lc:focus-within:ring-3 lc:focus-within:ring-accent/25",
      },
      this.files.chipsEl,
      this.picker.chipsEl,
      row,
    );
    this.el = h(
      "div",
      {
        class:
          "lc-composer lc:relative lc:shrink-0 lc:w-full lc:max-w-[calc(48rem+32px)] lc:mx-auto lc:pt-1.5 lc:px-4 lc:pb-2.5 " +
          "lc:@max-compact:px-2 lc:@max-compact:pb-2",
      },
      this.picker.popup,
      this.slash.popup,
      this.stale.el,
      box,
      h(
        "div",
        {
          // At compact widths only the character counter and the gauge are worth the room.
          class:
            "lc:flex lc:flex-wrap lc:items-center lc:justify-center lc:gap-x-3 lc:gap-y-1 lc:mt-[5px] lc:text-micro " +
            "lc:text-muted lc:@max-compact:not-has-[.lc-counter:not([hidden]),.lc-gauge:not([hidden])]:hidden",
        },
        this.gauge.el,
        this.hint,
        this.tooLong,
        this.counter,
      ),
      this.files.note,
      this.slash.note,
      this.announcer,
      this.files.input,
    );
    this.textarea.addEventListener("input", () => this.onInput(), { signal });
    this.textarea.addEventListener("keydown", (e) => this.onKeydown(e), { signal });
    this.button.addEventListener("click", () => (this.busy ? this.handlers.onStop() : this.submit()), { signal });
    this.drawButton();
  }

  update(s: ComposerState): void {
    this.picker.setEnabled(!!s.contextEnabled);
    this.slash.update(s.prompts ?? [], !!s.contextEnabled);
    if (s.messages) this.files.seen(s.chatId ?? "", s.messages);
    if (s.stale && s.stale !== this.staleItems) {
      this.staleItems = s.stale;
      this.settled.clear();
      this.drawStale();
    }
    this.gauge.update(s.gauge, s.busy);
    if (s.busy !== this.busy) {
      this.busy = s.busy;
      this.drawButton();
    }
  }

  focus(): void {
    this.textarea.focus({ preventScroll: true });
  }

  /** A ready message (the kernel's draft): the text, its context chips; then focus and show. */
  fill(text: string, chips: readonly ContextChip[]): void {
    this.textarea.value = text;
    this.picker.addChips(chips);
    this.onInput();
    this.textarea.focus({ preventScroll: true });
    this.textarea.setSelectionRange(text.length, text.length);
    // Shown once laid out: a view drawn just now (a chat under the button) has no place yet.
    const reveal = () => this.el.isConnected && this.el.scrollIntoView?.({ block: "nearest" });
    reveal();
    if (typeof requestAnimationFrame === "function") requestAnimationFrame(() => requestAnimationFrame(reveal));
  }

  private onKeydown(e: KeyboardEvent): void {
    // Keys typed here belong to the widget: JupyterLab's command-mode shortcuts must not fire.
    e.stopPropagation();
    if (e.isComposing || e.keyCode === 229) return;
    if (this.picker.onKeydown(e) || this.slash.onKeydown(e)) return;
    if (e.key === "Backspace" && this.atEmptyStart() && this.files.removeLast()) {
      e.preventDefault();
      return;
    }
    if (e.key !== "Enter" || e.shiftKey || e.altKey || e.ctrlKey || e.metaKey) return;
    // IME: Enter that confirms a composition is not a send.
    if (e.isComposing || e.keyCode === 229) return;
    e.preventDefault();
    this.submit(); // while busy only a `/` command (submit says)
  }

  private atEmptyStart(): boolean {
    const ta = this.textarea;
    return ta.value === "" && ta.selectionStart === 0 && ta.selectionEnd === 0;
  }

  /** The text is over the kernel's limit: it cannot be sent as it is. */
  get overLimit(): boolean {
    return this.chars > MAX_TEXT;
  }

  private submit(): void {
    const text = this.textarea.value;
    if (!text.trim() || this.files.busy) return;
    if (this.slash.intercept()) return; // `/name …`: a command or a template, not a message
    if (this.busy) return;
    if (this.overLimit) {
      // Refused here, not by the kernel: the text stays to be trimmed.
      this.announce(true);
      return;
    }
    if (this.handlers.canSend?.() === false) return;
    this.handlers.onSend(text, this.picker.names(), this.files.take());
    for (const name of this.picker.names()) this.settled.add(name); // sent fresh
    this.picker.clear();
    this.textarea.value = "";
    this.onInput();
  }

  private onInput(): void {
    this.picker.onInput();
    this.slash.onInput();
    const ta = this.textarea;
    ta.style.height = "auto";
    const sh = ta.scrollHeight;
    if (sh > 0) ta.style.height = `${Math.min(sh, MAX_HEIGHT_PX)}px`;
    ta.style.overflowY = sh > MAX_HEIGHT_PX ? "auto" : "hidden";
    const wasOver = this.overLimit;
    const n = countChars(ta.value);
    this.chars = n;
    this.counter.hidden = n < MAX_TEXT * 0.9;
    this.counter.textContent = `${n.toLocaleString()} / ${MAX_TEXT.toLocaleString()}`;
    this.counter.classList.toggle("lc:text-danger-fg", n > MAX_TEXT);
    this.drawTooLong();
    if (this.overLimit !== wasOver) this.announce(false);
    if (!this.busy) this.drawButton();
  }

  private drawTooLong(): void {
    const over = this.chars - MAX_TEXT;
    this.tooLong.hidden = over <= 0;
    this.hint.hidden = over > 0;
    this.tooLong.textContent =
      over > 0
        ? `Too long to send: at most ${MAX_TEXT.toLocaleString()} characters. ` +
          `Cut ${over.toLocaleString()} character${over === 1 ? "" : "s"}.`
        : "";
  }

  /** Say (to a screen reader) why the text cannot be sent, or that it now can. */
  private announce(again: boolean): void {
    const text = this.overLimit ? this.tooLong.textContent || "" : "";
    // The same text twice is not read again: clear first on a repeated send.
    if (again) this.announcer.textContent = "";
    this.announcer.textContent = text;
  }

  /** The stale items neither attached again (chips) nor settled since the kernel said. */
  private drawStale(): void {
    const attached = new Set(this.picker.names());
    this.stale.show(this.staleItems.filter((i) => !attached.has(i.name) && !this.settled.has(i.name)));
  }

  private drawButton(): void {
    const b = this.button;
    const label = this.busy ? "Stop" : "Send";
    b.setAttribute("aria-label", label);
    b.title = this.busy ? "Stop the reply (Esc)" : "Send (Enter)";
    b.classList.toggle("lc-send-stop", this.busy);
    b.disabled = !this.busy && (!this.textarea.value.trim() || this.overLimit || this.files.busy);
    b.replaceChildren(icon(this.busy ? "stop" : "send", 16));
  }
}
