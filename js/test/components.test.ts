import { afterEach, describe, expect, it, vi } from "vitest";
import widget from "../widget";
import { MessageBubble } from "../components/message_bubble";
import { Composer } from "../components/composer";
import { CHAT_A, CHAT_B, FakeModel } from "./fake_model";
import { mountApp, settle, unmountAll } from "./mount";
import type { Traits } from "../types";

afterEach(() => {
  unmountAll();
  vi.useRealTimers();
});

function mount(over: Partial<Traits> = {}) {
  const frames: (() => void)[] = [];
  const { model, app, root, host } = mountApp(over, (cb) => frames.push(cb));
  const frame = () => {
    for (const f of frames.splice(0)) f();
  };
  return { model, el: root, host, app, frame };
}

const byLabel = (root: ParentNode, label: string) =>
  Array.from(root.querySelectorAll<HTMLElement>(`[aria-label="${label}"]`));
const visible = (el: Element | null) => !!el && !(el as HTMLElement).closest("[hidden]");
function key(target: EventTarget, k: string, opts: KeyboardEventInit = {}) {
  const e = new KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true, ...opts });
  target.dispatchEvent(e);
  return e;
}

describe("render() entry point", () => {
  it("renders from the traits alone and removes its listeners when the view goes", () => {
    const model = new FakeModel();
    const el = document.createElement("div");
    document.body.append(el);
    const ac = new AbortController();
    const dispose = widget.render({ model, el, signal: ac.signal });
    const root = el.querySelector<HTMLElement>(".livechat-root")!;
    expect(root).toBeTruthy();
    expect(root.style.height).toBe("600px");
    expect(el.textContent).toContain("Hello there");
    expect(model.listenerCount()).toBeGreaterThan(0);
    ac.abort();
    expect(model.listenerCount()).toBe(0);
    expect(el.querySelector(".livechat-root")).toBeNull();
    dispose(); // idempotent
  });

  it("follows the height and theme traits", () => {
    const { model, el, host } = mount({ height: "100%", theme: "dark" });
    expect(el.style.height).toBe("100%");
    expect(host.classList.contains("lc-host-fill")).toBe(true);
    // ipywidgets' layout code may clear inline styles on the host: the root keeps its height
    host.style.removeProperty("height");
    expect(el.style.height).toBe("100%");
    model.update({ height: "480px" });
    expect(el.style.height).toBe("480px");
    expect(host.classList.contains("lc-host-fill")).toBe(false);
    expect(el.dataset.lcTheme).toBe("dark");
    expect(el.dataset.lcScheme).toBe("dark");
    model.update({ theme: "light" });
    expect(el.dataset.lcScheme).toBe("light");
  });

  it("follows JupyterLab's theme attribute when theme is auto", async () => {
    const { el } = mount({ theme: "auto" });
    document.body.setAttribute("data-jp-theme-light", "false");
    await new Promise((r) => setTimeout(r, 0));
    expect(el.dataset.lcScheme).toBe("dark");
    document.body.setAttribute("data-jp-theme-light", "true");
    await new Promise((r) => setTimeout(r, 0));
    expect(el.dataset.lcScheme).toBe("light");
    document.body.removeAttribute("data-jp-theme-light");
  });
});

describe("accessible names", () => {
  it("has every named control", () => {
    const { el } = mount({
      messages: [
        { id: 0, role: "user", content: "q", timestamp: "2025-01-01T10:00:00.000Z", status: "complete", error: "" },
        {
          id: 1,
          role: "assistant",
          content: "a",
          timestamp: "2025-01-01T10:00:01.000Z",
          status: "complete",
          error: "",
        },
      ],
    });
    for (const name of [
      "Message",
      "Send",
      "New chat",
      "Search chats",
      "Rename chat",
      "Delete chat",
      "Jump to latest",
      "Toggle chat list",
      "Copy",
      "Regenerate",
    ]) {
      expect(byLabel(el, name).length, name).toBeGreaterThan(0);
    }
    const log = el.querySelector('[role="log"]')!;
    expect(log).toBeTruthy();
    expect(el.querySelector('[role="status"][aria-live="polite"]')).toBeTruthy();
    expect((byLabel(el, "Message")[0] as HTMLElement).tagName).toBe("TEXTAREA");
  });

  it("shows Stop instead of Send while busy, and Retry on an error reply", () => {
    const { el } = mount({
      busy: true,
      messages: [
        { id: 0, role: "user", content: "q", timestamp: "", status: "complete", error: "" },
        { id: 1, role: "assistant", content: "", timestamp: "", status: "error", error: "Rate limited" },
      ],
    });
    expect(byLabel(el, "Stop")).toHaveLength(1);
    expect(byLabel(el, "Send")).toHaveLength(0);
    // Retry is offered once nothing is in progress
    expect(byLabel(el, "Retry").every((b) => !visible(b))).toBe(true);
  });
});

