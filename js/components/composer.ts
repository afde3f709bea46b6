// The composer: an auto-growing textarea ("Message"); Enter sends, Shift+Enter inserts
// a newline, IME composition is never interrupted; Send becomes Stop while busy.
import { h, icon } from "../dom";

export interface ComposerState {
  busy: boolean;
}

const MAX_HEIGHT_PX = 200;
export const MAX_TEXT = 100_000;

export class Composer {
  readonly el: HTMLElement;
  readonly textarea: HTMLTextAreaElement;
  readonly button: HTMLButtonElement;
  private busy = false;
  private counter: HTMLElement;

  constructor(
    private handlers: { onSend: (text: string) => void; onStop: () => void },
    signal: AbortSignal,
  ) {
    this.textarea = h("textarea", {
      class: "lc-input", rows: 1, "aria-label": "Message", placeholder: "Message", maxlength: MAX_TEXT,
      enterkeyhint: "send",
    });
    this.button = h("button", { type: "button", class: "lc-send lc-focus" });
    this.counter = h("span", { class: "lc-counter", hidden: true });
    const box = h("div", { class: "lc-composer-box" }, this.textarea, this.button);
    this.el = h(
      "div",
      { class: "lc-composer" },
      box,
      h("div", { class: "lc-composer-hint" }, h("span", { class: "lc-hint-keys" }, "Enter to send · Shift+Enter for a new line"), this.counter),
    );
    this.textarea.addEventListener("input", () => this.onInput(), { signal });
    this.textarea.addEventListener("keydown", (e) => this.onKeydown(e), { signal });
    this.button.addEventListener("click", () => (this.busy ? this.handlers.onStop() : this.submit()), { signal });
    this.drawButton();
  }

  update(s: ComposerState): void {
    if (s.busy !== this.busy) {
      this.busy = s.busy;
      this.drawButton();
    }
  }

  focus(): void {
    this.textarea.focus({ preventScroll: true });
  }

  private onKeydown(e: KeyboardEvent): void {
    // Keys typed here belong to the widget: JupyterLab's command-mode shortcuts must not fire.
    e.stopPropagation();
    if (e.key !== "Enter" || e.shiftKey || e.altKey || e.ctrlKey || e.metaKey) return;
    // IME: Enter that confirms a composition is not a send.
    if (e.isComposing || e.keyCode === 229) return;
    e.preventDefault();
    if (!this.busy) this.submit();
  }

  private submit(): void {
    const text = this.textarea.value;
    if (!text.trim() || this.busy) return;
    this.handlers.onSend(text);
    this.textarea.value = "";
    this.onInput();
  }

  private onInput(): void {
    const ta = this.textarea;
    ta.style.height = "auto";
    const sh = ta.scrollHeight;
    if (sh > 0) ta.style.height = `${Math.min(sh, MAX_HEIGHT_PX)}px`;
    ta.style.overflowY = sh > MAX_HEIGHT_PX ? "auto" : "hidden";
    const n = ta.value.length;
    this.counter.hidden = n < MAX_TEXT * 0.9;
    this.counter.textContent = `${n.toLocaleString()} / ${MAX_TEXT.toLocaleString()}`;
    if (!this.busy) this.drawButton();
  }

  private drawButton(): void {
    const b = this.button;
    const label = this.busy ? "Stop" : "Send";
    b.setAttribute("aria-label", label);
    b.title = this.busy ? "Stop the reply (Esc)" : "Send (Enter)";
    b.classList.toggle("lc-send-stop", this.busy);
    b.disabled = !this.busy && !this.textarea.value.trim();
    b.replaceChildren(icon(this.busy ? "stop" : "send", 16));
  }
}
