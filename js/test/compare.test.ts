import axe from "axe-core";
import { afterEach, describe, expect, it } from "vitest";
import { paneFigures } from "../components/compare_panes";
import type { ComparePane, CompareState, Traits } from "../types";
import { CHAT_A } from "./fake_model";
import { mountApp, settle, unmountAll } from "./mount";

afterEach(() => unmountAll());

const CHOICES = [
  { label: "local", model: "llama-3-8b" },
  { label: "hosted", model: "gpt-4o-mini" },
];

function pane(over: Partial<ComparePane> = {}): ComparePane {
  return {
    label: "local",
    model: "llama-3-8b",
    text: "",
    reasoning: "",
    status: "streaming",
    error: "",
    message_id: null,
    ttft_ms: null,
    tokens_per_s: null,
    tokens: null,
    cost: null,
    finished: 0,
    ...over,
  };
}

function state(over: Partial<CompareState> = {}): CompareState {
  return {
    chat_id: CHAT_A,
    seq: -1,
    blind: false,
    streaming: true,
    panes: [pane(), pane({ label: "hosted", model: "gpt-4o-mini" })],
    ...over,
  };
}

function mount(over: Partial<Traits> = {}) {
  const frames: (() => void)[] = [];
  const { model, root, app } = mountApp({ compare_choices: CHOICES, ...over }, (cb) => frames.push(cb));
  const flush = () => {
    for (const cb of frames.splice(0)) cb();
  };
  flush();
  const ta = root.querySelector<HTMLTextAreaElement>('textarea[aria-label="Message"]')!;
  const send = (text: string) => {
    ta.value = text;
    ta.dispatchEvent(new Event("input"));
    ta.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true, cancelable: true }));
  };
  const panes = () => [...root.querySelectorAll<HTMLElement>(".lc-compare-pane")];
  const bodies = () => panes().map((p) => p.querySelector(".lc-compare-body")!.textContent?.trim());
  const chooser = () => root.querySelector<HTMLElement>(".lc-compare-chooser")!;
  return { model, root, app, ta, send, panes, bodies, chooser, flush };
}

