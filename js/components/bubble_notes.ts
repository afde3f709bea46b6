// What a message says besides its text: a reply's reasoning (collapsed, above the
// answer), the kernel context a user message was sent with, the status note of a reply
// that did not complete ("Stopped", "Cut off"), the error of one that failed, and the
// files a user message was sent with (sent_files.ts).
import type { AttachmentStore } from "../attachment_store";
import { h, icon } from "../dom";
import type { BubbleData } from "./bubble_data";
import { SentFiles } from "./sent_files";
import { sentContext } from "./sent_context";
import { FOCUS } from "./ui";

export class BubbleNotes {
  /** Goes above the text. */
  readonly reasoning: HTMLDetailsElement;
  /** Go below the text, in this order. */
  readonly below: HTMLElement[];
  private reasoningBody: HTMLElement;
  private context: HTMLElement;
  private contextSig = "";
  private note: HTMLElement;
  private errorBox: HTMLElement;
  private files = new SentFiles();

  constructor() {
    this.reasoningBody = h("div", {
      class: "lc-reasoning-body lc:whitespace-pre-wrap lc:max-h-[12em] lc:overflow-y-auto",
    });
    this.reasoning = h(
      "details",
      {
        class: "lc-reasoning lc:mb-2 lc:ps-2.5 lc:border-s-2 lc:border-line-strong lc:text-note lc:text-muted",
        hidden: true,
      },
      h("summary", { class: `lc:cursor-pointer lc:font-semibold ${FOCUS}` }, "Reasoning"),
      this.reasoningBody,
    );
    this.context = h("div", { class: "lc:contents" });
    this.note = h("div", {
      class:
        "lc-note lc:inline-flex lc:mt-1.5 lc:py-px lc:px-2 lc:rounded-full lc:border lc:border-line lc:text-meta lc:text-muted",
      hidden: true,
    });
    this.errorBox = h("div", {
      class:
        "lc-error-box lc:flex lc:items-start lc:gap-2 lc:mt-1.5 lc:py-2 lc:px-2.5 lc:rounded-item lc:bg-danger-bg " +
        "lc:border lc:border-danger-line lc:text-danger-fg lc:text-ui",
      role: "note",
      hidden: true,
    });
    this.below = [this.files.el, this.context, this.note, this.errorBox];
  }

  update(data: BubbleData, files: AttachmentStore | null = null): void {
    this.files.update(data.chatId, data.attachments ?? [], files);

    const reasoning = data.reasoning ?? "";
    this.reasoning.hidden = reasoning === "";
    if (reasoning && this.reasoningBody.textContent !== reasoning) this.reasoningBody.textContent = reasoning;

    const contextSig = JSON.stringify(data.context ?? []);
    if (contextSig !== this.contextSig) {
      this.contextSig = contextSig;
      this.context.replaceChildren(...[sentContext(data.context ?? [])].filter((el) => el !== null));
    }

    let note = "";
    if (data.status === "stopped") note = "Stopped";
    else if (data.status === "length") note = "Cut off: the reply reached the length limit";
    this.note.hidden = note === "";
    this.note.textContent = note;

    if (data.status === "error") {
      this.errorBox.hidden = false;
      this.errorBox.replaceChildren(icon("alert", 14, "lc:mt-[3px]"), h("span", {}, data.error || "The reply failed."));
    } else {
      this.errorBox.hidden = true;
    }
  }

  /** The bubble goes: the files' URLs it holds are released. */
  destroy(): void {
    this.files.destroy();
  }
}
