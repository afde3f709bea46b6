// Editing a sent user message in place: Enter saves (a new version of the turn, with a
// new reply), Shift+Enter inserts a line break, Esc cancels. Nothing typed is lost: a
// save the kernel would refuse (a reply still streaming, an empty text) keeps the
// editor open and says why.
import { h } from "../dom";
import { SMALL_BUTTON } from "./ui";

export type EditKey = "save" | "cancel" | null;

type KeyLike = Pick<KeyboardEvent, "key" | "shiftKey" | "altKey" | "ctrlKey" | "metaKey" | "isComposing" | "keyCode">;

/** What a key pressed in the editor does. */
export function editKeyAction(e: KeyLike): EditKey {
  if (e.isComposing || e.keyCode === 229) return null; // IME: Enter confirms a composition
  const plain = !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey;
  if (e.key === "Escape" && plain) return "cancel";
  if (e.key === "Enter" && plain) return "save";
  return null;
}

export type EditOutcome = { kind: "save"; text: string } | { kind: "unchanged" } | { kind: "refused"; reason: string };

/** Whether a draft can be saved: unchanged text just closes the editor. */
export function editOutcome(original: string, draft: string, busy: boolean): EditOutcome {
  if (draft === original) return { kind: "unchanged" };
  if (!draft.trim()) return { kind: "refused", reason: "The message is empty." };
  if (busy) return { kind: "refused", reason: "A reply is still streaming: stop it first, then save." };
  return { kind: "save", text: draft };
}

export interface EditorHandlers {
  onSave: (text: string) => void;
  /** `saved`: the edit went to the kernel (focus is the saver's business then). */
  onClose: (saved: boolean) => void;
  isBusy: () => boolean;
}

export class MessageEditor {
  readonly el: HTMLElement;
  readonly textarea: HTMLTextAreaElement;
  private note: HTMLElement;
  private original = "";

  constructor(
    private handlers: EditorHandlers,
    signal?: AbortSignal,
  ) {
    this.textarea = h("textarea", {
      class:
        "lc-edit-input lc:block lc:w-full lc:min-h-[4.5em] lc:max-h-[50vh] lc:resize-y lc:p-0 lc:bg-transparent " +
        "lc:text-inherit lc:[font:inherit] lc:leading-normal lc:border-0 lc:outline-none",
      "aria-label": "Edit message",
      rows: 3,
      // The app's Esc (stop a reply, close the drawer) leaves this field alone.
      "data-lc-own-esc": "",
    });
    this.note = h("p", { class: "lc-edit-note lc:m-0 lc:text-meta lc:text-danger-fg", role: "status", hidden: true });
    const cancel = h("button", { type: "button", class: `${SMALL_BUTTON} lc:hover:bg-hover` }, "Cancel");
    const save = h(
      "button",
      { type: "button", class: `${SMALL_BUTTON} lc:bg-accent lc:text-on-accent`, "aria-label": "Save edit" },
      "Save",
    );
    this.el = h(
      "div",
      { class: "lc-editor lc:flex lc:flex-col lc:gap-1.5" },
      this.textarea,
      this.note,
      h(
        "div",
        { class: "lc:flex lc:items-center lc:justify-end lc:gap-1.5" },
        h(
          "span",
          { class: "lc:me-auto lc:text-meta lc:opacity-75 lc:@max-compact:hidden" },
          "Enter to save · Esc to cancel",
        ),
        cancel,
        save,
      ),
    );
    this.textarea.addEventListener(
      "keydown",
      (e) => {
        e.stopPropagation(); // keys typed here are not JupyterLab shortcuts
        const action = editKeyAction(e);
        if (!action) return;
        e.preventDefault();
        if (action === "save") this.save();
        else this.handlers.onClose(false);
      },
      { signal },
    );
    cancel.addEventListener("click", () => this.handlers.onClose(false), { signal });
    save.addEventListener("click", () => this.save(), { signal });
  }

  open(text: string): void {
    this.original = text;
    this.textarea.value = text;
    this.note.hidden = true;
    this.textarea.focus();
    this.textarea.setSelectionRange(text.length, text.length);
  }

  save(): void {
    const outcome = editOutcome(this.original, this.textarea.value, this.handlers.isBusy());
    if (outcome.kind === "refused") {
      this.note.textContent = outcome.reason;
      this.note.hidden = false;
      return;
    }
    if (outcome.kind === "save") this.handlers.onSave(outcome.text);
    this.handlers.onClose(outcome.kind === "save");
  }
}
