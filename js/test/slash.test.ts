import axe from "axe-core";
import { afterEach, describe, expect, it } from "vitest";
import { ACTIONS, entries, expand, filterEntries, nextPlaceholder, parseSlash } from "../slash";
import type { ContextItem, PromptPayload, Traits } from "../types";
import { CHAT_A } from "./fake_model";
import { mountApp, settle, unmountAll } from "./mount";

afterEach(() => unmountAll());

const EXPLAIN: PromptPayload = {
  name: "explain",
  description: "Explain the recent cells' code step by step",
  body: "Explain the code in my recent cells step by step.",
  placeholders: [],
  context: ["recent cells"],
  source: "built-in",
};
const SUMMARY: PromptPayload = {
  name: "summary",
  description: "Summarize a DataFrame",
  body: "Summarize {{df}} by {{ column }} for {{audience}}.",
  placeholders: ["df", "column", "audience"],
  context: [],
  source: "yours",
};
const PROMPTS = [EXPLAIN, SUMMARY];
const ITEMS: ContextItem[] = [
  { name: "last error", kind: "error", detail: "KeyError" },
  { name: "recent cells", kind: "cells", detail: "3 cells" },
  { name: "df", kind: "DataFrame", detail: "3 rows × 2 columns" },
];

function mount(over: Partial<Traits> = {}, items: ContextItem[] = ITEMS) {
  const mounted = mountApp({ prompt_templates: PROMPTS, ...over });
  mounted.model.kernel.list_context = () => ({ items });
  const ta = mounted.root.querySelector<HTMLTextAreaElement>('textarea[aria-label="Message"]')!;
  return { ...mounted, ta };
}

function type(ta: HTMLTextAreaElement, text: string) {
  ta.value += text;
  ta.setSelectionRange(ta.value.length, ta.value.length);
  ta.dispatchEvent(new Event("input"));
}

function key(target: EventTarget, k: string, shiftKey = false) {
  const e = new KeyboardEvent("keydown", { key: k, shiftKey, bubbles: true, cancelable: true });
  target.dispatchEvent(e);
  return e;
}

const menu = (root: HTMLElement) => root.querySelector<HTMLElement>(".lc-slash-menu")!;
const options = (root: HTMLElement) =>
  [...menu(root).querySelectorAll('[role="option"]')].map((o) => o.getAttribute("data-name"));
const chips = (root: HTMLElement) => [...root.querySelectorAll(".lc-chip")].map((c) => c.getAttribute("data-name"));
const note = (root: HTMLElement) => root.querySelector(".lc-slash-note")!.textContent;
const sentOf = (model: { sent: { type: string }[] }, kind: string) => model.sent.filter((c) => c.type === kind);

describe("parsing and expanding", () => {
  it("reads /name and the value typed after it, only at the start", () => {
    expect(parseSlash("/")).toEqual({ name: "", spaced: false, value: "" });
    expect(parseSlash("/Model gpt-4o-mini ")).toEqual({ name: "model", spaced: true, value: "gpt-4o-mini" });
    expect(parseSlash("/system Be brief.\nVery.")).toEqual({ name: "system", spaced: true, value: "Be brief.\nVery." });
    expect(parseSlash("hi /explain")).toBeNull();
    expect(parseSlash("/usr/bin is odd")).toBeNull();
  });

  it("lists templates then actions, filtered with names starting with the query first", () => {
    const all = entries(PROMPTS);
    expect(all.map((e) => e.name)).toEqual(["explain", "summary", "new", "clear", "model", "system", "compare"]);
    expect(filterEntries(all, "e").map((e) => e.name)).toEqual([
      "explain",
      "new",
      "clear",
      "model",
      "system",
      "compare",
    ]);
    expect(filterEntries(all, "s").map((e) => e.name)).toEqual(["summary", "system"]);
    expect(ACTIONS.find((a) => a.name === "model")?.arg).toBe("NAME");
  });

  it("fills placeholders the kernel offers, then the typed value, and leaves the rest", () => {
    const offered = ITEMS.map((i) => i.name);
    expect(expand(SUMMARY, "region", offered, [])).toEqual({
      text: "Summarize df by region for {{audience}}.",
      attach: ["df"],
      unfilled: [[27, 39]],
    });
    // Not offered (kernel context off): the typed value fills the first placeholder.
    expect(expand(SUMMARY, "sales", [], []).text).toBe("Summarize sales by {{ column }} for {{audience}}.");
    // A chip already chosen counts as offered; it is not attached twice.
    expect(expand(SUMMARY, "", [], ["df"]).attach).toEqual([]);
    expect(expand(SUMMARY, "", [], ["df"]).text).toBe("Summarize df by {{ column }} for {{audience}}.");
    // No placeholder: the value follows the prompt; the context comes along when offered.
    expect(expand(EXPLAIN, "focus on the merge", offered, [])).toEqual({
      text: "Explain the code in my recent cells step by step.\n\nfocus on the merge",
      attach: ["recent cells"],
      unfilled: [],
    });
    expect(expand(EXPLAIN, "", ["df"], []).attach).toEqual([]);
    expect(nextPlaceholder("a {{x}} b {{y}}", 3)).toEqual([10, 15]);
    expect(nextPlaceholder("a {{x}} b {{y}}", 10, true)).toEqual([2, 7]);
    expect(nextPlaceholder("a {{x}}", 7)).toBeNull();
  });
});

