// Files attached in the composer: pasted (clipboard files), dropped anywhere on the
// chat (a drop target shows while dragging) or picked with the paperclip. Each is a
// removable chip above the textarea (name, type, size, a thumbnail for images); one the
// kernel would refuse (too big, too many, a kind it does not take) gets an inline note
// instead. A send takes the files; they come back if the kernel refuses that send.
import {
  ACCEPT,
  fileName,
  formatSize,
  isImage,
  mark,
  mediaTypeOf,
  type PendingFile,
  pngFile,
  readBytes,
  refusal,
  DEFAULT_LIMITS,
  type UploadLimits,
  typeLabel,
} from "../attachments";
import { h, icon } from "../dom";
import type { Message } from "../types";
import { FOCUS, iconButton } from "./ui";

interface Chip {
  file: PendingFile;
  /** The thumbnail's blob URL ("" for other files), revoked when the chip goes. */
  url: string;
}

/** The files of a send that has not shown up in `messages` yet. */
interface Sending {
  files: PendingFile[];
  /** The last user message when it was sent: the accepted one comes after it. */
  after: string;
}

export class ComposerFiles {
  readonly chipsEl: HTMLElement;
  readonly note: HTMLElement;
  readonly button: HTMLButtonElement;
  readonly input: HTMLInputElement;
  /** The drop target shown over the chat while files are dragged over it. */
  readonly dropZone: HTMLElement;
  private chips: Chip[] = [];
  private reading = 0;
  private sending: Sending | null = null;
  private lastUser = "";
  private pasted = 0;
  /** The kernel's limits, from the `uploads` trait (count 0: attaching is off). */
  limits: UploadLimits = DEFAULT_LIMITS;

  /** `changed`: the files or their reading changed (Send redraws). */
  constructor(
    private textarea: HTMLTextAreaElement,
    private changed: () => unknown,
    signal: AbortSignal,
  ) {
    this.chipsEl = h("div", {
      class: "lc-file-chips lc:flex lc:flex-wrap lc:gap-1.5 lc:pt-2 lc:px-3 lc:empty:hidden",
      role: "list",
      "aria-label": "Attached files",
    });
    this.note = h("div", {
      class: "lc-attach-note lc:pt-1.5 lc:px-3.5 lc:text-micro lc:text-danger-fg lc:empty:hidden",
      role: "status",
      "aria-live": "polite",
    });
    this.button = h("button", {
      type: "button",
      class: `lc-attach ${iconButton("lc:size-[34px] lc:text-muted")}`,
      "aria-label": "Attach files",
      title: "Attach files (or paste, or drop them here)",
    });
    this.button.append(icon("paperclip", 16));
    this.input = h("input", { type: "file", multiple: true, accept: ACCEPT, hidden: true, tabindex: -1 });
    this.dropZone = h(
      "div",
      {
        class:
          "lc-drop lc:absolute lc:inset-2 lc:z-30 lc:grid lc:place-items-center lc:rounded-box lc:border-2 lc:border-dashed " +
          "lc:border-accent lc:bg-surface/90 lc:text-accent lc:font-semibold lc:pointer-events-none",
        hidden: true,
        "aria-hidden": "true",
      },
      h("span", { class: "lc:flex lc:items-center lc:gap-2" }, icon("paperclip", 18), "Drop files to attach"),
    );
    this.button.addEventListener("click", () => this.input.click(), { signal });
    this.input.addEventListener(
      "change",
      () => {
        void this.addFiles(Array.from(this.input.files ?? []));
        this.input.value = ""; // the same file picked again is a change too
      },
      { signal },
    );
    this.textarea.addEventListener("paste", (e) => this.onPaste(e), { signal });
    signal.addEventListener("abort", () => this.clear());
  }

  /** The kernel's limits; the paperclip shows only where attaching is on. */
  setLimits(limits: UploadLimits | undefined): void {
    if (!limits || typeof limits.count !== "number") return; // an older kernel: keep the defaults
    this.limits = limits;
    this.button.hidden = limits.count <= 0;
  }

