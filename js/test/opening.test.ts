import { afterEach, describe, expect, it } from "vitest";
import { CHAT_B } from "./fake_model";
import { mountApp, unmountAll } from "./mount";

afterEach(unmountAll);

describe("opening a big chat", () => {
  it("says which chat is being read while the chat shown stays, then goes", () => {
    const { model, root } = mountApp();
    const notice = root.querySelector<HTMLElement>(".lc-opening");
    expect(notice?.hidden).toBe(true);
    model.update({ opening: CHAT_B });
    expect(notice?.hidden).toBe(false);
    expect(notice?.getAttribute("role")).toBe("status");
    expect(notice?.textContent).toBe("Opening “Second chat”…");
    expect(root.querySelectorAll(".lc-msg").length).toBeGreaterThan(0); // the chat shown so far
    model.update({ opening: "" });
    expect(notice?.hidden).toBe(true);
  });
});

describe("chat files that cannot be read", () => {
  it("are counted under the chat list, not shown as chats", () => {
    const { model, root } = mountApp({ unreadable: 2 });
    const note = root.querySelector<HTMLElement>(".lc-sidebar .lc-unreadable");
    expect(note?.hidden).toBe(false);
    expect(note?.textContent).toContain("2 chat files in this folder could not be read");
    model.update({ unreadable: 0 });
    expect(note?.hidden).toBe(true);
  });
});