describe("the / menu", () => {
  it("opens on / at the start, asks for fresh prompts, filters, and moves with the keys", async () => {
    const { model, root, ta } = mount();
    type(ta, "hello /");
    expect(menu(root).hidden).toBe(true);
    ta.value = "";
    type(ta, "/");
    expect(menu(root).hidden).toBe(false);
    expect(sentOf(model, "refresh_prompts")).toEqual([{ type: "refresh_prompts" }]);
    expect(options(root)).toEqual(["explain", "summary", "new", "clear", "model", "system", "compare"]);
    expect(menu(root).textContent).toContain("Summarize a DataFrame");
    expect(menu(root).textContent).toContain("/model NAME");
    expect(ta.getAttribute("aria-controls")).toBe(menu(root).querySelector('[role="listbox"]')?.id);
    type(ta, "s");
    expect(options(root)).toEqual(["summary", "system"]);
    expect(ta.getAttribute("aria-activedescendant")).toBe(menu(root).querySelector('[aria-selected="true"]')?.id);
    key(ta, "ArrowDown");
    expect(menu(root).querySelector('[aria-selected="true"]')?.getAttribute("data-name")).toBe("system");
    key(ta, "ArrowDown");
    expect(menu(root).querySelector('[aria-selected="true"]')?.getAttribute("data-name")).toBe("summary");
    const results = await axe.run(root.querySelector<HTMLElement>(".lc-composer")!, {
      rules: { "color-contrast": { enabled: false } },
    });
    expect(results.violations.map((v) => [v.id, v.nodes.map((n) => n.html)])).toEqual([]);
    expect(sentOf(model, "refresh_prompts")).toHaveLength(1); // once per opening
  });

  it("follows the kernel's templates while open", () => {
    const { model, root, ta } = mount();
    type(ta, "/su");
    expect(options(root)).toEqual(["summary"]);
    model.update({ prompt_templates: [EXPLAIN, { ...SUMMARY, name: "sum" }, { ...SUMMARY, name: "suggest" }] });
    expect(options(root)).toEqual(["sum", "suggest"]);
  });

  it("Escape closes it and keeps the text as it is: Enter sends it", async () => {
    const { model, root, ta } = mount();
    type(ta, "/new");
    expect(key(ta, "Escape").defaultPrevented).toBe(true);
    expect(menu(root).hidden).toBe(true);
    key(ta, "Enter");
    expect(model.lastSent()).toEqual({ type: "send", text: "/new", chat_id: CHAT_A });
    // Not a command: sent as written.
    type(ta, "/usr/bin is odd");
    expect(menu(root).hidden).toBe(true);
    key(ta, "Enter");
    expect(model.lastSent()).toEqual({ type: "send", text: "/usr/bin is odd", chat_id: CHAT_A });
  });

  it("/explain fills the composer with its body and attaches its context; nothing is sent", async () => {
    const { model, root, ta } = mount();
    type(ta, "/expl");
    await settle();
    expect(key(ta, "Enter").defaultPrevented).toBe(true);
    await settle();
    expect(ta.value).toBe(EXPLAIN.body);
    expect(chips(root)).toEqual(["recent cells"]);
    expect(menu(root).hidden).toBe(true);
    expect(sentOf(model, "send")).toEqual([]);
    key(ta, "Enter"); // now the person sends it
    expect(model.lastSent()).toEqual({ type: "send", text: EXPLAIN.body, chat_id: CHAT_A, context: ["recent cells"] });
  });

  it("a template's {{df}} gets df and its chip when the kernel offers df; the rest is selected in turn", async () => {
    const { root, ta } = mount();
    type(ta, "/summary");
    await settle();
    (menu(root).querySelector('[data-name="summary"]') as HTMLElement).click();
    await settle();
    expect(ta.value).toBe("Summarize df by {{ column }} for {{audience}}.");
    expect(chips(root)).toEqual(["df"]);
    expect(ta.value.slice(ta.selectionStart, ta.selectionEnd)).toBe("{{ column }}");
    expect(note(root)).toContain("Tab");
    expect(key(ta, "Tab").defaultPrevented).toBe(true);
    expect(ta.value.slice(ta.selectionStart, ta.selectionEnd)).toBe("{{audience}}");
    expect(key(ta, "Tab", true).defaultPrevented).toBe(true);
    expect(ta.value.slice(ta.selectionStart, ta.selectionEnd)).toBe("{{ column }}");
    ta.setSelectionRange(ta.value.length, ta.value.length);
    expect(key(ta, "Tab").defaultPrevented).toBe(false); // past the last: Tab leaves as usual
    ta.value = "Summarize df by region for my boss.";
    ta.dispatchEvent(new Event("input"));
    expect(note(root)).toBe(""); // all filled in: the note goes
  });

  it("a value typed after the name fills the first placeholder; the Send button expands too", async () => {
    const { model, root, ta } = mount({ allow_kernel_context: false });
    type(ta, "/summary sales");
    expect(options(root)).toEqual(["summary"]); // the one command, with its description
    root.querySelector<HTMLButtonElement>(".lc-send")!.click();
    await settle();
    expect(ta.value).toBe("Summarize sales by {{ column }} for {{audience}}.");
    expect(chips(root)).toEqual([]); // kernel context is off here
    expect(sentOf(model, "list_context")).toEqual([]);
    expect(sentOf(model, "send")).toEqual([]);
  });

  it("/model NAME and /system TEXT configure the chat; without a value they say what is missing", () => {
    const { model, root, ta } = mount();
    type(ta, "/model gpt-4o-mini");
    key(ta, "Enter");
    expect(model.lastSent()).toEqual({
      type: "configure",
      chat_id: CHAT_A,
      model: "gpt-4o-mini",
      system_prompt: "",
      temperature: null,
      max_tokens: null,
      tools: true,
      tool_steps: 10,
    });
    expect(ta.value).toBe("");
    type(ta, "/system Be brief.");
    key(ta, "Enter");
    expect(model.lastSent()).toMatchObject({ type: "configure", model: "fake-model", system_prompt: "Be brief." });
    const before = model.sent.length;
    type(ta, "/mod");
    key(ta, "Enter");
    expect(ta.value).toBe("/model ");
    expect(note(root)).toContain("Type the model's name after /model");
    key(ta, "Enter");
    ta.value = "";
    type(ta, "/system   ");
    key(ta, "Enter");
    expect(note(root)).toContain("Type the system prompt after /system");
    ta.value = "";
    ta.dispatchEvent(new Event("input"));
    expect(note(root)).toBe("");
    expect(model.sent.slice(before).filter((c) => c.type !== "refresh_prompts")).toEqual([]);
  });

  it("/new starts a chat and /clear archives the chat shown", () => {
    const { model, root, ta } = mount();
    type(ta, "/new");
    key(ta, "Enter");
    expect(model.lastSent()).toEqual({ type: "new_chat" });
    model.update({ active_chat_id: CHAT_A });
    type(ta, "/clear");
    key(ta, "Tab");
    expect(model.lastSent()).toEqual({ type: "clear", chat_id: CHAT_A });
    model.update({ active_chat_id: "", messages: [] });
    type(ta, "/clear");
    key(ta, "Enter");
    expect(sentOf(model, "clear")).toHaveLength(1); // nothing more
    expect(note(root)).toBe("There is no chat to archive yet.");
  });
});