describe("sidebar", () => {
  it("lists chats with the active one highlighted, and selects another", () => {
    const { el, model } = mount();
    const items = el.querySelectorAll(".lc-chat-item");
    expect(items).toHaveLength(2);
    const active = el.querySelector('.lc-chat-select[aria-current="page"]')!;
    expect(active.textContent).toContain("First chat");
    expect(active.closest(".lc-chat-item")!.classList.contains("lc-active")).toBe(true);
    const second = Array.from(el.querySelectorAll<HTMLButtonElement>(".lc-chat-select")).find((b) =>
      b.textContent!.includes("Second"),
    )!;
    second.click();
    expect(model.lastSent()).toEqual({ type: "select_chat", chat_id: CHAT_B });
    model.update({ active_chat_id: CHAT_B, messages: [] });
    expect(el.querySelector('.lc-chat-select[aria-current="page"]')!.textContent).toContain("Second chat");
  });

  it("renames inline: Enter saves (trimmed), Esc cancels", () => {
    const { el, model } = mount();
    byLabel(el, "Rename chat")[0].click();
    let input = el.querySelector<HTMLInputElement>(".lc-rename-input")!;
    expect(input.value).toBe("First chat");
    input.value = "   Better   title ";
    key(input, "Enter");
    expect(model.lastSent()).toEqual({ type: "rename", chat_id: CHAT_A, title: "Better title" });
    expect(el.querySelector(".lc-rename-input")).toBeNull();

    const before = model.sent.length;
    byLabel(el, "Rename chat")[0].click();
    input = el.querySelector<HTMLInputElement>(".lc-rename-input")!;
    input.value = "Discard me";
    key(input, "Escape");
    expect(model.sent.length).toBe(before);
    expect(el.querySelector(".lc-rename-input")).toBeNull();
  });

  it("archives (clear) a chat in one click", () => {
    const { el, model } = mount();
    byLabel(el, "Archive chat")[1].click();
    expect(model.sent).toEqual([{ type: "clear", chat_id: CHAT_B }]);
  });

  it("deletes only after a confirm step inside the widget", () => {
    const { el, model } = mount();
    const confirmSpy = vi.spyOn(window, "confirm");
    byLabel(el, "Delete chat")[1].click();
    expect(model.sent).toHaveLength(0);
    const cancel = Array.from(el.querySelectorAll("button")).find((b) => b.textContent === "Cancel")!;
    expect(el.querySelector(".lc-confirm")!.textContent).toContain("Delete this chat?");
    cancel.click();
    expect(model.sent).toHaveLength(0);
    expect(el.querySelector(".lc-confirm")).toBeNull();

    byLabel(el, "Delete chat")[1].click();
    const del = Array.from(el.querySelectorAll<HTMLButtonElement>(".lc-confirm button")).find(
      (b) => b.textContent === "Delete",
    )!;
    del.click();
    expect(model.sent).toEqual([{ type: "delete", chat_id: CHAT_B }]);
    expect(confirmSpy).not.toHaveBeenCalled();
  });

  it("searches through the kernel (debounced) and shows results with snippets", async () => {
    vi.useFakeTimers();
    const { el, model } = mount();
    const search = byLabel(el, "Search chats")[0] as HTMLInputElement;
    search.value = "pan";
    search.dispatchEvent(new Event("input"));
    search.value = "panda";
    search.dispatchEvent(new Event("input"));
    expect(model.sent).toHaveLength(0);
    vi.advanceTimersByTime(160);
    expect(model.sent).toEqual([
      { type: "search", query: "panda", request: expect.stringMatching(/^[A-Za-z0-9_-]{1,64}$/) },
    ]);
    expect(el.querySelector(".lc-results")!.textContent).toContain("Searching");
    model.answer("search", {
      query: "panda",
      hits: [{ chat_id: CHAT_B, title: "Second chat", snippet: "use Pandas groupby" }],
    });
    await settle();
    const hit = el.querySelector<HTMLButtonElement>(".lc-hit")!;
    expect(hit.textContent).toContain("Second chat");
    expect(hit.querySelector("mark")!.textContent).toBe("Panda");
    hit.click();
    expect(model.lastSent()).toEqual({ type: "select_chat", chat_id: CHAT_B });
    // Esc clears the search here, without asking the kernel
    key(search, "Escape");
    expect(model.lastSent()).toEqual({ type: "select_chat", chat_id: CHAT_B });
    expect(visible(el.querySelector(".lc-chat-list"))).toBe(true);
    expect(visible(el.querySelector(".lc-results"))).toBe(false);
  });

  it("shows a search only in the view that searched", async () => {
    vi.useFakeTimers();
    const first = mount();
    const second = mountApp({}, () => {}, first.model);
    const search = byLabel(first.el, "Search chats")[0] as HTMLInputElement;
    search.value = "panda";
    search.dispatchEvent(new Event("input"));
    vi.advanceTimersByTime(160);
    first.model.answer("search", {
      query: "panda",
      hits: [{ chat_id: CHAT_B, title: "Second chat", snippet: "Pandas" }],
    });
    await settle();
    expect(first.el.querySelectorAll(".lc-hit")).toHaveLength(1);
    // The other view on the same model got the answer too and ignored it.
    expect(second.root.querySelector(".lc-hit")).toBeNull();
    expect(visible(second.root.querySelector(".lc-chat-list"))).toBe(true);
    expect((byLabel(second.root, "Search chats")[0] as HTMLInputElement).value).toBe("");
  });

  it("drops the answer to a search a newer one replaced, and shows a refusal", async () => {
    vi.useFakeTimers();
    const { el, model } = mount();
    const search = byLabel(el, "Search chats")[0] as HTMLInputElement;
    search.value = "pan";
    search.dispatchEvent(new Event("input"));
    vi.advanceTimersByTime(160);
    const older = model.lastRequest("search").request;
    search.value = "panda";
    search.dispatchEvent(new Event("input"));
    vi.advanceTimersByTime(160);
    const newer = model.lastRequest("search").request;
    expect(newer).not.toBe(older);
    // The newer answer first, then the stale one: the stale one changes nothing.
    model.answer("search", { query: "panda", hits: [] });
    model.answer(
      "search",
      { query: "pan", hits: [{ chat_id: CHAT_B, title: "Second chat", snippet: "pan" }] },
      { request: older },
    );
    await settle();
    expect(el.querySelector(".lc-hit")).toBeNull();
    expect(el.querySelector(".lc-results")!.textContent).toContain("No chats match “panda”");

    search.value = "pandas";
    search.dispatchEvent(new Event("input"));
    vi.advanceTimersByTime(160);
    model.refuse("search", "Search is busy.");
    await settle();
    expect(el.querySelector(".lc-results")!.textContent).toContain("Search failed: Search is busy.");
  });

  it("New chat sends new_chat", () => {
    const { el, model } = mount();
    (byLabel(el, "New chat")[0] as HTMLButtonElement).click();
    expect(model.lastSent()).toEqual({ type: "new_chat" });
  });
});

