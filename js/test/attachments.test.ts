// Files in the conversation: chips in the composer (paste, drop, picker), the kernel's
// limits checked up front, bytes sent as buffers, thumbnails of sent images (asked for
// once per file), the larger view, "Ask about this" under a run's images.
import axe from "axe-core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DEFAULT_LIMITS, formatSize, refusal, typeLabel } from "../attachments";
import type { Attachment, Message, Traits } from "../types";
import { CHAT_A, CHAT_B } from "./fake_model";
import { mountApp, settle, unmountAll } from "./mount";

const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
const SHA = "a".repeat(64);
const SHA_CSV = "b".repeat(64);

let made: string[] = [];
let revoked: string[] = [];

beforeEach(() => {
  made = [];
  revoked = [];
  // jsdom has no blob URLs: count what is made and revoked.
  URL.createObjectURL = vi.fn(() => {
    made.push(`blob:lc/${made.length + 1}`);
    return made[made.length - 1];
  });
  URL.revokeObjectURL = vi.fn((url: string) => void revoked.push(url));
  performance.clearMarks();
});

afterEach(() => unmountAll());

function pngBytes(): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(PNG), (c) => c.charCodeAt(0));
}

function file(name: string, type: string, bytes: BlobPart = pngBytes(), size?: number): File {
  const f = new File([bytes], name, { type });
  if (size !== undefined) Object.defineProperty(f, "size", { value: size });
  return f;
}

/** An event carrying files, as the browser's paste (clipboardData) or drag (dataTransfer) would. */
function filesEvent(type: string, files: File[], key: "clipboardData" | "dataTransfer", types = ["Files"]): Event {
  const e = new Event(type, { bubbles: true, cancelable: true });
  Object.defineProperty(e, key, { value: { files, types, dropEffect: "none" } });
  return e;
}

const composer = (root: HTMLElement) => root.querySelector<HTMLTextAreaElement>(".lc-input")!;
const chips = (root: HTMLElement) =>
  Array.from(root.querySelectorAll<HTMLElement>(".lc-file-chip")).map((c) => c.dataset.name);
const note = (root: HTMLElement) => root.querySelector(".lc-attach-note")!.textContent;

/** Let reads of files (promises) and answered requests settle. */
async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await settle();
    await new Promise((r) => setTimeout(r, 0));
  }
}

function typeAndSend(root: HTMLElement, text: string): void {
  const ta = composer(root);
  ta.value = text;
  ta.dispatchEvent(new Event("input"));
  ta.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
}

function userWith(attachments: Attachment[], id = 0, content = "What is this?"): Message {
  return {
    id,
    role: "user",
    content,
    timestamp: "2025-01-01T10:00:00.000Z",
    status: "complete",
    error: "",
    attachments,
  };
}

const IMAGE: Attachment = { name: "plot.png", media_type: "image/png", size: 70, sha256: SHA };
const CSV: Attachment = { name: "data.csv", media_type: "text/csv", size: 1200, sha256: SHA_CSV };

