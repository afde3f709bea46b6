import { afterEach, describe, expect, it, vi } from "vitest";
import { filterItems, mentionAt } from "../components/context_picker";
import { CHAT_A } from "./fake_model";
import { mountApp, settle, unmountAll } from "./mount";
import type { Traits } from "../types";

afterEach(() => {
  vi.useRealTimers();
  unmountAll();
});

const mount = (over: Partial<Traits> = {}) => mountApp(over);

function type(ta: HTMLTextAreaElement, text: string) {
  ta.value += text;
  ta.setSelectionRange(ta.value.length, ta.value.length);
  ta.dispatchEvent(new Event("input"));
}

function key(target: EventTarget, k: string) {
  const e = new KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true });
  target.dispatchEvent(e);
  return e;
}

const ITEMS = [
  { name: "last error", kind: "error", detail: "ZeroDivisionError" },
  { name: "df", kind: "DataFrame", detail: "3 rows × 2 columns" },
  { name: "odd", kind: "dict", detail: "2 items" },
];

describe("the @ picker", () => {
  it("finds the mention before the caret only at a word start", () => {
    expect(mentionAt("hi @d", 5)).toEqual({ start: 3, query: "d" });
    expect(mentionAt("@", 1)).toEqual({ start: 0, query: "" });
    expect(mentionAt("mail@x", 6)).toBeNull();
    expect(filterItems(ITEMS, "d").map((i) => i.name)).toEqual(["df", "odd"]);
  });

  it("asks the kernel, lists its items, and makes chips that go with the message", async () => {
    const { model, root } = mount();
    const ta = root.querySelector<HTMLTextAreaElement>('textarea[aria-label="Message"]')!;
    type(ta, "@");
    expect(model.lastSent()).toMatchObject({ type: "list_context", request: expect.any(String) });
    const listbox = root.querySelector('[role="listbox"]')!;
    expect(listbox.closest("[hidden]")).toBeNull();
    expect(listbox.textContent).toContain("Asking the kernel");
    model.answer("list_context", { items: ITEMS });
    await settle();
    expect(listbox.querySelectorAll('[role="option"]')).toHaveLength(3);
    type(ta, "d");
    expect(listbox.querySelector('[aria-selected="true"]')?.getAttribute("data-name")).toBe("df");
    key(ta, "ArrowDown");
    expect(listbox.querySelector('[aria-selected="true"]')?.getAttribute("data-name")).toBe("odd");
    key(ta, "ArrowUp");
    expect(key(ta, "Enter").defaultPrevented).toBe(true);
    expect(ta.value).toBe("");
    expect(root.querySelector(".lc-context-picker")?.hasAttribute("hidden")).toBe(true);
    expect([...root.querySelectorAll(".lc-chip")].map((c) => c.getAttribute("data-name"))).toEqual(["df"]);

    type(ta, "@last");
    (listbox.querySelector('[data-name="last error"]') as HTMLElement).click();
    type(ta, "why?");
    key(ta, "Enter");
    expect(model.lastSent()).toEqual({ type: "send", text: "why?", chat_id: CHAT_A, context: ["df", "last error"] });
    expect(root.querySelectorAll(".lc-chip")).toHaveLength(0);
  });

  it("Escape closes the list without stopping anything; a chip can be removed", async () => {
    const { model, root } = mount();
    model.kernel.list_context = () => ({ items: ITEMS });
    const ta = root.querySelector<HTMLTextAreaElement>('textarea[aria-label="Message"]')!;
    type(ta, "@");
    await settle();
    key(ta, "Enter");
    root.querySelector<HTMLButtonElement>('[aria-label="Remove last error"]')!.click();
    expect(root.querySelectorAll(".lc-chip")).toHaveLength(0);
    type(ta, "@");
    key(ta, "Escape");
    expect(root.querySelector(".lc-context-picker")?.hasAttribute("hidden")).toBe(true);
    type(ta, "plain");
    key(ta, "Enter");
    expect(model.lastSent()).toEqual({ type: "send", text: "@plain", chat_id: CHAT_A });
  });

  it("shows the kernel's refusal in the list", async () => {
    const { model, root } = mount();
    const ta = root.querySelector<HTMLTextAreaElement>('textarea[aria-label="Message"]')!;
    type(ta, "@");
    model.refuse("list_context", "Kernel context is turned off.");
    await settle();
    expect(root.querySelector('[role="listbox"]')!.textContent).toContain("Kernel context is turned off.");
  });

  it("is not offered when the kernel turned it off", () => {
    const { model, root } = mount({ allow_kernel_context: false });
    const ta = root.querySelector<HTMLTextAreaElement>('textarea[aria-label="Message"]')!;
    type(ta, "@");
    expect(model.sent).toEqual([]);
    expect(root.querySelector(".lc-context-picker")?.hasAttribute("hidden")).toBe(true);
  });
});