  /** Files dragged over `target` (the chat) show the drop target; dropped ones are attached. */
  acceptDrops(target: HTMLElement, signal: AbortSignal): void {
    let depth = 0; // dragenter/dragleave fire for every child crossed
    const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer?.types ?? []).includes("Files");
    const show = (on: boolean) => {
      this.dropZone.hidden = !on;
      if (!on) depth = 0;
    };
    target.addEventListener(
      "dragenter",
      (e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        depth++;
        show(true);
      },
      { signal },
    );
    target.addEventListener(
      "dragover",
      (e) => {
        if (!hasFiles(e)) return;
        e.preventDefault(); // allows the drop
        if (e.dataTransfer) e.dataTransfer.dropEffect = "copy";
      },
      { signal },
    );
    target.addEventListener("dragleave", () => --depth <= 0 && show(false), { signal });
    target.addEventListener(
      "drop",
      (e) => {
        show(false);
        const files = Array.from(e.dataTransfer?.files ?? []);
        if (!files.length) return;
        e.preventDefault(); // the browser would open the file instead
        mark("lc-attach-paste");
        void this.addFiles(files).then(() => this.textarea.focus());
      },
      { signal },
    );
    target.append(this.dropZone);
  }

  /** The files to send now. */
  get files(): PendingFile[] {
    return this.chips.map((c) => c.file);
  }

  /** Files are still being read (Send waits for them). */
  get busy(): boolean {
    return this.reading > 0;
  }

  /** Read and attach files the person gave; those the kernel would refuse get a note. */
  async addFiles(list: File[]): Promise<void> {
    if (!list.length) return;
    this.reading++;
    this.changed();
    const notes: string[] = [];
    try {
      for (const f of list) {
        const name = fileName(f, this.pasted);
        if (name !== f.name) this.pasted++;
        const why = refusal({ name, type: f.type, size: f.size }, this.files, this.limits);
        if (why) {
          notes.push(why);
          continue;
        }
        try {
          const bytes = await readBytes(f);
          this.add({ name, mediaType: mediaTypeOf(name, f.type), size: bytes.byteLength, bytes });
        } catch {
          notes.push(`${name} could not be read.`);
        }
      }
    } finally {
      this.reading--;
      this.say(notes.join(" "));
      this.changed();
    }
  }

  /** Attach files made here (a run's images); a note for those that do not fit. */
  addPending(files: PendingFile[]): void {
    const notes: string[] = [];
    for (const f of files) {
      const why = refusal({ name: f.name, type: f.mediaType, size: f.size }, this.files, this.limits);
      if (why) notes.push(why);
      else this.add(f);
    }
    this.say(notes.join(" "));
    this.changed();
  }

  /** "Ask about this" under a run: its PNGs as files, then on to the question. */
  attachRunImages(pngs: string[]): void {
    this.addPending(pngs.map((png, i) => pngFile(png, `run-output-${i + 1}.png`)));
    this.textarea.focus();
  }

  /** A send takes the files: the chips go, and come back if the kernel refuses it. */
  take(): PendingFile[] {
    const files = this.files;
    this.clear();
    this.say("");
    this.sending = files.length ? { files, after: this.lastUser } : null;
    return files;
  }

  /** The chat's messages now: the send whose files show up in them was accepted. */
  seen(chatId: string, messages: readonly Message[]): void {
    let last: Message | undefined;
    for (let i = messages.length - 1; i >= 0 && !last; i--) if (messages[i].role === "user") last = messages[i];
    this.lastUser = last ? `${chatId}:${last.id}` : "";
    const s = this.sending;
    if (s && last && this.lastUser !== s.after && (last.attachments?.length ?? 0) === s.files.length) {
      this.sending = null;
    }
  }

  /** The kernel refused (its banner says why): the files of the send waiting for it come back. */
  refused(): void {
    const s = this.sending;
    if (!s) return;
    this.sending = null;
    const now = this.files;
    this.clear();
    for (const f of s.files) this.add(f);
    this.addPending(now);
  }

  /** Backspace at the start of an empty box: the last chip goes; true when there was one. */
  removeLast(): boolean {
    const last = this.chips[this.chips.length - 1];
    if (!last) return false;
    this.remove(last);
    return true;
  }

  private onPaste(e: ClipboardEvent): void {
    const data = e.clipboardData;
    const files = Array.from(data?.files ?? []);
    if (!files.length) return;
    mark("lc-attach-paste");
    // Text copied with a picture of itself (a spreadsheet) still pastes as text.
    if (!data?.types?.includes("text/plain")) e.preventDefault();
    void this.addFiles(files);
  }

  private add(file: PendingFile): void {
    const url = isImage(file.mediaType) ? URL.createObjectURL(new Blob([file.bytes], { type: file.mediaType })) : "";
    this.chips.push({ file, url });
    this.draw();
  }

  private remove(chip: Chip): void {
    this.chips = this.chips.filter((c) => c !== chip);
    if (chip.url) URL.revokeObjectURL(chip.url);
    this.draw();
    this.say("");
    this.changed();
    this.textarea.focus();
  }

  private clear(): void {
    for (const c of this.chips) if (c.url) URL.revokeObjectURL(c.url);
    this.chips = [];
    this.draw();
  }

  private say(text: string): void {
    this.note.textContent = text;
  }

  private draw(): void {
    this.chipsEl.replaceChildren(...this.chips.map((c) => this.chip(c)));
  }

  private chip(c: Chip): HTMLElement {
    const { name, mediaType, size } = c.file;
    const remove = h("button", {
      type: "button",
      class: `lc-chip-remove lc:inline-grid lc:place-items-center lc:shrink-0 lc:size-5 lc:rounded-full lc:hover:bg-hover ${FOCUS}`,
      "aria-label": `Remove ${name}`,
      title: "Remove",
    });
    remove.append(icon("x", 12));
    remove.addEventListener("click", () => this.remove(c));
    const thumb = c.url
      ? h("img", { src: c.url, alt: "", class: "lc:size-7 lc:shrink-0 lc:rounded-control lc:object-cover" })
      : icon("file", 16, "lc:text-muted lc:mx-1");
    return h(
      "div",
      {
        role: "listitem",
        class:
          "lc-file-chip lc:inline-flex lc:items-center lc:gap-1.5 lc:max-w-full lc:min-w-0 lc:py-0.5 lc:ps-0.5 lc:pe-1 " +
          "lc:rounded-item lc:border lc:border-line lc:bg-code lc:text-micro",
        "data-name": name,
        title: `${name} (${formatSize(size)})`,
      },
      thumb,
      h(
        "span",
        { class: "lc:flex lc:flex-col lc:min-w-0 lc:leading-tight" },
        h("span", { class: "lc:truncate lc:max-w-[14em] lc:@max-compact:max-w-[9em] lc:text-fg" }, name),
        h("span", { class: "lc:text-muted" }, `${typeLabel(mediaType, name)} · ${formatSize(size)}`),
      ),
      remove,
    );
  }
}