describe("composer", () => {
  it("Enter sends, Shift+Enter does not, IME composition does not", () => {
    const { el, model } = mount();
    const ta = byLabel(el, "Message")[0] as HTMLTextAreaElement;
    ta.value = "line one";
    ta.dispatchEvent(new Event("input"));
    key(ta, "Enter", { shiftKey: true });
    expect(model.sent).toHaveLength(0);
    key(ta, "Enter", { isComposing: true });
    expect(model.sent).toHaveLength(0);
    key(ta, "Enter", { keyCode: 229 });
    expect(model.sent).toHaveLength(0);
    key(ta, "Enter");
    expect(model.sent).toEqual([{ type: "send", text: "line one", chat_id: CHAT_A }]);
    expect(ta.value).toBe("");
  });

  it("does not send empty text; Send is disabled until there is text", () => {
    const { el, model } = mount();
    const ta = byLabel(el, "Message")[0] as HTMLTextAreaElement;
    const send = byLabel(el, "Send")[0] as HTMLButtonElement;
    expect(send.disabled).toBe(true);
    ta.value = "   ";
    ta.dispatchEvent(new Event("input"));
    key(ta, "Enter");
    expect(model.sent).toHaveLength(0);
    ta.value = "hi";
    ta.dispatchEvent(new Event("input"));
    expect(send.disabled).toBe(false);
    send.click();
    expect(model.lastSent()).toEqual({ type: "send", text: "hi", chat_id: CHAT_A });
  });

  it("sends to a new chat when none is active", () => {
    const { el, model } = mount({ active_chat_id: "", messages: [] });
    const ta = byLabel(el, "Message")[0] as HTMLTextAreaElement;
    ta.value = "first";
    key(ta, "Enter");
    expect(model.lastSent()).toEqual({ type: "send", text: "first", chat_id: "" });
  });

  it("a message typed right after New chat goes to the new chat, not the one still shown", () => {
    const { el, model } = mount();
    byLabel(el, "New chat")[0].click();
    const ta = byLabel(el, "Message")[0] as HTMLTextAreaElement;
    ta.value = "fresh start";
    key(ta, "Enter"); // before the kernel's answer (active_chat_id still CHAT_A)
    expect(model.sent).toEqual([{ type: "new_chat" }, { type: "send", text: "fresh start", chat_id: "" }]);
    model.update({ active_chat_id: CHAT_B, messages: [] });
    ta.value = "next";
    key(ta, "Enter");
    expect(model.lastSent()).toEqual({ type: "send", text: "next", chat_id: CHAT_B });
  });

  it("Send becomes Stop while busy; Stop and Esc stop the reply", () => {
    const { el, model } = mount();
    model.update({ busy: true });
    const stop = byLabel(el, "Stop")[0] as HTMLButtonElement;
    expect(stop).toBeTruthy();
    stop.click();
    expect(model.lastSent()).toEqual({ type: "stop", chat_id: CHAT_A });
    const ta = byLabel(el, "Message")[0] as HTMLTextAreaElement;
    ta.value = "queued";
    key(ta, "Enter");
    expect(model.sent.filter((m) => m.type === "send")).toHaveLength(0);
    const e = key(ta, "Escape");
    expect(model.lastSent()).toEqual({ type: "stop", chat_id: CHAT_A });
    expect(e.defaultPrevented).toBe(true);
    model.update({ busy: false });
    expect(byLabel(el, "Send")).toHaveLength(1);
  });

  it("keeps keys typed in the textarea from reaching the page (JupyterLab shortcuts)", () => {
    const { el } = mount();
    const seen: string[] = [];
    const onDoc = (e: KeyboardEvent) => seen.push(e.key);
    document.addEventListener("keydown", onDoc);
    const ta = byLabel(el, "Message")[0];
    key(ta, "a");
    key(ta, "Escape"); // not busy: Esc is not ours, but typing in the textarea stays local
    document.removeEventListener("keydown", onDoc);
    expect(seen).toEqual([]);
  });

  it("a standalone Composer grows and keeps a stable API", () => {
    const sent: string[] = [];
    const c = new Composer(
      { onSend: (t) => sent.push(t), onStop: () => sent.push("STOP") },
      new AbortController().signal,
    );
    c.textarea.value = "x";
    c.textarea.dispatchEvent(new Event("input"));
    key(c.textarea, "Enter");
    c.update({ busy: true });
    c.button.click();
    expect(sent).toEqual(["x", "STOP"]);
  });
});

