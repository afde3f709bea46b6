// The files sent with a user message, under its text: images as thumbnails (their
// bytes from the AttachmentStore: asked for once per file, the local bytes for a
// message just sent), which open a larger view; other files as chips with their name,
// type and size. What it holds is released when the bubble redraws them or goes.
import { formatSize, isImage, mark, typeLabel } from "../attachments";
import type { AttachmentStore } from "../attachment_store";
import { h, icon } from "../dom";
import type { Attachment } from "../types";
import { openLightbox } from "./lightbox";
import { FOCUS } from "./ui";

const CHIP =
  "lc-sent-file lc:inline-flex lc:items-center lc:gap-1.5 lc:max-w-full lc:py-1 lc:px-2 lc:rounded-item lc:border " +
  "lc:border-line lc:bg-surface lc:text-micro lc:text-fg";

export class SentFiles {
  readonly el: HTMLElement;
  private held: string[] = [];
  private sig = "";

  constructor(private store: AttachmentStore | null = null) {
    this.el = h("div", {
      class: "lc-sent-files lc:flex lc:flex-wrap lc:justify-end lc:gap-1.5 lc:mt-1.5 lc:empty:hidden",
      role: "list",
      "aria-label": "Files sent",
    });
  }

  update(chatId: string, files: readonly Attachment[], store: AttachmentStore | null): void {
    const sig = `${chatId}:${files.map((f) => f.sha256).join(",")}`;
    if (sig === this.sig && store === this.store) return;
    const before = this.held;
    this.sig = sig;
    this.store = store;
    this.held = [];
    this.el.replaceChildren(
      ...files.map((f) => h("div", { role: "listitem", class: "lc:min-w-0 lc:max-w-full" }, this.item(chatId, f))),
    );
    // Acquired the new ones before releasing the old: a redraw keeps its URLs.
    for (const sha of before) this.release(sha);
  }

  destroy(): void {
    for (const sha of this.held.splice(0)) this.release(sha);
    this.sig = "";
  }

  private release(sha: string): void {
    this.store?.release(sha);
  }

  private item(chatId: string, file: Attachment): HTMLElement {
    const label = `${file.name}, ${typeLabel(file.media_type, file.name)}, ${formatSize(file.size)}`;
    if (!isImage(file.media_type) || !this.store) {
      return h(
        "span",
        { class: CHIP, title: label },
        icon(isImage(file.media_type) ? "image" : "file", 14, "lc:text-muted"),
        h("span", { class: "lc:truncate lc:min-w-0" }, file.name),
        h(
          "span",
          { class: "lc:shrink-0 lc:text-muted" },
          `${typeLabel(file.media_type, file.name)} · ${formatSize(file.size)}`,
        ),
      );
    }
    return this.thumbnail(chatId, file, label);
  }

  private thumbnail(chatId: string, file: Attachment, label: string): HTMLElement {
    const store = this.store as AttachmentStore;
    const img = h("img", {
      alt: file.name,
      class: "lc:block lc:size-full lc:object-cover",
      decoding: "async",
    });
    const button = h(
      "button",
      {
        type: "button",
        class:
          "lc-thumb lc:block lc:size-20 lc:@max-compact:size-16 lc:p-0 lc:overflow-hidden lc:rounded-item lc:border " +
          `lc:border-line lc:bg-code lc:cursor-zoom-in lc:data-[state=failed]:cursor-default ${FOCUS}`,
        "aria-label": `Open image ${file.name} (${formatSize(file.size)})`,
        "aria-haspopup": "dialog",
        title: label,
        "data-sha256": file.sha256,
        "data-state": "loading",
      },
      img,
    );
    this.held.push(file.sha256);
    img.addEventListener("load", () => {
      button.dataset.state = "ready";
      mark("lc-attach-thumb");
    });
    store.acquire(chatId, file).then(
      (url) => {
        if (url) img.src = url;
      },
      () => {
        button.dataset.state = "failed";
        button.title = `${label}: not available`;
        button.setAttribute("aria-label", `${file.name}: the image is not available`);
      },
    );
    button.addEventListener("click", () => {
      if (button.dataset.state !== "ready" && !img.src) return;
      store.acquire(chatId, file).then(
        (url) => openLightbox(button, { url, name: file.name, size: file.size }, () => store.release(file.sha256)),
        () => store.release(file.sha256),
      );
    });
    return button;
  }
}