describe("attaching files in the composer", () => {
  it("adds a chip for a pasted image: name, type, size, a thumbnail, and marks the paste", async () => {
    const { root } = mountApp();
    composer(root).dispatchEvent(filesEvent("paste", [file("image.png", "image/png")], "clipboardData"));
    await flush();
    expect(chips(root)).toEqual(["pasted-1.png"]);
    const chip = root.querySelector(".lc-file-chip")!;
    expect(chip.textContent).toContain("PNG · 70 B");
    expect(chip.querySelector("img")!.getAttribute("src")).toBe(made[0]);
    expect(performance.getEntriesByName("lc-attach-paste")).toHaveLength(1);
  });

  it("shows a drop target while files are dragged over the chat and attaches dropped ones", async () => {
    const { root } = mountApp();
    const main = root.querySelector<HTMLElement>(".lc-main")!;
    const zone = root.querySelector<HTMLElement>(".lc-drop")!;
    expect(zone.hidden).toBe(true);
    main.dispatchEvent(filesEvent("dragenter", [], "dataTransfer"));
    expect(zone.hidden).toBe(false);
    const drop = filesEvent("drop", [file("notes.md", ""), file("a.csv", "text/csv", "x,y\n1,2\n")], "dataTransfer");
    main.dispatchEvent(drop);
    expect(drop.defaultPrevented).toBe(true);
    expect(zone.hidden).toBe(true);
    await flush();
    expect(chips(root)).toEqual(["notes.md", "a.csv"]);
    expect(root.querySelector(".lc-file-chip")!.textContent).toContain("MD");
  });

  it("attaches files from the picker, which the paperclip opens", async () => {
    const { root } = mountApp();
    const input = root.querySelector<HTMLInputElement>('input[type="file"]')!;
    const click = vi.spyOn(input, "click").mockImplementation(() => undefined);
    root.querySelector<HTMLButtonElement>('[aria-label="Attach files"]')!.click();
    expect(click).toHaveBeenCalled();
    expect(input.multiple).toBe(true);
    Object.defineProperty(input, "files", { value: [file("a.png", "image/png"), file("b.pdf", "application/pdf")] });
    input.dispatchEvent(new Event("change"));
    await flush();
    expect(chips(root)).toEqual(["a.png", "b.pdf"]);
  });

  it("refuses inline what the kernel would refuse, and keeps the rest", async () => {
    const { root } = mountApp();
    const big = file("huge.png", "image/png", "x", DEFAULT_LIMITS.file_bytes + 1);
    const exe = file("tool.exe", "application/octet-stream", "MZ");
    composer(root).dispatchEvent(filesEvent("paste", [big, exe, file("ok.png", "image/png")], "clipboardData"));
    await flush();
    expect(chips(root)).toEqual(["ok.png"]);
    expect(note(root)).toContain("huge.png is 20 MB");
    expect(note(root)).toContain("tool.exe: this kind of file cannot be sent");
    const many = Array.from({ length: 10 }, (_, i) => file(`f${i}.txt`, "text/plain", "hi"));
    composer(root).dispatchEvent(filesEvent("paste", many, "clipboardData"));
    await flush();
    expect(chips(root)).toHaveLength(10);
    expect(note(root)).toContain("f9.txt: at most 10 files per message");
  });

  it("checks the bytes a message holds against the files already attached", () => {
    const limits = { file_bytes: 20 * 1024 * 1024, message_bytes: 50 * 1024 * 1024, count: 10 };
    const attached = [1, 2, 3].map((i) => ({
      name: `${i}.pdf`,
      mediaType: "application/pdf",
      size: 19e6,
      bytes: new ArrayBuffer(0),
    }));
    expect(refusal({ name: "x.pdf", type: "application/pdf", size: 1e6 }, attached.slice(0, 2), limits)).toBe("");
    expect(refusal({ name: "x.pdf", type: "application/pdf", size: 1e6 }, attached, limits)).toMatch(
      /at most 50 MB per message/,
    );
    // What Jupyter's websocket takes by default caps a message, whatever the kernel allows.
    expect(refusal({ name: "x.pdf", type: "application/pdf", size: 11e6 }, [])).toMatch(/per message/);
    expect(refusal({ name: "x.pdf", type: "application/pdf", size: 1e6 }, [], { ...limits, count: 0 })).toBe(
      "Attaching files is turned off here.",
    );
    expect(formatSize(1536)).toBe("2 KB");
    expect(typeLabel("application/x-ipynb+json", "n.ipynb")).toBe("IPYNB");
  });

  it("removes a chip with its × button or Backspace at the start of an empty box", async () => {
    const { root } = mountApp();
    composer(root).dispatchEvent(
      filesEvent(
        "paste",
        [file("a.png", "image/png"), file("b.png", "image/png"), file("c.txt", "text/plain", "t")],
        "clipboardData",
      ),
    );
    await flush();
    root.querySelector<HTMLButtonElement>('[aria-label="Remove a.png"]')!.click();
    expect(chips(root)).toEqual(["b.png", "c.txt"]);
    expect(revoked).toContain(made[0]); // its thumbnail's URL
    const ta = composer(root);
    expect(document.activeElement).toBe(ta);
    const backspace = new KeyboardEvent("keydown", { key: "Backspace", bubbles: true, cancelable: true });
    ta.dispatchEvent(backspace);
    expect(backspace.defaultPrevented).toBe(true);
    expect(chips(root)).toEqual(["b.png"]);
    ta.value = "x";
    ta.setSelectionRange(1, 1);
    ta.dispatchEvent(new KeyboardEvent("keydown", { key: "Backspace", bubbles: true, cancelable: true }));
    expect(chips(root)).toEqual(["b.png"]); // a box with text: Backspace edits the text
  });
});