describe("keyboard shortcuts (only inside the widget)", () => {
  it("Ctrl/Cmd+K focuses search; Ctrl/Cmd+Shift+O starts a new chat", () => {
    const { el, model } = mount();
    const ta = byLabel(el, "Message")[0];
    ta.focus();
    const e = key(ta, "k", { ctrlKey: true });
    expect(e.defaultPrevented).toBe(true);
    expect(document.activeElement).toBe(byLabel(el, "Search chats")[0]);
    key(ta, "O", { metaKey: true, shiftKey: true });
    expect(model.lastSent()).toEqual({ type: "new_chat" });
  });

  it("leaves keys outside the widget alone, and unhandled keys propagate", () => {
    const { el, model } = mount({ busy: true });
    const outside = document.createElement("input");
    document.body.append(outside);
    const e1 = key(outside, "k", { ctrlKey: true });
    const e2 = key(outside, "Escape");
    expect(e1.defaultPrevented).toBe(false);
    expect(e2.defaultPrevented).toBe(false);
    expect(model.sent).toHaveLength(0);
    // A key the widget does not handle, pressed on a widget button, still bubbles.
    const seen: string[] = [];
    const onDoc = (ev: KeyboardEvent) => seen.push(ev.key);
    document.addEventListener("keydown", onDoc);
    key(byLabel(el, "New chat")[0], "j");
    document.removeEventListener("keydown", onDoc);
    expect(seen).toEqual(["j"]);
  });
});

