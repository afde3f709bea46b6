import axe from "axe-core";
import { afterEach, describe, expect, it } from "vitest";
import { staleText } from "../components/stale_badge";
import type { StaleItem, Traits } from "../types";
import { CHAT_A } from "./fake_model";
import { mountApp, unmountAll } from "./mount";

afterEach(() => unmountAll());

const DF: StaleItem = { name: "df", change: "1,203 fewer rows, new column `tenure_bucket`", gone: false };
const X: StaleItem = { name: "x", change: "no longer in the kernel", gone: true };

function mount(over: Partial<Traits> = {}) {
  const { model, root } = mountApp(over);
  const badge = () => root.querySelector<HTMLElement>(".lc-stale")!;
  const shown = () => !badge().hidden;
  const button = (name: string) => badge().querySelector<HTMLButtonElement>(`button[aria-label^="${name}"]`)!;
  const chips = () => [...root.querySelectorAll(".lc-chip")].map((c) => c.getAttribute("data-name"));
  const status = () => root.querySelector<HTMLElement>(".lc-stale-wrap [role=status]")!.textContent;
  const ta = root.querySelector<HTMLTextAreaElement>('textarea[aria-label="Message"]')!;
  const send = (text: string) => {
    ta.value = text;
    ta.dispatchEvent(new Event("input"));
    ta.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true, cancelable: true }));
  };
  return { model, root, badge, shown, button, chips, status, ta, send };
}

describe("the stale-context badge", () => {
  it("is hidden until the kernel names a changed item, then says what changed", () => {
    const { model, badge, shown, status } = mount();
    expect(shown()).toBe(false);
    model.update({ stale_context: [DF] });
    expect(shown()).toBe(true);
    expect(badge().textContent).toContain(
      "df changed since the model saw it: 1,203 fewer rows, new column tenure_bucket",
    );
    expect([...badge().querySelectorAll("code")].map((c) => c.textContent)).toEqual(["df", "tenure_bucket"]);
    expect(status()).toBe(staleText(DF)); // a screen reader hears it
    // it sits above the composer's box
    const composer = badge().closest(".lc-composer")!;
    const order = [...composer.querySelectorAll(".lc-stale, .lc-composer-box")].map((e) => e.className.split(" ")[0]);
    expect(order).toEqual(["lc-stale", "lc-composer-box"]);
  });

  it("Refresh attaches the items as chips, and the next send carries them", () => {
    const { model, shown, button, chips, send } = mount({ stale_context: [DF] });
    const refresh = button("Refresh");
    expect(refresh.tagName).toBe("BUTTON"); // in the tab order, Enter/Space press it
    expect(refresh.getAttribute("aria-label")).toBe("Refresh df");
    refresh.click();
    expect(chips()).toEqual(["df"]);
    expect(shown()).toBe(false); // attached: nothing left to warn about
    send("And now?");
    expect(model.lastSent()).toEqual({ type: "send", text: "And now?", chat_id: CHAT_A, context: ["df"] });
    expect(shown()).toBe(false); // sent fresh: hidden while the kernel recomputes
    model.update({ stale_context: [] });
    expect(shown()).toBe(false);
    model.update({ stale_context: [{ ...DF, change: "values changed" }] }); // changed again later
    expect(shown()).toBe(true);
  });

  it("removing a Refresh chip brings the warning back", () => {
    const { root, shown, button } = mount({ stale_context: [DF] });
    button("Refresh").click();
    root.querySelector<HTMLButtonElement>('[aria-label="Remove df"]')!.click();
    expect(shown()).toBe(true);
  });

  it("Ignore asks the kernel to hide them, and the next send goes without them", () => {
    const { model, shown, button, chips, send } = mount({ stale_context: [DF, X] });
    expect(button("Ignore").getAttribute("aria-label")).toBe("Ignore 2 items");
    button("Ignore").click();
    expect(model.lastSent()).toEqual({ type: "ignore_stale", chat_id: CHAT_A, names: ["df", "x"] });
    expect(shown()).toBe(false);
    expect(chips()).toEqual([]);
    send("Go on");
    expect(model.lastSent()).toEqual({ type: "send", text: "Go on", chat_id: CHAT_A });
  });

  it("offers no Refresh for a name that is no longer in the kernel", () => {
    const { badge, button, chips, model } = mount({ stale_context: [X] });
    expect(badge().textContent).toContain("x is no longer in the kernel");
    expect(button("Refresh").hidden).toBe(true);
    model.update({ stale_context: [DF, X] });
    expect(button("Refresh").hidden).toBe(false);
    expect(button("Refresh").getAttribute("aria-label")).toBe("Refresh df");
    button("Refresh").click();
    expect(chips()).toEqual(["df"]); // not x
  });

  it("reads a list out once, not on every redraw", () => {
    const { model, status } = mount({ stale_context: [DF] });
    const region = document.querySelector(".lc-stale-wrap [role=status]")!;
    region.textContent = "";
    model.update({ busy: true }); // redraws the chat, same list
    expect(status()).toBe("");
    model.update({ stale_context: [DF, X] });
    expect(status()).toBe(`${staleText(DF)}. x is no longer in the kernel`);
  });

  it("passes axe with several items, also after the @ picker closed", async () => {
    const { root, ta } = mount({ stale_context: [DF, X, { name: "s", change: "dtype int64 → float64", gone: false }] });
    ta.value = "@";
    ta.dispatchEvent(new Event("input"));
    ta.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true, cancelable: true }));
    expect(root.querySelector(".lc-context-picker")?.hasAttribute("hidden")).toBe(true);
    const results = await axe.run(root.querySelector<HTMLElement>(".lc-composer")!, {
      rules: { "color-contrast": { enabled: false } },
    });
    expect(results.violations.map((v) => [v.id, v.nodes.map((n) => n.html)])).toEqual([]);
  });
});
