// Issue 22 ("Trust at scale"), the page's findings: text over the limit stays in the
// composer, titles are isolated and their bidi/control characters neutralised, the
// settings panel asks before it drops edits, the stats tile says which tokens it
// counts, and unsafe links are plain text.
import { afterEach, describe, expect, it } from "vitest";
import { MAX_TEXT } from "../components/composer";
import { CHAT_A } from "./fake_model";
import { mountApp, unmountAll } from "./mount";

afterEach(unmountAll);

function key(target: EventTarget, k: string, opts: KeyboardEventInit = {}) {
  const e = new KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true, ...opts });
  target.dispatchEvent(e);
  return e;
}

const visible = (el: Element | null) => !!el && !(el as HTMLElement).closest("[hidden]");

describe("a message over the limit", () => {
  function typed(text: string) {
    const { model, root } = mountApp();
    const ta = root.querySelector<HTMLTextAreaElement>('[aria-label="Message"]')!;
    ta.value = text;
    ta.dispatchEvent(new Event("input"));
    return { model, root, ta };
  }

  it("has no maxlength: a paste is never cut short by the browser", () => {
    const { ta } = typed("");
    expect(ta.hasAttribute("maxlength")).toBe(false);
  });

  it("stays in the composer, is not sent, and the note says how much to cut", () => {
    const text = "x".repeat(MAX_TEXT + 1234);
    const { model, root, ta } = typed(text);
    key(ta, "Enter");
    expect(model.sent.filter((m) => m.type === "send")).toHaveLength(0);
    expect(ta.value).toBe(text);
    const note = root.querySelector<HTMLElement>(".lc-too-long")!;
    expect(visible(note)).toBe(true);
    expect(note.textContent).toContain((1234).toLocaleString());
    expect(note.textContent).toContain(MAX_TEXT.toLocaleString());
    const send = root.querySelector<HTMLButtonElement>('[aria-label="Send"]')!;
    expect(send.disabled).toBe(true);
    send.click();
    expect(model.sent.filter((m) => m.type === "send")).toHaveLength(0);

    // trimmed to the limit: the note goes and the text is sent
    ta.value = text.slice(0, MAX_TEXT);
    ta.dispatchEvent(new Event("input"));
    expect(visible(note)).toBe(false);
    key(ta, "Enter");
    expect(model.lastSent()).toEqual({ type: "send", text: "x".repeat(MAX_TEXT), chat_id: CHAT_A });
    expect(ta.value).toBe("");
  });

  it("counts characters as the kernel does (an emoji is one, not two UTF-16 units)", () => {
    // MAX_TEXT characters, more UTF-16 units than MAX_TEXT: the kernel accepts it
    const text = `${"😀".repeat(10)}${"x".repeat(MAX_TEXT - 10)}`;
    expect(text.length).toBeGreaterThan(MAX_TEXT);
    const { model, root, ta } = typed(text);
    expect(visible(root.querySelector(".lc-too-long"))).toBe(false);
    key(ta, "Enter");
    expect(model.lastSent()).toMatchObject({ type: "send", text });
  });
});