describe("message bubbles", () => {
  const send = vi.fn();
  const base = { chatId: CHAT_A, id: 1, timestamp: "2025-01-01T10:00:00.000Z", error: "" };

  it("user right as plain text; assistant left with avatar as markdown", () => {
    const u = new MessageBubble(send, "user");
    u.update(
      { ...base, role: "user", content: "**not bold** <b>x</b>", status: "complete" },
      { isLast: false, busy: false },
    );
    expect(u.el.classList.contains("lc-msg-user")).toBe(true);
    expect(u.el.querySelector("strong")).toBeNull();
    expect(u.el.textContent).toContain("**not bold** <b>x</b>");
    expect(u.el.querySelector(".lc-avatar")).toBeNull();
    const a = new MessageBubble(send, "assistant");
    a.update({ ...base, role: "assistant", content: "**bold**", status: "complete" }, { isLast: true, busy: false });
    expect(a.el.querySelector(".lc-avatar")).toBeTruthy();
    expect(a.el.querySelector("strong")!.textContent).toBe("bold");
    expect(a.el.querySelector("time")!.getAttribute("datetime")).toBe(base.timestamp);
    expect(a.el.querySelector(".lc-bubble")!.getAttribute("title")).toBeTruthy();
  });

  it("Regenerate only on the last assistant reply, not while busy", () => {
    const a = new MessageBubble(send, "assistant");
    const data = { ...base, role: "assistant" as const, content: "x", status: "complete" as const };
    a.update(data, { isLast: false, busy: false });
    expect(visible(byLabel(a.el, "Regenerate")[0])).toBe(false);
    a.update(data, { isLast: true, busy: true });
    expect(visible(byLabel(a.el, "Regenerate")[0])).toBe(false);
    a.update(data, { isLast: true, busy: false });
    const regen = byLabel(a.el, "Regenerate")[0];
    expect(visible(regen)).toBe(true);
    regen.click();
    expect(send).toHaveBeenLastCalledWith({ type: "regenerate", chat_id: CHAT_A });
  });

  it("shows streamed text at once, between throttled markdown renders", () => {
    const a = new MessageBubble(send, "assistant");
    const opts = { isLast: true, busy: true };
    a.update({ ...base, role: "assistant", content: "**Hi** there", status: "streaming" }, opts);
    expect(a.el.querySelector("strong")!.textContent).toBe("Hi"); // first render is immediate
    a.update({ ...base, role: "assistant", content: "**Hi** there, more <b>x</b>", status: "streaming" }, opts);
    const tail = a.el.querySelector(".lc-stream-tail")!;
    expect(tail.textContent).toBe(", more <b>x</b>"); // plain text until the next render
    expect(tail.parentElement!.tagName).toBe("P");
    expect(a.el.querySelector(".lc-md b")).toBeNull();
    a.update({ ...base, role: "assistant", content: "**Hi** there, more", status: "complete" }, opts);
    expect(a.el.querySelector(".lc-stream-tail")).toBeNull();
    expect(a.el.textContent).toContain("Hi there, more");
  });

  it("marks stopped and length-cut replies", () => {
    const a = new MessageBubble(send, "assistant");
    a.update({ ...base, role: "assistant", content: "partial", status: "stopped" }, { isLast: true, busy: false });
    expect(a.el.querySelector(".lc-note")!.textContent).toBe("Stopped");
    a.update({ ...base, role: "assistant", content: "partial", status: "length" }, { isLast: true, busy: false });
    expect(a.el.querySelector(".lc-note")!.textContent).toContain("length");
  });

  it("error bubble shows the error text and Retry", () => {
    const a = new MessageBubble(send, "assistant");
    a.update(
      { ...base, role: "assistant", content: "half", status: "error", error: "The provider timed out." },
      { isLast: true, busy: false },
    );
    expect(a.el.querySelector(".lc-error-box")!.textContent).toContain("The provider timed out.");
    expect(a.el.textContent).toContain("half");
    expect(visible(byLabel(a.el, "Regenerate")[0])).toBe(false);
    const retry = byLabel(a.el, "Retry")[0];
    expect(visible(retry)).toBe(true);
    retry.click();
    expect(send).toHaveBeenLastCalledWith({ type: "retry", chat_id: CHAT_A });
  });

  it("a reply stopped before any text is a small Stopped bubble with Regenerate", () => {
    const a = new MessageBubble(send, "assistant");
    a.update({ ...base, role: "assistant", content: "", status: "stopped" }, { isLast: true, busy: false });
    expect(a.el.querySelector(".lc-note")!.textContent).toBe("Stopped");
    expect(visible(a.el.querySelector(".lc-md"))).toBe(false);
    expect(visible(byLabel(a.el, "Copy")[0])).toBe(false);
    expect(visible(byLabel(a.el, "Regenerate")[0])).toBe(true);
  });

  it("a conversation too long for the model offers to continue without the oldest turns", () => {
    const a = new MessageBubble(send, "assistant");
    const tooLong = {
      ...base,
      role: "assistant" as const,
      content: "",
      status: "error" as const,
      error: "The conversation is too long.",
    };
    a.update(tooLong, { isLast: true, busy: false });
    expect(visible(byLabel(a.el, "Continue without oldest turns")[0])).toBe(false); // not for other errors
    a.update({ ...tooLong, errorKind: "context_length" }, { isLast: true, busy: false });
    const shorter = byLabel(a.el, "Continue without oldest turns")[0];
    expect(visible(shorter)).toBe(true);
    expect(visible(byLabel(a.el, "Retry")[0])).toBe(true);
    shorter.click();
    expect(send).toHaveBeenLastCalledWith({ type: "retry_shorter", chat_id: CHAT_A });
    a.update({ ...tooLong, errorKind: "context_length" }, { isLast: true, busy: true });
    expect(visible(byLabel(a.el, "Continue without oldest turns")[0])).toBe(false);
  });

  it("code blocks carry a Copy button, and Copy message copies the text", async () => {
    const writeText = vi.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    const a = new MessageBubble(send, "assistant");
    a.update(
      { ...base, role: "assistant", content: "```js\nlet x = 1;\n```", status: "complete" },
      { isLast: true, busy: false },
    );
    const copies = byLabel(a.el, "Copy");
    expect(copies.length).toBe(2); // code block + message
    copies[0].click();
    await Promise.resolve();
    expect(writeText).toHaveBeenCalledWith("let x = 1;");
    copies[1].click();
    await Promise.resolve();
    expect(writeText).toHaveBeenLastCalledWith("```js\nlet x = 1;\n```");
  });
});

