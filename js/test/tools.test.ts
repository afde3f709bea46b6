// Tool calls in a reply: cards at their offsets, consent, live updates, results, Stop.
import axe from "axe-core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { flowPieces, textIndex } from "../components/reply_flow";
import { argumentsText, statusText } from "../components/tool_card";
import { StreamStore, withCall } from "../stream_state";
import type { Message, ToolCall, Traits } from "../types";
import { CHAT_A } from "./fake_model";
import { mountApp, unmountAll } from "./mount";

afterEach(() => {
  unmountAll();
  vi.useRealTimers();
});

const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

function call(over: Partial<ToolCall> = {}): ToolCall {
  return {
    id: "c1",
    name: "list_variables",
    arguments: "{}",
    step: 1,
    offset: 0,
    status: "ok",
    needs_consent: false,
    source: "kernel",
    code: "",
    content: "df: DataFrame (3, 2)",
    images: [],
    ms: 120,
    ...over,
  };
}

const USER: Message = {
  id: 0,
  role: "user",
  content: "What do I have?",
  timestamp: "2025-01-01T10:00:00.000Z",
  status: "complete",
  error: "",
};

function saved(content: string, tools: ToolCall[], id = 1): Message {
  return {
    id,
    role: "assistant",
    content,
    timestamp: "2025-01-01T10:00:01.000Z",
    status: "complete",
    error: "",
    tools,
  };
}

function mount(over: Partial<Traits> = {}) {
  const frames: (() => void)[] = [];
  const mounted = mountApp(over, (cb) => frames.push(cb));
  const frame = () => {
    for (const f of frames.splice(0)) f();
  };
  return { ...mounted, frame };
}

/** The reply's parts in order: "text" for a piece of markdown shown, the call id for a card. */
function parts(root: HTMLElement, id = 1): string[] {
  const reply = root.querySelector(`.lc-msg[data-id="${id}"] .lc-reply`)!;
  return Array.from(reply.children)
    .filter((el) => !(el as HTMLElement).hidden)
    .map((el) =>
      el.classList.contains("lc-tool") ? (el as HTMLElement).dataset.callId! : `text:${el.textContent!.trim()}`,
    );
}

const card = (root: HTMLElement, id: string) =>
  Array.from(root.querySelectorAll<HTMLElement>(".lc-tool")).find((el) => el.dataset.callId === id)!;

const toolMsg = (c: ToolCall, message_id = 1) => ({ type: "tool", chat_id: CHAT_A, message_id, call: c });

