import { afterEach, describe, expect, it, vi } from "vitest";
import { CHAT_A } from "./fake_model";
import { mountApp, settle, unmountAll } from "./mount";
import type { Traits } from "../types";

afterEach(() => {
  unmountAll();
  vi.restoreAllMocks();
});

// Frames never run: the menu is drawn without them.
const mount = (over: Partial<Traits> = {}) => mountApp(over, () => {});

const menuButton = (root: HTMLElement) =>
  root.querySelector<HTMLButtonElement>('[aria-label="Chat menu"][aria-haspopup]')!;
const items = (root: HTMLElement) => Array.from(root.querySelectorAll<HTMLButtonElement>('[role="menuitem"]'));

function captureDownloads() {
  const saved: { name: string; href: string; blob: Blob }[] = [];
  const blobs = new Map<string, Blob>();
  let n = 0;
  // jsdom has no object URLs and does not navigate: record what would be downloaded.
  URL.createObjectURL = (blob: Blob) => {
    const url = `blob:test/${++n}`;
    blobs.set(url, blob as Blob);
    return url;
  };
  URL.revokeObjectURL = () => {};
  vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
    saved.push({ name: this.download, href: this.href, blob: blobs.get(this.href)! });
  });
  return saved;
}

describe("chat menu: export", () => {
  it("asks the kernel for the open chat's file and saves the answer it asked for", async () => {
    const saved = captureDownloads();
    const { model, root } = mount();
    const button = menuButton(root);
    expect(button.getAttribute("aria-expanded")).toBe("false");
    button.click();
    expect(button.getAttribute("aria-expanded")).toBe("true");
    expect(items(root).map((i) => i.textContent)).toEqual([
      "Export as Markdown",
      "Export as JSON",
      "Export as notebook",
      "Compare models…",
    ]);
    expect(document.activeElement).toBe(items(root)[0]);

    items(root)[2].click();
    const cmd = model.lastSent();
    expect(cmd).toMatchObject({ type: "export", chat_id: CHAT_A, format: "ipynb" });
    expect(cmd.request).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(button.getAttribute("aria-expanded")).toBe("false");

    const bytes = new TextEncoder().encode('{"cells": []}');
    const answer = {
      type: "export",
      chat_id: CHAT_A,
      request: cmd.request,
      format: "ipynb",
      filename: "First-chat.ipynb",
      mime: "application/x-ipynb+json",
    };
    // Another view's answer (a request this view never made) is not saved here.
    model.custom({ ...answer, request: "someone-else" }, [new DataView(bytes.buffer)]);
    await settle();
    expect(saved).toHaveLength(0);
    model.custom(answer, [new DataView(bytes.buffer)]);
    await settle();
    expect(saved).toHaveLength(1);
    expect(saved[0].name).toBe("First-chat.ipynb");
    expect(saved[0].blob.type).toBe("application/x-ipynb+json");
    expect(await saved[0].blob.text()).toBe('{"cells": []}');
    // A repeated answer to the same request is not saved twice.
    model.custom(answer, [new DataView(bytes.buffer)]);
    await settle();
    expect(saved).toHaveLength(1);
  });

  it("works from the keyboard and closes with Escape", () => {
    const { model, root } = mount();
    const button = menuButton(root);
    button.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowDown", bubbles: true }));
    expect(document.activeElement).toBe(items(root)[0]);
    items(root)[0].dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowUp", bubbles: true }));
    expect(document.activeElement).toBe(items(root)[3]); // the last: Compare models…
    items(root)[3].dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true, cancelable: true }));
    expect(button.getAttribute("aria-expanded")).toBe("false");
    expect(document.activeElement).toBe(button);
    expect(model.sent.filter((c) => c.type === "stop")).toHaveLength(0);
  });

  it("is not offered before a chat exists", () => {
    const { model, root } = mount({ active_chat_id: "", messages: [] });
    expect(menuButton(root).closest("[hidden]")).not.toBeNull();
    model.update({ active_chat_id: CHAT_A });
    expect(menuButton(root).closest("[hidden]")).toBeNull();
  });
});