describe("streaming in the view", () => {
  const delta = (seq: number, text: string, message_id = 2) => ({
    type: "delta",
    chat_id: CHAT_A,
    message_id,
    seq,
    text,
    reasoning: "",
  });

  it("streams deltas into a bubble with a caret, then the done message, then the final message", () => {
    const { el, model, frame } = mount();
    model.update({ busy: true });
    model.custom(delta(0, "Hel"));
    model.custom(delta(1, "lo"));
    expect(el.querySelector(".lc-streaming")).toBeNull(); // applied on the next frame
    frame();
    const bubble = el.querySelector<HTMLElement>(".lc-streaming")!;
    expect(bubble).toBeTruthy();
    expect(bubble.textContent).toContain("Hello");
    expect(el.querySelector('[role="log"]')!.getAttribute("aria-busy")).toBe("true");
    expect(byLabel(el, "Stop")).toHaveLength(1);
    const status = el.querySelector('[role="status"][aria-live="polite"]')!;
    expect(status.textContent).toBe("");

    model.custom({
      type: "done",
      chat_id: CHAT_A,
      message_id: 2,
      seq: 1,
      text: "Hello world",
      reasoning: "",
      status: "complete",
      error: "",
    });
    frame();
    expect(el.querySelector(".lc-streaming")).toBeNull();
    expect(el.querySelector('[role="log"]')!.getAttribute("aria-busy")).toBe("false");
    expect(status.textContent).toContain("Hello world"); // announced once, complete

    const msgs = model.state.messages;
    model.update({
      busy: false,
      messages: [
        ...msgs,
        {
          id: 2,
          role: "assistant",
          content: "Hello world",
          timestamp: "2025-01-01T10:00:05.000Z",
          status: "complete",
          error: "",
        },
      ],
    });
    const final = el.querySelector<HTMLElement>('.lc-msg[data-id="2"]')!;
    expect(final).toBe(bubble); // the same element, no flicker
    expect(el.querySelectorAll('.lc-msg[data-id="2"]')).toHaveLength(1);
    expect(byLabel(el, "Send")).toHaveLength(1);
  });

  it("repairs a seq gap from done", () => {
    const { el, model, frame } = mount();
    model.custom(delta(0, "one "));
    model.custom(delta(2, "three"));
    frame();
    expect(el.querySelector(".lc-streaming")!.textContent).toContain("one");
    expect(el.querySelector(".lc-streaming")!.textContent).not.toContain("three");
    model.custom({
      type: "done",
      chat_id: CHAT_A,
      message_id: 2,
      seq: 2,
      text: "one two three",
      reasoning: "",
      status: "complete",
      error: "",
    });
    frame();
    expect(el.querySelector('.lc-msg[data-id="2"]')!.textContent).toContain("one two three");
  });

  it("a view rendered mid-stream starts from the streams trait", () => {
    const { el, model, frame } = mount({
      busy: true,
      streams: { [CHAT_A]: { message_id: 2, text: "So far", reasoning: "", seq: 4 } },
    });
    expect(el.querySelector(".lc-streaming")!.textContent).toContain("So far");
    model.custom(delta(4, " DUP"));
    model.custom(delta(5, " more"));
    frame();
    const text = el.querySelector(".lc-streaming")!.textContent!;
    expect(text).not.toContain("DUP");
  });

  it("ignores deltas of another chat in the active view", () => {
    const { el, model, frame } = mount();
    model.custom({ ...delta(0, "elsewhere"), chat_id: CHAT_B });
    frame();
    expect(el.querySelector(".lc-streaming")).toBeNull();
  });
});

