import { afterEach, describe, expect, it } from "vitest";
import { readValues } from "../components/settings_panel";
import { usageSummary } from "../components/usage";
import { CHAT_A } from "./fake_model";
import { mountApp, settle, unmountAll } from "./mount";
import type { Message, Traits } from "../types";

afterEach(unmountAll);

function mount(over: Partial<Traits> = {}, models: string[] = []) {
  const mounted = mountApp(over);
  mounted.model.kernel.list_models = () => ({ names: models, error: "" });
  return mounted;
}

const USAGE = {
  model: "fake-model",
  prompt_tokens: 9,
  completion_tokens: 12,
  estimated: false,
  ttft_ms: 250,
  tokens_per_s: 40,
};

function reply(over: Partial<Message> = {}): Message[] {
  return [
    { id: 0, role: "user", content: "Why?", timestamp: "2025-01-01T10:00:00.000Z", status: "complete", error: "" },
    {
      id: 1,
      role: "assistant",
      content: "Because.",
      timestamp: "2025-01-01T10:00:01.000Z",
      status: "complete",
      error: "",
      reasoning: "The person asks why; answer briefly.",
      usage: USAGE,
      ...over,
    },
  ];
}

describe("settings panel", () => {
  it("opens from the topbar, asks for the models and shows the provider's list", async () => {
    const { model, root } = mountApp();
    const button = root.querySelector<HTMLButtonElement>('[aria-label="Chat settings"]')!;
    const panel = root.querySelector<HTMLElement>(".lc-settings")!;
    expect(panel.hidden).toBe(true);
    button.click();
    expect(panel.hidden).toBe(false);
    expect(button.getAttribute("aria-expanded")).toBe("true");
    expect(model.lastSent()).toMatchObject({ type: "list_models", request: expect.any(String) });
    expect(panel.textContent).toContain("Asking the provider for its models…");

    model.answer("list_models", { names: ["fake-model", "fake-large"], error: "" });
    await settle();
    const select = panel.querySelector<HTMLSelectElement>('[aria-label="Model"]')!;
    const options = Array.from(select.options).map((o) => o.textContent);
    expect(options).toEqual(["fake-model", "fake-large", "Other (type a name)…"]);
    expect(select.value).toBe("fake-model");
    expect(panel.querySelector<HTMLInputElement>('[aria-label="Model name"]')!.hidden).toBe(true);
    expect(panel.textContent).toContain("2 models listed by the provider.");
  });

  it("shows the provider's error, and a refusal, under the model", async () => {
    const { model, root } = mountApp();
    const button = root.querySelector<HTMLButtonElement>('[aria-label="Chat settings"]')!;
    const note = root.querySelector<HTMLElement>(".lc-model-note")!;
    button.click();
    model.answer("list_models", { names: [], error: "The provider did not answer." });
    await settle();
    expect(note.textContent).toBe("The provider did not answer. Type a model name instead.");
    button.click();
    button.click();
    model.refuse("list_models", "Too many requests.");
    await settle();
    expect(note.textContent).toBe("Too many requests. Type a model name instead.");
  });

  it("saves the chosen model, system prompt and numbers as a configure command", async () => {
    const { model, root } = mount({}, ["fake-model", "fake-large"]);
    root.querySelector<HTMLButtonElement>('[aria-label="Chat settings"]')!.click();
    await settle();
    const panel = root.querySelector<HTMLElement>(".lc-settings")!;
    const select = panel.querySelector<HTMLSelectElement>('[aria-label="Model"]')!;
    select.value = "fake-large";
    select.dispatchEvent(new Event("change", { bubbles: true }));
    const prompt = panel.querySelector<HTMLTextAreaElement>('[aria-label="System prompt"]')!;
    prompt.value = "Answer like a pirate.\nKeep it short.";
    prompt.dispatchEvent(new Event("input", { bubbles: true }));
    panel.querySelector<HTMLInputElement>('[aria-label="Temperature"]')!.value = "0.3";
    panel.querySelector<HTMLInputElement>('[aria-label="Max tokens"]')!.value = "64";
    panel.querySelector("form")!.dispatchEvent(new Event("submit", { cancelable: true }));
    expect(model.lastSent()).toEqual({
      type: "configure",
      chat_id: CHAT_A,
      model: "fake-large",
      system_prompt: "Answer like a pirate.\nKeep it short.",
      temperature: 0.3,
      max_tokens: 64,
      tools: true,
      tool_steps: 10,
      prices: null,
      max_cost: null,
      context_window: null,
    });
    expect(panel.hidden).toBe(true);
  });

  it("takes a typed name when the server lists none, and refuses bad numbers in place", async () => {
    const { model, root } = mount({
      chat_settings: { model: "", system_prompt: "", temperature: null, max_tokens: null, tools: true, tool_steps: 10 },
    });
    root.querySelector<HTMLButtonElement>('[aria-label="Chat settings"]')!.click();
    await settle();
    const panel = root.querySelector<HTMLElement>(".lc-settings")!;
    const name = panel.querySelector<HTMLInputElement>('[aria-label="Model name"]')!;
    expect(name.hidden).toBe(false);
    expect(panel.textContent).toContain("The provider lists no models: type a name.");
    name.value = "llama3.2:1b";
    panel.querySelector<HTMLInputElement>('[aria-label="Temperature"]')!.value = "7";
    const before = model.sent.length;
    panel.querySelector("form")!.dispatchEvent(new Event("submit", { cancelable: true }));
    expect(model.sent.length).toBe(before);
    expect(panel.querySelector<HTMLElement>(".lc-settings-problem")!.textContent).toContain("between 0 and 2");
    panel.querySelector<HTMLInputElement>('[aria-label="Temperature"]')!.value = "";
    panel.querySelector("form")!.dispatchEvent(new Event("submit", { cancelable: true }));
    expect(model.lastSent()).toMatchObject({
      type: "configure",
      model: "llama3.2:1b",
      temperature: null,
      max_tokens: null,
    });
  });

  it("keeps what the person typed when the model list arrives; Esc asks before it drops it", async () => {
    const { model, root } = mountApp();
    root.querySelector<HTMLButtonElement>('[aria-label="Chat settings"]')!.click();
    const panel = root.querySelector<HTMLElement>(".lc-settings")!;
    const prompt = panel.querySelector<HTMLTextAreaElement>('[aria-label="System prompt"]')!;
    prompt.value = "draft";
    prompt.dispatchEvent(new Event("input", { bubbles: true }));
    model.answer("list_models", { names: ["a-model"], error: "" });
    await settle();
    expect(prompt.value).toBe("draft");
    expect(Array.from(panel.querySelector<HTMLSelectElement>("select")!.options).map((o) => o.value)).toContain(
      "a-model",
    );
    prompt.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true, cancelable: true }));
    expect(panel.hidden).toBe(false);
    const discard = Array.from(panel.querySelectorAll<HTMLButtonElement>(".lc-settings-unsaved button"));
    discard.find((b) => b.textContent === "Discard changes")!.click();
    expect(panel.hidden).toBe(true);
  });

  it("checks values like the kernel does", () => {
    expect(readValues("http://evil/v1", "", "", "")).toBe("The model must be a name, not a URL.");
    expect(readValues(" m ", "p", "1.5", "10")).toEqual({
      model: "m",
      system_prompt: "p",
      temperature: 1.5,
      max_tokens: 10,
      tools: true,
      tool_steps: 10,
    });
    expect(readValues("m", "", "", "", false, "3")).toMatchObject({ tools: false, tool_steps: 3 });
    expect(readValues("m", "", "", "", true, "51")).toContain("between 1 and 50");
    expect(readValues("m", "", "", "", true, "")).toContain("Tool steps");
    expect(readValues("m", "", "", "2.5")).toContain("whole number");
    expect(readValues("", "", "", "")).toContain("Choose a model");
  });
});