describe("sending files", () => {
  async function withChips(files: File[]) {
    const mounted = mountApp();
    composer(mounted.root).dispatchEvent(filesEvent("paste", files, "clipboardData"));
    await flush();
    return mounted;
  }

  it("puts the bytes in the message's buffers, the metadata in attachments, no base64 in the JSON", async () => {
    const csv = "x,y\n".repeat(100);
    const { model, root } = await withChips([file("plot.png", "image/png"), file("data.csv", "text/csv", csv)]);
    typeAndSend(root, "Compare these");
    const i = model.sent.length - 1;
    const msg = model.sent[i];
    expect(msg).toEqual({
      type: "send",
      text: "Compare these",
      chat_id: CHAT_A,
      attachments: [
        { name: "plot.png", media_type: "image/png", size: 70 },
        { name: "data.csv", media_type: "text/csv", size: 400 },
      ],
    });
    const buffers = model.sentBuffers[i] as ArrayBuffer[];
    expect(buffers.map((b) => b.byteLength)).toEqual([70, 400]);
    expect(new Uint8Array(buffers[0])).toEqual(pngBytes());
    const json = JSON.stringify(msg);
    expect(json).not.toContain(PNG.slice(0, 16));
    expect(json).not.toContain(btoa(csv).slice(0, 16));
    expect(chips(root)).toEqual([]);
  });

  it("sends no buffers and no attachments field without files", () => {
    const { model, root } = mountApp();
    typeAndSend(root, "Plain");
    expect(model.lastSent()).toEqual({ type: "send", text: "Plain", chat_id: CHAT_A });
    expect(model.sentBuffers[model.sentBuffers.length - 1]).toEqual([]);
  });

  it("gives the files back when the kernel refuses the send, not once it accepted it", async () => {
    const { model, root } = await withChips([file("plot.png", "image/png")]);
    typeAndSend(root, "One");
    expect(chips(root)).toEqual([]);
    model.update({ error: "That file is too large." });
    expect(chips(root)).toEqual(["plot.png"]);
    model.update({ error: "" });
    typeAndSend(root, "Two");
    model.update({ messages: [userWith([IMAGE], 2, "Two")], busy: true });
    model.update({ error: "Something else went wrong." });
    expect(chips(root)).toEqual([]);
  });

  it("shows a just-sent image from its local bytes, with no round trip", async () => {
    const { model, root } = await withChips([file("plot.png", "image/png")]);
    typeAndSend(root, "What is this?");
    model.update({ messages: [userWith([IMAGE])] });
    await flush();
    expect(model.sent.filter((c) => c.type === "load_attachment")).toEqual([]);
    const img = root.querySelector<HTMLImageElement>(".lc-msg-user .lc-thumb img")!;
    expect(img.getAttribute("src")).toMatch(/^blob:lc\//);
    expect(img.alt).toBe("plot.png");
  });
});

describe("files of sent messages", () => {
  function mountWith(over: Partial<Traits> = {}) {
    return mountApp({ messages: [userWith([IMAGE, CSV], 0), userWith([IMAGE], 2, "Again")], ...over });
  }

  it("asks for each image once, shows the answer's bytes and marks the loaded thumbnail", async () => {
    const { model, root } = mountWith();
    const asked = model.sent.filter((c) => c.type === "load_attachment");
    expect(asked).toEqual([{ type: "load_attachment", chat_id: CHAT_A, sha256: SHA, request: asked[0].request }]);
    model.answer("load_attachment", { sha256: SHA, media_type: "image/png" }, { buffers: [pngBytes().buffer] });
    await flush();
    const imgs = root.querySelectorAll<HTMLImageElement>(".lc-thumb img");
    expect(imgs).toHaveLength(2);
    expect(made).toHaveLength(1);
    for (const img of imgs) expect(img.getAttribute("src")).toBe(made[0]);
    imgs[0].dispatchEvent(new Event("load"));
    expect(imgs[0].closest<HTMLElement>(".lc-thumb")!.dataset.state).toBe("ready");
    expect(performance.getEntriesByName("lc-attach-thumb")).toHaveLength(1);
    // Other files are chips: name, type, size.
    const chip = root.querySelector(".lc-sent-file")!;
    expect(chip.textContent).toContain("data.csv");
    expect(chip.textContent).toContain("CSV · 1 KB");
  });

  it("revokes a file's URL once no message shown holds it", async () => {
    const { model } = mountWith();
    model.answer("load_attachment", { sha256: SHA, media_type: "image/png" }, { buffers: [pngBytes().buffer] });
    await flush();
    model.update({ messages: [userWith([IMAGE], 2, "Again")] });
    expect(revoked).toEqual([]); // still shown by the other message
    model.update({ active_chat_id: CHAT_B, messages: [] });
    expect(revoked).toEqual([made[0]]);
  });

  it("opens the image in a dialog; Esc closes it and focus returns to the thumbnail", async () => {
    const { model, root } = mountWith();
    model.answer("load_attachment", { sha256: SHA, media_type: "image/png" }, { buffers: [pngBytes().buffer] });
    await flush();
    const thumb = root.querySelector<HTMLButtonElement>(".lc-thumb")!;
    thumb.querySelector("img")!.dispatchEvent(new Event("load"));
    thumb.focus();
    thumb.click();
    await flush();
    const dialog = root.querySelector<HTMLDialogElement>("dialog.lc-lightbox")!;
    expect(dialog.hasAttribute("open")).toBe(true);
    expect(dialog.getAttribute("aria-label")).toBe("plot.png");
    expect(dialog.querySelector("img")!.getAttribute("src")).toBe(made[0]);
    expect(document.activeElement).toBe(dialog.querySelector('[aria-label="Close"]'));
    const results = await axe.run(dialog, { rules: { "color-contrast": { enabled: false } } });
    expect(results.violations.map((v) => v.id)).toEqual([]);
    const esc = new KeyboardEvent("keydown", { key: "Escape", bubbles: true, cancelable: true });
    dialog.dispatchEvent(esc);
    expect(root.querySelector("dialog")).toBeNull();
    expect(document.activeElement).toBe(thumb);
    expect(model.sent.some((c) => c.type === "stop")).toBe(false);
  });

  it("passes axe on a message with an image and a file", async () => {
    const { model, root } = mountWith();
    model.answer("load_attachment", { sha256: SHA, media_type: "image/png" }, { buffers: [pngBytes().buffer] });
    await flush();
    const msg = root.querySelector<HTMLElement>('.lc-msg-user[data-id="0"]')!;
    const thumb = msg.querySelector(".lc-thumb")!;
    expect(thumb.getAttribute("aria-label")).toBe("Open image plot.png (70 B)");
    const results = await axe.run(msg, { rules: { "color-contrast": { enabled: false } } });
    expect(results.violations.map((v) => v.id)).toEqual([]);
  });

  it("passes axe on the composer with chips and a note", async () => {
    const { root } = mountApp();
    composer(root).dispatchEvent(
      filesEvent(
        "paste",
        [file("a.png", "image/png"), file("x.exe", "application/x-msdownload", "MZ")],
        "clipboardData",
      ),
    );
    await flush();
    const results = await axe.run(root.querySelector<HTMLElement>(".lc-composer")!, {
      rules: { "color-contrast": { enabled: false } },
    });
    expect(results.violations.map((v) => [v.id, v.nodes.map((n) => n.html)])).toEqual([]);
  });
});

describe("Ask about this", () => {
  it("attaches a run's images to the composer as run-output-N.png", async () => {
    const { root } = mountApp({
      messages: [
        userWith([], 0, "Plot it"),
        {
          id: 1,
          role: "assistant",
          content: "```python\nplot()\n```",
          timestamp: "2025-01-01T10:00:01.000Z",
          status: "complete",
          error: "",
          runs: [{ code: "plot()", status: "ok", stdout: "", result: "", error: "", images: [PNG, PNG] }],
        },
      ],
    });
    const ask = Array.from(root.querySelectorAll<HTMLButtonElement>(".lc-run-output button")).find(
      (b) => b.textContent === "Ask about this",
    )!;
    ask.click();
    expect(chips(root)).toEqual(["run-output-1.png", "run-output-2.png"]);
    expect(root.querySelector(".lc-file-chip")!.textContent).toContain("PNG · 70 B");
    expect(document.activeElement).toBe(composer(root));
  });
});