describe("log, banner and older messages", () => {
  it("error banner shows the error and dismisses through the kernel", () => {
    const { el, model } = mount({ error: "Could not reach the model." });
    const banner = el.querySelector('[role="alert"]')!;
    expect(visible(banner)).toBe(true);
    expect(banner.textContent).toContain("Could not reach the model.");
    (byLabel(el, "Dismiss error")[0] as HTMLButtonElement).click();
    expect(model.lastSent()).toEqual({ type: "dismiss_error" });
    model.update({ error: "" });
    expect(visible(banner)).toBe(false);
  });

  it("asks for older messages with the id of the oldest one shown", () => {
    const msgs = Array.from({ length: 3 }, (_, i) => ({
      id: 100 + i,
      role: (i % 2 ? "assistant" : "user") as "user" | "assistant",
      content: `m${i}`,
      timestamp: "",
      status: "complete" as const,
      error: "",
    }));
    const { el, model } = mount({ messages: msgs, has_older: true });
    const btn = Array.from(el.querySelectorAll("button")).find((b) => b.textContent === "Load older messages")!;
    btn.click();
    expect(model.lastSent()).toEqual({ type: "load_older", chat_id: CHAT_A, before: 100 });
    btn.click(); // no duplicate while loading
    expect(model.sent.filter((m) => m.type === "load_older")).toHaveLength(1);
    const older = [{ ...msgs[0], id: 99, content: "older" }, ...msgs];
    model.update({ messages: older, has_older: false });
    const ids = Array.from(el.querySelectorAll<HTMLElement>(".lc-msg")).map((m) => m.dataset.id);
    expect(ids).toEqual(["99", "100", "101", "102"]);
  });

  it("asks for the page before a just-opened chat once, right after painting it", () => {
    vi.useFakeTimers();
    const msgs = Array.from({ length: 3 }, (_, i) => ({
      id: 100 + i,
      role: (i % 2 ? "assistant" : "user") as "user" | "assistant",
      content: `m${i}`,
      timestamp: "",
      status: "complete" as const,
      error: "",
    }));
    const { model } = mount({ messages: msgs, has_older: true });
    const asked = () => model.sent.filter((m) => m.type === "load_older");
    expect(asked()).toHaveLength(0); // the newest messages paint first
    vi.advanceTimersByTime(100);
    expect(asked()).toEqual([{ type: "load_older", chat_id: CHAT_A, before: 100 }]);
    model.update({ messages: [{ ...msgs[0], id: 99, content: "older" }, ...msgs], has_older: true });
    vi.advanceTimersByTime(100);
    expect(asked()).toHaveLength(1); // further pages only on scrolling back
  });

  it("shows the model label and an empty state", () => {
    const { el } = mount({ active_chat_id: "", messages: [], model_label: "demo model (offline)" });
    expect(el.querySelector(".lc-top-model")!.textContent).toBe("demo model (offline)");
    expect(visible(el.querySelector(".lc-empty"))).toBe(true);
  });

  it("the stats toggle opens a panel with a chart and totals", () => {
    const { el } = mount({
      stats: {
        recent: [
          { ttft_ms: 120, tokens_per_s: 40, outcome: "completed" },
          { ttft_ms: null, tokens_per_s: null, outcome: "error" },
        ],
        totals: { replies: 2, completed: 1, stopped: 0, errors: 1, tokens: 321 },
      },
    });
    const toggle = byLabel(el, "Stats")[0] as HTMLButtonElement;
    const panel = el.querySelector(".lc-stats")!;
    expect(visible(panel)).toBe(false);
    toggle.click();
    expect(visible(panel)).toBe(true);
    expect(toggle.getAttribute("aria-expanded")).toBe("true");
    expect(panel.querySelectorAll("svg.lc-chart")).toHaveLength(2);
    expect(panel.textContent).toContain("321");
    expect(panel.querySelector("svg.lc-chart")!.getAttribute("aria-label")).toContain("120");
  });

  it("the drawer toggle reflects its state", () => {
    const { el } = mount();
    const t = byLabel(el, "Toggle chat list")[0] as HTMLButtonElement;
    expect(t.getAttribute("aria-expanded")).toBe("false");
    t.click();
    expect(el.classList.contains("lc-drawer-open")).toBe(true);
    expect(t.getAttribute("aria-expanded")).toBe("true");
    el.querySelector<HTMLElement>(".lc-backdrop")!.click();
    expect(el.classList.contains("lc-drawer-open")).toBe(false);
  });
});