describe("tool cards in a saved reply", () => {
  it("cuts the text at the calls' offsets and puts the cards between the pieces", () => {
    const text = "Let me look.Two tools at once.Done: 3 variables.";
    const tools = [
      call({ id: "a", offset: 12 }),
      call({ id: "b", offset: 30, name: "describe" }),
      call({ id: "c", offset: 30, name: "run_python" }),
    ];
    const { root } = mount({ messages: [USER, saved(text, tools)] });
    expect(parts(root)).toEqual([
      "text:Let me look.",
      "a",
      "text:Two tools at once.",
      "b",
      "c",
      "text:Done: 3 variables.",
    ]);
  });

  it("counts offsets in code points, as the kernel does", () => {
    const text = "😀 ok, then more";
    expect(textIndex(text, 5)).toBe(6); // the emoji is two UTF-16 units
    expect(flowPieces(text, [call({ offset: 5 })]).map((p) => (p.kind === "text" ? p.text : p.key))).toEqual([
      "😀 ok,",
      "call:c1",
      " then more",
    ]);
    expect(textIndex("short", 99)).toBe(5);
  });

  it("shows the name, source, status, code as Python and other arguments as JSON", () => {
    const tools = [
      call({
        id: "py",
        name: "run_python",
        arguments: JSON.stringify({ code: "import math\nprint(math.pi)", timeout: 5 }),
        code: "import math\nprint(math.pi)",
        ms: 1530,
      }),
      call({ id: "mcp", name: "read_file", source: "mcp:files", arguments: '{"path": "a.txt"}', status: "error" }),
      call({ id: "bad", name: "describe", arguments: '{"name": "df"', status: "denied" }),
    ];
    const { root } = mount({ messages: [USER, saved("Here.\n\n```python\nprint(2)\n```", tools)] });
    const py = card(root, "py");
    expect(py.querySelector(".lc-tool-name")!.textContent).toBe("run_python");
    expect(py.querySelector<HTMLElement>(".lc-tool-source")!.hidden).toBe(true);
    expect(py.querySelector(".lc-tool-badge")!.textContent).toBe("Done · 1.5 s");
    const [code, rest] = Array.from(py.querySelectorAll(".lc-codeblock"));
    expect(code.querySelector(".lc-code-lang")!.textContent).toBe("python");
    expect(code.querySelector(".hljs-keyword")!.textContent).toBe("import");
    expect(rest.querySelector("pre")!.textContent).toBe('{\n  "timeout": 5\n}');
    // A tool's code is run by its call, not by the reply's Run (which its own blocks keep).
    expect(py.querySelector(".lc-code-run")).toBeNull();
    expect(root.querySelector('.lc-msg[data-id="1"] .lc-md .lc-code-run')).not.toBeNull();

    const mcp = card(root, "mcp");
    expect(mcp.querySelector(".lc-tool-source")!.textContent).toBe("MCP · files");
    expect(mcp.querySelector(".lc-tool-badge")!.textContent).toBe("Failed");
    expect(mcp.querySelector("pre")!.textContent).toBe('{\n  "path": "a.txt"\n}');
    const bad = card(root, "bad");
    expect(bad.querySelector(".lc-tool-badge")!.textContent).toBe("Denied");
    expect(bad.querySelector(".lc-tool-args pre")!.textContent).toBe('{"name": "df"'); // as the model wrote it
    expect(bad.getAttribute("aria-label")).toBe("Tool call: describe");
  });

  it("collapses the result under the card, its text in a scrolling pre and its images below", () => {
    const tools = [call({ id: "r", content: "line 1\nline 2", images: [PNG] }), call({ id: "none", content: "" })];
    const { root } = mount({ messages: [USER, saved("Done.", tools)] });
    const result = card(root, "r").querySelector<HTMLDetailsElement>("details.lc-tool-result")!;
    expect(result.hidden).toBe(false);
    expect(result.open).toBe(false);
    expect(result.querySelector("summary")!.textContent).toBe("Result · 2 lines, 1 image");
    const pre = result.querySelector<HTMLElement>("pre.lc-tool-content")!;
    expect(pre.textContent).toBe("line 1\nline 2");
    expect(pre.tabIndex).toBe(0); // it scrolls: keyboard users can reach it
    expect(pre.className).toContain("lc:max-h-[16em]");
    const img = result.querySelector("img")!;
    expect(img.getAttribute("src")).toBe(`data:image/png;base64,${PNG}`);
    expect(img.getAttribute("alt")).toBeTruthy();
    expect(pre.compareDocumentPosition(img) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect(card(root, "none").querySelector<HTMLElement>("details")!.hidden).toBe(true);
  });

  it("passes axe on a waiting card and a finished one", async () => {
    const tools = [
      call({ id: "w", name: "run_python", status: "waiting", needs_consent: true, code: "x = 1", content: "" }),
      call({ id: "d", content: "ok", images: [PNG] }),
    ];
    const { root } = mount({ messages: [USER, saved("Text.", tools)] });
    for (const el of [card(root, "w"), card(root, "d")]) {
      const results = await axe.run(el, { rules: { "color-contrast": { enabled: false } } });
      expect(results.violations.map((v) => v.id)).toEqual([]);
    }
  });
});

describe("tool cards while a reply streams", () => {
  const delta = (seq: number, text: string) => ({
    type: "delta",
    chat_id: CHAT_A,
    message_id: 1,
    seq,
    text,
    reasoning: "",
  });
  const waiting = call({
    id: "t1",
    name: "run_python",
    arguments: '{"code": "df.head()"}',
    code: "df.head()",
    offset: 11,
    status: "waiting",
    needs_consent: true,
    content: "",
    ms: null,
  });

  it("asks for consent: each answer sends tool_consent, the buttons rest until the next state", () => {
    const { root, model, frame } = mount({ messages: [USER], busy: true });
    model.custom(delta(0, "Let me run."));
    model.custom(toolMsg(waiting));
    frame();
    const el = card(root, "t1");
    expect(el.querySelector(".lc-tool-badge")!.textContent).toBe("Waiting for you");
    const consent = el.querySelector<HTMLElement>(".lc-tool-consent")!;
    expect(consent.hidden).toBe(false);
    expect(consent.getAttribute("role")).toBe("group");
    const buttons = Array.from(consent.querySelectorAll("button"));
    expect(buttons.map((b) => b.textContent)).toEqual(["Allow once", "Allow for this chat", "Deny"]);
    // Focus stays in the composer; the answers are the next tab stops after the reply's text.
    expect(document.activeElement).not.toBe(buttons[0]);
    expect(buttons.every((b) => b.tabIndex === 0 && b.className.includes("lc-focus"))).toBe(true);
    expect(root.querySelector('[role="log"] ~ [role="status"]')!.textContent).toContain(
      "run_python is waiting for your permission",
    );

    buttons[0].click();
    expect(model.lastSent()).toEqual({ type: "tool_consent", chat_id: CHAT_A, call_id: "t1", decision: "once" });
    expect(buttons.every((b) => b.disabled)).toBe(true);
    buttons[2].click(); // disabled: nothing more is sent
    expect(model.sent.filter((m) => m.type === "tool_consent")).toHaveLength(1);

    model.custom(toolMsg({ ...waiting, status: "running" }));
    frame();
    expect(card(root, "t1")).toBe(el); // updated in place
    expect(consent.hidden).toBe(true);
    expect(el.querySelector(".lc-tool-badge")!.textContent).toBe("Running…");
    expect(buttons.every((b) => !b.disabled)).toBe(true);
  });

  it("sends 'chat' and 'deny' too, and offers the answers again if no state follows", () => {
    vi.useFakeTimers();
    const { root, model, frame } = mount({ messages: [USER], busy: true });
    model.custom(toolMsg(waiting));
    frame();
    const [, chat, deny] = Array.from(card(root, "t1").querySelectorAll<HTMLButtonElement>(".lc-tool-consent button"));
    chat.click();
    expect(model.lastSent()).toMatchObject({ type: "tool_consent", decision: "chat" });
    vi.advanceTimersByTime(10_000); // the kernel refused (its banner says why)
    expect(deny.disabled).toBe(false);
    deny.click();
    expect(model.lastSent()).toEqual({ type: "tool_consent", chat_id: CHAT_A, call_id: "t1", decision: "deny" });
  });

  it("updates one card in place from tool messages, the done message and the saved reply", () => {
    const { root, model, frame } = mount({ messages: [USER], busy: true });
    model.custom(delta(0, "Let me run."));
    model.custom(toolMsg({ ...waiting, status: "proposed", needs_consent: false }));
    frame();
    const el = card(root, "t1");
    const args = el.querySelector(".lc-tool-args .lc-codeblock");
    expect(el.querySelector(".lc-tool-badge")!.textContent).toBe("Proposed");
    expect(parts(root)).toEqual(["text:Let me run.", "t1", "text:"]); // the caret waits after the card

    // Text after the call streams into a piece of its own; the card is not redrawn.
    model.custom(delta(1, " It printed 5 rows."));
    frame();
    expect(parts(root)).toEqual(["text:Let me run.", "t1", "text:It printed 5 rows."]);
    expect(el.querySelector(".lc-tool-args .lc-codeblock")).toBe(args);
    const pieces = root.querySelectorAll('.lc-msg[data-id="1"] .lc-md');
    expect(pieces[0].classList.contains("lc-md-closed")).toBe(true); // no caret before the card
    expect(pieces[1].classList.contains("lc-md-closed")).toBe(false);

    model.custom(toolMsg({ ...waiting, status: "ok", content: "   a  b\n0  1  2", ms: 42 }));
    model.custom(toolMsg({ ...waiting, status: "running" })); // late and older: never goes back
    frame();
    expect(card(root, "t1")).toBe(el);
    expect(el.querySelector(".lc-tool-badge")!.textContent).toBe("Done · 42 ms");
    expect(el.querySelector("pre.lc-tool-content")!.textContent).toBe("   a  b\n0  1  2");
    expect(root.querySelector('[role="log"] ~ [role="status"]')!.textContent).toBe("run_python finished.");

    const full = "Let me run. It printed 5 rows.";
    model.custom({
      type: "done",
      chat_id: CHAT_A,
      message_id: 1,
      seq: 1,
      text: full,
      reasoning: "",
      status: "complete",
      error: "",
    });
    frame();
    expect(card(root, "t1")).toBe(el);
    const final = { ...waiting, status: "ok" as const, content: "   a  b\n0  1  2", ms: 42 };
    model.update({ busy: false, messages: [USER, saved(full, [final])] });
    expect(card(root, "t1")).toBe(el);
    expect(parts(root)).toEqual(["text:Let me run.", "t1", "text:It printed 5 rows."]);
  });

  it("starts from the streams snapshot's calls in a view rendered mid-stream", () => {
    const { root } = mount({
      messages: [USER],
      busy: true,
      streams: { [CHAT_A]: { message_id: 1, text: "Let me run.", reasoning: "", seq: 0, tools: [waiting] } },
    });
    expect(parts(root)).toEqual(["text:Let me run.", "t1", "text:"]); // the caret waits after the card
    expect(card(root, "t1").querySelector<HTMLElement>(".lc-tool-consent")!.hidden).toBe(false);
  });
});

describe("Stop while a tool runs", () => {
  const running = call({
    id: "run",
    name: "run_python",
    code: "while True: pass",
    status: "running",
    content: "",
    ms: null,
  });
  const streaming = (over: Partial<Traits> = {}) =>
    mount({
      messages: [USER],
      busy: true,
      streams: { [CHAT_A]: { message_id: 1, text: "Running it.", reasoning: "", seq: 0, tools: [running] } },
      running_code: { chat_id: CHAT_A, message_id: 1, code: "while True: pass" },
      ...over,
    });
  const stop = (root: HTMLElement) => root.querySelector<HTMLButtonElement>('[aria-label="Stop"]')!.click();

  it("sends stop and interrupts the kernel when running_code names this chat", () => {
    const interrupt = vi.fn(() => Promise.resolve());
    const { root, model } = streaming();
    model.widget_manager = { kernel: { interrupt } };
    stop(root);
    expect(model.lastSent()).toEqual({ type: "stop", chat_id: CHAT_A });
    expect(interrupt).toHaveBeenCalledTimes(1);
  });

  it("does not interrupt when no call runs Python in this chat", () => {
    const interrupt = vi.fn(() => Promise.resolve());
    const { root, model } = streaming({ running_code: { chat_id: "", message_id: -1, code: "" } });
    model.widget_manager = { kernel: { interrupt } };
    stop(root);
    expect(model.lastSent()).toEqual({ type: "stop", chat_id: CHAT_A });
    expect(interrupt).not.toHaveBeenCalled();
  });

  it("says on the card when this page cannot interrupt the kernel", () => {
    const { root } = streaming();
    stop(root);
    const note = card(root, "run").querySelector<HTMLElement>(".lc-tool-note")!;
    expect(note.hidden).toBe(false);
    expect(note.textContent).toContain("Interrupt kernel");
  });
});

describe("tool calls in the stream state", () => {
  it("replaces a call by id, never with an older status, and keeps the array when nothing changed", () => {
    const a = call({ status: "waiting" });
    const list = withCall([], a);
    expect(withCall(list, a)).toBe(list);
    const running = withCall(list, { ...a, status: "running" });
    expect(running).not.toBe(list);
    expect(running[0].status).toBe("running");
    expect(withCall(running, a)).toBe(running);
    expect(withCall(running, call({ id: "c2" })).map((c) => c.id)).toEqual(["c1", "c2"]);
  });

  it("keeps the calls through done, and merges a snapshot's calls", () => {
    const changed: string[] = [];
    const store = new StreamStore(
      (ids) => changed.push(...ids),
      (cb) => cb(),
    );
    store.syncSnapshot({ [CHAT_A]: { message_id: 1, text: "x", reasoning: "", seq: 0, tools: [] } });
    store.syncSnapshot({
      [CHAT_A]: { message_id: 1, text: "x", reasoning: "", seq: 0, tools: [call({ status: "running" })] },
    });
    expect(store.get(CHAT_A)!.tools[0].status).toBe("running");
    store.receive({ type: "tool", chat_id: CHAT_A, message_id: 1, call: call() });
    store.receive({
      type: "done",
      chat_id: CHAT_A,
      message_id: 1,
      seq: 0,
      text: "x",
      reasoning: "",
      status: "complete",
      error: "",
    });
    expect(store.get(CHAT_A)!.tools.map((c) => c.status)).toEqual(["ok"]);
  });

  it("words the status and the arguments", () => {
    expect(statusText(call({ status: "waiting", needs_consent: true }))).toBe("Waiting for you");
    expect(statusText(call({ status: "ok", ms: null }))).toBe("Done");
    expect(statusText(call({ status: "stopped" }))).toBe("Stopped");
    expect(argumentsText(call({ arguments: "{}" }))).toBe("");
    expect(argumentsText(call({ arguments: "[1]" }))).toBe("[\n  1\n]");
  });
});
