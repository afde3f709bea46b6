import { afterEach, describe, expect, it } from "vitest";
import { CHAT_A } from "./fake_model";
import { mountApp, unmountAll } from "./mount";
import type { Draft } from "../types";

afterEach(() => unmountAll());

const BLOCK = "Traceback (most recent call last):\nZeroDivisionError: division by zero\n\n- n: int: 3";
const DRAFT: Draft = {
  id: 3,
  text: "This cell raised ZeroDivisionError. Explain why and how to fix it.",
  context: [{ name: "error [12]", kind: "error", text: BLOCK }],
};

const textarea = (root: HTMLElement) => root.querySelector<HTMLTextAreaElement>('textarea[aria-label="Message"]')!;
const chips = (root: HTMLElement) => [...root.querySelectorAll(".lc-chip")].map((c) => c.getAttribute("data-name"));

describe("a draft from the kernel (Ask livechat)", () => {
  it("fills the composer once per id with the prompt and the chip, focused; sent with its context", () => {
    const { model, root } = mountApp();
    model.update({ draft: DRAFT });
    const ta = textarea(root);
    expect(ta.value).toBe(DRAFT.text);
    expect(chips(root)).toEqual(["error [12]"]);
    expect(document.activeElement).toBe(ta);
    expect(root.querySelector<HTMLButtonElement>('[aria-label="Send"]')!.disabled).toBe(false);

    ta.value = "edited: why?";
    model.update({ draft: { ...DRAFT } }); // the same id again: not applied twice
    expect(ta.value).toBe("edited: why?");

    ta.dispatchEvent(new Event("input"));
    root.querySelector<HTMLButtonElement>('[aria-label="Send"]')!.click();
    expect(model.lastSent()).toEqual({ type: "send", text: "edited: why?", chat_id: CHAT_A, context: ["error [12]"] });
    expect(chips(root)).toEqual([]);
  });

  it("shows the text a chip attaches on demand, and the chip can be removed", () => {
    const { model, root } = mountApp();
    model.update({ draft: DRAFT });
    const show = root.querySelector<HTMLButtonElement>(".lc-chip-show")!;
    expect(show.getAttribute("aria-expanded")).toBe("false");
    expect(root.querySelector(".lc-chip-text")).toBeNull();
    show.click();
    const pre = root.querySelector(".lc-chip-text")!;
    expect(pre.textContent).toBe(BLOCK);
    expect(root.querySelector(".lc-chip-show")!.getAttribute("aria-expanded")).toBe("true");
    root.querySelector<HTMLButtonElement>('[aria-label="Remove error [12]"]')!.click();
    expect(chips(root)).toEqual([]);
    expect(root.querySelector(".lc-chip-text")).toBeNull();
  });

  it("a view drawn later applies a draft not sent yet; an empty draft or context off adds nothing", () => {
    const later = mountApp({ draft: DRAFT });
    expect(textarea(later.root).value).toBe(DRAFT.text);
    expect(chips(later.root)).toEqual(["error [12]"]);

    const cleared = mountApp({ draft: { id: 4, text: "", context: [] } });
    expect(textarea(cleared.root).value).toBe("");

    const off = mountApp({ allow_kernel_context: false });
    off.model.update({ draft: { ...DRAFT, id: 5 } });
    expect(textarea(off.root).value).toBe(DRAFT.text);
    expect(chips(off.root)).toEqual([]);
  });
});