describe("tools in the settings panel", () => {
  it("shows the chat's Tools switch and steps, and sends them with configure", async () => {
    const { model, root } = mount({
      chat_settings: {
        model: "fake-model",
        system_prompt: "",
        temperature: null,
        max_tokens: null,
        tools: true,
        tool_steps: 7,
      },
    });
    root.querySelector<HTMLButtonElement>('[aria-label="Chat settings"]')!.click();
    await settle();
    const panel = root.querySelector<HTMLElement>(".lc-settings")!;
    const tools = panel.querySelector<HTMLInputElement>("input.lc-tools")!;
    const steps = panel.querySelector<HTMLInputElement>('[aria-label="Tool steps"]')!;
    expect(tools.type).toBe("checkbox");
    expect(tools.classList.contains("lc:d-toggle")).toBe(true);
    expect(tools.checked).toBe(true);
    expect(tools.closest("label")!.textContent).toContain("Tools");
    expect(document.getElementById(tools.getAttribute("aria-describedby")!)!.textContent).toContain("run Python");
    expect(steps.value).toBe("7");

    steps.value = "12";
    steps.dispatchEvent(new Event("input", { bubbles: true }));
    tools.click(); // off: the steps field rests, its value is kept
    expect(steps.disabled).toBe(true);
    panel.querySelector("form")!.dispatchEvent(new Event("submit", { cancelable: true }));
    expect(model.lastSent()).toMatchObject({ type: "configure", chat_id: CHAT_A, tools: false, tool_steps: 12 });
  });

  it("asks before dropping a changed Tools switch, and refuses steps out of range in place", async () => {
    const { model, root } = mount();
    const toggle = root.querySelector<HTMLButtonElement>('[aria-label="Chat settings"]')!;
    toggle.click();
    await settle();
    const panel = root.querySelector<HTMLElement>(".lc-settings")!;
    panel.querySelector<HTMLInputElement>("input.lc-tools")!.click();
    toggle.click(); // close: the edit is not saved, so the panel asks
    expect(panel.querySelector<HTMLElement>(".lc-settings-unsaved")!.hidden).toBe(false);
    expect(panel.hidden).toBe(false);

    panel.querySelector<HTMLButtonElement>(".lc-settings-unsaved button")!.click(); // Keep editing
    panel.querySelector<HTMLInputElement>("input.lc-tools")!.click(); // back on
    const steps = panel.querySelector<HTMLInputElement>('[aria-label="Tool steps"]')!;
    steps.value = "0";
    const before = model.sent.length;
    panel.querySelector("form")!.dispatchEvent(new Event("submit", { cancelable: true }));
    expect(model.sent.length).toBe(before);
    expect(panel.querySelector<HTMLElement>(".lc-settings-problem")!.textContent).toContain("between 1 and 50");
  });
});