describe("bubble roles", () => {
  it("never pours a message of one role into a bubble of another", () => {
    const { el, model, frame } = mount({ busy: true });
    // A reply (id 2) streams, is stopped before any text and the kernel moves on: the next
    // message to hold id 2 is a user message (as files written before the fix can show).
    model.custom({ type: "delta", chat_id: CHAT_A, message_id: 2, seq: 0, text: "", reasoning: "" });
    frame();
    model.custom({
      type: "done",
      chat_id: CHAT_A,
      message_id: 2,
      seq: 0,
      text: "",
      reasoning: "",
      status: "stopped",
      error: "",
    });
    frame();
    const user = {
      id: 2,
      role: "user" as const,
      content: "Say hi.",
      timestamp: "",
      status: "complete" as const,
      error: "",
    };
    model.update({ busy: false, messages: [...model.state.messages, user] });
    frame();
    const bubble = el.querySelector<HTMLElement>('[data-id="2"][data-role="user"]');
    expect(bubble?.textContent).toContain("Say hi.");
    expect(el.querySelector('[data-id="2"][data-role="assistant"]')?.textContent ?? "").not.toContain("Say hi.");
  });

  it("shows a reply stopped before its first token as an assistant Stopped bubble after the user's", () => {
    const { el, model, frame } = mount({ busy: true });
    model.custom({
      type: "done",
      chat_id: CHAT_A,
      message_id: 2,
      seq: -1,
      text: "",
      reasoning: "",
      status: "stopped",
      error: "",
    });
    frame();
    const stopped = {
      id: 2,
      role: "assistant" as const,
      content: "",
      timestamp: "",
      status: "stopped" as const,
      error: "",
    };
    model.update({ busy: false, messages: [...model.state.messages, stopped] });
    frame();
    const roles = Array.from(el.querySelectorAll<HTMLElement>("[data-role]")).map(
      (b) => `${b.dataset.id}:${b.dataset.role}`,
    );
    expect(roles).toEqual(["0:user", "1:assistant", "2:assistant"]);
    expect(el.querySelector('[data-id="2"] .lc-note')?.textContent).toBe("Stopped");
  });
});

describe("announcements", () => {
  it("announces a reply whose done and final traits arrive in the same frame", () => {
    const { model, el, frame } = mount({ busy: true });
    model.custom({ type: "delta", chat_id: CHAT_A, message_id: 2, seq: 0, text: "Part", reasoning: "" });
    frame();
    model.custom({
      type: "done",
      chat_id: CHAT_A,
      message_id: 2,
      seq: 0,
      text: "Partial",
      reasoning: "",
      status: "stopped",
      error: "",
    });
    model.update({
      busy: false,
      messages: [
        ...model.state.messages,
        { id: 2, role: "assistant", content: "Partial", timestamp: "", status: "stopped", error: "" },
      ],
    });
    frame();
    expect(el.querySelector('[role="status"][aria-live="polite"]')!.textContent).toBe("Reply stopped.");
    expect(el.querySelector(".lc-streaming")).toBeNull();
  });
});

describe("long windows", () => {
  it("renders the newest messages' markdown at once and older ones when they near the viewport", () => {
    const observed = new Set<Element>();
    let callback: ((entries: { target: Element; isIntersecting: boolean }[]) => void) | null = null;
    class FakeIO {
      constructor(cb: any) {
        callback = cb;
      }
      observe(el: Element) {
        observed.add(el);
      }
      unobserve(el: Element) {
        observed.delete(el);
      }
      disconnect() {
        observed.clear();
      }
    }
    vi.stubGlobal("IntersectionObserver", FakeIO);
    try {
      const messages = Array.from({ length: 100 }, (_, i) => ({
        id: i,
        role: (i % 2 ? "assistant" : "user") as "user" | "assistant",
        content: `**m${i}**`,
        timestamp: "",
        status: "complete" as const,
        error: "",
      }));
      const { el } = mount({ messages });
      const bubble = (id: number) => el.querySelector<HTMLElement>(`.lc-msg[data-id="${id}"]`)!;
      expect(bubble(99).querySelector("strong")!.textContent).toBe("m99"); // newest: rendered
      expect(bubble(1).querySelector("strong")).toBeNull(); // oldest: plain for now
      expect(bubble(1).textContent).toContain("**m1**");
      expect(observed.has(bubble(1))).toBe(true);
      callback!([{ target: bubble(1), isIntersecting: true }]);
      expect(bubble(1).querySelector("strong")!.textContent).toBe("m1");
      expect(observed.has(bubble(1))).toBe(false);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