describe("sent context and code runs", () => {
  const messages: Traits["messages"] = [
    {
      id: 0,
      role: "user",
      content: "why?",
      timestamp: "2025-01-01T10:00:00.000Z",
      status: "complete",
      error: "",
      context: [{ name: "df", kind: "DataFrame", text: "pandas DataFrame, 3 rows" }],
    },
    {
      id: 1,
      role: "assistant",
      content: "```python\nx = 1\n```\n\n```js\nno()\n```",
      timestamp: "2025-01-01T10:00:01.000Z",
      status: "complete",
      error: "",
      runs: [],
    },
  ];

  it("shows the chips of a sent message with the text the model received", () => {
    const { root } = mount({ messages });
    const chip = root.querySelector(".lc-msg-user .lc-sent-chip")!;
    expect(chip.getAttribute("data-name")).toBe("df");
    expect(chip.querySelector(".lc-sent-text")?.textContent).toBe("pandas DataFrame, 3 rows");
  });

  it("offers Run on Python blocks only, after a confirm, and shows the output", () => {
    const { model, root } = mount({ messages });
    const runs = root.querySelectorAll<HTMLButtonElement>(".lc-code-run");
    expect(runs).toHaveLength(1);
    runs[0].click();
    expect(model.sent).toEqual([]); // nothing runs without the confirm
    root.querySelector<HTMLButtonElement>('[aria-label="Confirm run"]')!.click();
    expect(model.lastSent()).toEqual({ type: "run_code", chat_id: CHAT_A, message_id: 1, code: "x = 1" });
    expect(root.querySelector<HTMLButtonElement>(".lc-code-run")!.disabled).toBe(true);
    model.update({ running_code: { chat_id: CHAT_A, message_id: 1, code: "x = 1" } });
    expect(root.querySelector(".lc-code-stop")?.hasAttribute("hidden")).toBe(false);
    const done = [...messages];
    done[1] = {
      ...done[1],
      runs: [{ code: "x = 1", status: "ok", stdout: "hello\n", result: "", error: "", images: [] }],
    };
    model.update({ running_code: { chat_id: "", message_id: -1, code: "" }, messages: done });
    expect(root.querySelector('[aria-label="Run output"]')?.textContent).toContain("hello");
    expect(root.querySelector<HTMLButtonElement>(".lc-code-run")!.disabled).toBe(false);
    expect(root.querySelector(".lc-code-stop")?.hasAttribute("hidden")).toBe(true);
  });

  it("offers Run on every block of a streamed reply whose end is rendered over several slices", () => {
    vi.useFakeTimers();
    let clock = 0;
    vi.spyOn(performance, "now").mockImplementation(() => (clock += 50)); // every check is over budget
    try {
      const text = "First:\n\n```python\na = 1\n```\n\nThen:\n\n```python\nb = 2\n```\n\nDone.";
      const { model, root } = mount({ messages: [messages[0]], busy: true });
      const delta = (seq: number, part: string) => ({
        type: "delta",
        chat_id: CHAT_A,
        message_id: 1,
        seq,
        text: part,
        reasoning: "",
      });
      model.custom(delta(0, text.slice(0, 30)));
      vi.advanceTimersByTime(500);
      model.custom(delta(1, text.slice(30)));
      vi.advanceTimersByTime(500);
      model.custom({
        type: "done",
        chat_id: CHAT_A,
        message_id: 1,
        seq: 1,
        text,
        reasoning: "",
        status: "complete",
        error: "",
      });
      const reply = { ...messages[1], content: text };
      model.update({ busy: false, messages: [messages[0], reply] });
      vi.runAllTimers();
      expect(root.querySelectorAll(".lc-codeblock")).toHaveLength(2);
      expect(root.querySelectorAll(".lc-code-run")).toHaveLength(2);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it("has no Run when the kernel turned it off", () => {
    const { root } = mount({ messages, allow_code: false });
    expect(root.querySelector(".lc-code-run")?.hasAttribute("hidden")).toBe(true);
  });
});

describe("insert as cell", () => {
  const messages: Traits["messages"] = [
    { id: 0, role: "user", content: "code?", timestamp: "2025-01-01T10:00:00.000Z", status: "complete", error: "" },
    {
      id: 1,
      role: "assistant",
      content: "```python\ny = 2\n```\n\n```js\nno()\n```\n\n```text\nplain\n```",
      timestamp: "2025-01-01T10:00:01.000Z",
      status: "complete",
      error: "",
      runs: [],
    },
  ];
  const insertButtons = (root: HTMLElement) => Array.from(root.querySelectorAll<HTMLButtonElement>(".lc-code-insert"));

  it("is absent until the kernel says ipylab answered, then shows on Python blocks only", () => {
    const { model, root } = mount({ messages });
    expect(insertButtons(root).filter((b) => !b.hidden)).toHaveLength(0);
    model.update({ can_insert_cell: true });
    const shown = insertButtons(root).filter((b) => !b.hidden);
    expect(shown).toHaveLength(1);
    expect(shown[0].getAttribute("aria-label")).toBe("Insert as cell");
    expect(shown[0].closest(".lc-codeblock")?.querySelector("pre")?.getAttribute("data-lang")).toBe("python");
    model.update({ can_insert_cell: false }); // the bridge went away: the button goes too
    expect(insertButtons(root).filter((b) => !b.hidden)).toHaveLength(0);
  });

  it("asks the kernel for the block, by reply and text, without a confirm", () => {
    const { model, root } = mount({ messages, can_insert_cell: true });
    insertButtons(root)[0].click();
    expect(model.lastSent()).toEqual({ type: "insert_cell", chat_id: CHAT_A, message_id: 1, code: "y = 2" });
  });

  it("stands first on the right when Run is turned off, after Run otherwise", () => {
    const shown = (root: HTMLElement) =>
      Array.from(root.querySelector(".lc-codeblock .lc-code-actions")!.querySelectorAll("button"))
        .filter((b) => !b.hidden)
        .map((b) => b.getAttribute("aria-label"));
    const withRun = mount({ messages, can_insert_cell: true }).root;
    const head = withRun.querySelector(".lc-codeblock")!.firstElementChild!;
    const names = Array.from(head.querySelectorAll("button")).map((b) => b.getAttribute("aria-label"));
    expect(names).toEqual(["Run", "Stop run", "Insert as cell", "Copy"]);
    expect(shown(withRun)).toEqual(["Run", "Insert as cell", "Copy"]);
    const noRun = mount({ messages, can_insert_cell: true, allow_code: false }).root;
    expect(shown(noRun)).toEqual(["Insert as cell", "Copy"]);
  });
});