describe("Compare", () => {
  it("/compare opens the chooser and the next Send goes to the models picked", async () => {
    const { model, root, ta, send, chooser } = mount();
    model.kernel.list_models = () => ({ names: ["fake-model", "other-model"], error: "" });
    expect(chooser().hidden).toBe(true);
    send("/compare");
    await settle();
    expect(chooser().hidden).toBe(false);
    const boxes = [...chooser().querySelectorAll<HTMLInputElement>("input[type=checkbox][value]")];
    expect(boxes.map((b) => b.value)).toEqual(["local", "hosted", "fake-model", "other-model"]);
    expect(chooser().textContent).toContain("local (llama-3-8b)");
    boxes[1].click();
    const sentBefore = model.sent.length;
    send("Which is faster?"); // one model is not a comparison: nothing goes, the text stays
    expect(model.sent.length).toBe(sentBefore);
    expect(ta.value).toBe("Which is faster?");
    expect(chooser().textContent).toContain("Pick 2 to 4 models to compare");
    ta.value = "";
    boxes[0].click();
    chooser().querySelector<HTMLInputElement>(".lc-compare-blind")!.click();
    const results = await axe.run(root, { rules: { "color-contrast": { enabled: false } } });
    expect(results.violations.map((v) => [v.id, v.nodes.map((n) => n.html)])).toEqual([]);
    send("Which is faster?");
    expect(model.lastSent()).toEqual({
      type: "compare",
      text: "Which is faster?",
      chat_id: CHAT_A,
      candidates: ["hosted", "local"],
      blind: true,
    });
    expect(chooser().hidden).toBe(true);
    expect(ta.value).toBe("");
    send("A plain message");
    expect(model.lastSent().type).toBe("send"); // one message only goes to several models
  });

  it("the chat menu offers Compare models…, and at most four can be picked", async () => {
    const { model, root, chooser } = mount();
    model.kernel.list_models = () => ({ names: ["a", "b", "c"], error: "" });
    const item = root.querySelector<HTMLButtonElement>('[role=menuitem][data-action="compare"]')!;
    expect(item.textContent).toBe("Compare models…");
    item.click();
    await settle();
    expect(chooser().hidden).toBe(false);
    const boxes = [...chooser().querySelectorAll<HTMLInputElement>("input[type=checkbox][value]")];
    for (const b of boxes.slice(0, 4)) b.click();
    expect(boxes[4].disabled).toBe(true);
    chooser().dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(chooser().hidden).toBe(true);
  });

  it("streams deltas into their panes once a frame; Keep is offered once all are saved", () => {
    const { model, root, panes, bodies, flush } = mount({ busy: true });
    model.update({ compares: { [CHAT_A]: state() } });
    flush();
    expect(panes()).toHaveLength(2);
    expect(panes()[0].getAttribute("aria-label")).toBe("local (llama-3-8b)");
    model.custom({
      type: "compare_delta",
      chat_id: CHAT_A,
      seq: 0,
      panes: [
        { pane: 0, text: "Fast ", reasoning: "" },
        { pane: 1, text: "Slow", reasoning: "" },
      ],
    });
    model.custom({
      type: "compare_delta",
      chat_id: CHAT_A,
      seq: 1,
      panes: [{ pane: 0, text: "**answer**", reasoning: "" }],
    });
    expect(bodies()).toEqual(["", ""]); // painted in the next frame, not per message
    flush();
    expect(bodies()).toEqual(["Fast answer", "Slow"]);
    expect(panes()[0].querySelector("strong")?.textContent).toBe("answer"); // markdown
    model.custom({
      type: "compare_delta",
      chat_id: CHAT_A,
      seq: 1,
      panes: [{ pane: 0, text: "again", reasoning: "" }],
    });
    flush();
    expect(bodies()[0]).toBe("Fast answer"); // a repeated seq is not applied twice
    // An older snapshot does not undo deltas applied since; an ended pane takes its text.
    const first = pane({ text: "Fast **answer**.", status: "complete", message_id: 1, finished: 1, ttft_ms: 120 });
    model.update({ compares: { [CHAT_A]: state({ seq: 0, panes: [first, state().panes[1]] }) } });
    flush();
    expect(bodies()).toEqual(["Fast answer.", "Slow"]);
    expect(panes()[0].textContent).toContain("Finished first");
    const keep = [...root.querySelectorAll<HTMLButtonElement>(".lc-compare-keep")];
    expect(keep.map((k) => k.disabled)).toEqual([true, true]);
    // Stop (the composer's) stops the comparison: one stop for the chat.
    root.querySelector<HTMLButtonElement>('button[aria-label="Stop"]')!.click();
    expect(model.lastSent()).toEqual({ type: "stop", chat_id: CHAT_A });
    const second = { ...state().panes[1], text: "Slow", status: "stopped" as const, message_id: 2, finished: 2 };
    model.update({ busy: false, compares: { [CHAT_A]: state({ seq: 1, streaming: false, panes: [first, second] }) } });
    flush();
    expect(keep.map((k) => k.disabled)).toEqual([false, false]);
    expect(panes()[1].textContent).toContain("Stopped");
    keep[0].click();
    expect(model.lastSent()).toEqual({ type: "compare_keep", chat_id: CHAT_A, pane: 0 });
    model.update({ compares: {} });
    expect(root.querySelector<HTMLElement>(".lc-compare")!.hidden).toBe(true);
  });

  it("blind mode shows Model A and Model B, never the names", async () => {
    const { model, root, panes, flush } = mount();
    const blind = state({
      blind: true,
      streaming: false,
      panes: [
        pane({ label: "Model A", model: "", text: "One", status: "complete", message_id: 1 }),
        pane({ label: "Model B", model: "", text: "Two", status: "complete", message_id: 2 }),
      ],
    });
    model.update({ compares: { [CHAT_A]: blind } });
    flush();
    expect(panes().map((p) => p.getAttribute("aria-label"))).toEqual(["Model A", "Model B"]);
    const section = root.querySelector<HTMLElement>(".lc-compare")!;
    expect(section.textContent).not.toContain("llama");
    expect(section.textContent).not.toContain("local");
    const keep = panes()[1].querySelector<HTMLButtonElement>(".lc-compare-keep")!;
    expect(keep.getAttribute("aria-label")).toBe("Keep this (Model B)");
    const results = await axe.run(section, { rules: { "color-contrast": { enabled: false } } });
    expect(results.violations.map((v) => [v.id, v.nodes.map((n) => n.html)])).toEqual([]);
  });

  it("shows each pane's figures where known", () => {
    expect(paneFigures(pane({ ttft_ms: 118.4, tokens_per_s: 45.2, tokens: 230, cost: 0.00123 }))).toBe(
      "TTFT 118 ms · 45 tok/s · 230 tokens · $0.0012",
    );
    expect(paneFigures(pane({ tokens: 3 }))).toBe("3 tokens");
  });

  it("shows only the active chat's comparison", () => {
    const { model, panes, flush } = mount();
    model.update({ compares: { other: state({ chat_id: "other" }) } });
    flush();
    expect(panes()).toHaveLength(0);
  });
});