describe("reasoning and usage of a saved reply", () => {
  it("shows the reasoning collapsed above the answer, expandable", () => {
    const { root } = mount({ messages: reply() });
    const details = root.querySelector<HTMLDetailsElement>(".lc-msg-assistant .lc-reasoning")!;
    expect(details.hidden).toBe(false);
    expect(details.open).toBe(false);
    expect(details.querySelector("summary")!.textContent).toBe("Reasoning");
    expect(details.textContent).toContain("answer briefly");
    // above the answer
    const bubble = root.querySelector(".lc-msg-assistant .lc-bubble")!;
    expect(bubble.firstElementChild).toBe(details);
    details.open = true;
    expect(details.open).toBe(true);
  });

  it("has no reasoning section for a reply without reasoning (files from before)", () => {
    const { root } = mount({ messages: reply({ reasoning: undefined, usage: undefined }) });
    expect(root.querySelector<HTMLElement>(".lc-msg-assistant .lc-reasoning")!.hidden).toBe(true);
    expect(root.querySelector<HTMLElement>(".lc-msg-assistant .lc-usage")!.hidden).toBe(true);
  });

  it("puts tokens, speed and model in the footer; estimates are marked", () => {
    const { root, model } = mount({ messages: reply() });
    const usage = root.querySelector<HTMLElement>(".lc-msg-assistant .lc-usage")!;
    expect(usage.hidden).toBe(false);
    expect(usage.closest(".lc-actions")).not.toBeNull();
    expect(usage.textContent).toBe("fake-model · 9 in · 12 out · 250 ms to first token · 40 tokens/s");
    model.update({ messages: reply({ usage: { ...USAGE, estimated: true, ttft_ms: 1500 } }) });
    expect(usage.textContent).toBe("fake-model · ≈9 in · ≈12 out · 1.5 s to first token · 40 tokens/s (estimated)");
    expect(usage.title).toContain("estimated from the text");
  });

  it("summarises missing figures without inventing them", () => {
    const s = usageSummary({
      model: "",
      prompt_tokens: null,
      completion_tokens: 3,
      estimated: false,
      ttft_ms: null,
      tokens_per_s: null,
    });
    expect(s.text).toBe("– in · 3 out");
  });
});

describe("stats panel", () => {
  it("sums tokens for this chat and for all chats", () => {
    const { root } = mount({
      stats: {
        recent: [],
        totals: { replies: 1, completed: 1, stopped: 0, errors: 0, tokens: 12 },
        chat: { replies: 2, prompt_tokens: 30, completion_tokens: 40, estimated: 0 },
        overall: { replies: 5, prompt_tokens: 1200, completion_tokens: 800, estimated: 1 },
      },
    });
    const rows = Array.from(root.querySelectorAll(".lc-usage-totals tbody tr")).map((r) =>
      Array.from(r.children).map((c) => c.textContent),
    );
    expect(rows).toEqual([
      ["This chat", "2", "30", "40"],
      ["All chats", "5", `≈${(1200).toLocaleString()}`, "≈800"],
    ]);
  });
});
