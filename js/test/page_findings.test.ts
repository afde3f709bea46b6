// Issue 22 ("Trust at scale"), the page's findings: text over the limit stays in the
// composer, titles are isolated and their bidi/control characters neutralised, the
// settings panel asks before it drops edits, the stats tile says which tokens it
// counts, and unsafe links are plain text.
import { afterEach, describe, expect, it, vi } from "vitest";
import { saveFile } from "../components/chat_menu";
import { MAX_TEXT } from "../components/composer";
import { CHAT_A, CHAT_B } from "./fake_model";
import { mountApp, unmountAll } from "./mount";

afterEach(() => {
  unmountAll();
  vi.restoreAllMocks();
});

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

describe("titles with bidi and control characters", () => {
  // "RTL" written backwards behind a right-to-left override draws as "RTL"... spoofed;
  // a bell and an escape draw as boxes.
  const SPOOF = "Invoice \u202eLTR\u202c.txt\u0007\u001b[31m\u2066x\u2069";
  const SHOWN = "Invoice LTR.txt[31mx";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the characters no title may show
  const BIDI_OR_CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
  const chats = [
    { id: CHAT_A, title: SPOOF, updated_at: new Date().toISOString(), message_count: 2 },
    { id: CHAT_B, title: "عربي title", updated_at: new Date().toISOString(), message_count: 2 },
  ];

  it("keeps every character of a title out of the text drawn and the names given", () => {
    const { root } = mountApp({ chats, title: "App\u202e title" });
    const row = root.querySelector<HTMLElement>(`[data-chat-id="${CHAT_A}"]`)!;
    const shown = [
      row.querySelector(".lc-chat-title")!.textContent,
      row.querySelector<HTMLElement>(".lc-chat-select")!.title,
      root.querySelector(".lc-top-title")!.textContent,
      root.querySelector<HTMLElement>(".lc-top-title")!.title,
    ];
    expect(shown).toEqual([SHOWN, SHOWN, SHOWN, SHOWN]);
    expect(root.querySelector(".lc-side-title")!.textContent).toBe("App title");
    row.querySelector<HTMLElement>('[aria-label="Delete chat"]')!.click();
    const confirm = row.querySelector<HTMLElement>(".lc-confirm")!;
    expect(confirm.getAttribute("aria-label")).toBe(`Delete “${SHOWN}”?`);
    for (const part of [".lc-sidebar", ".lc-topbar"])
      expect(root.querySelector(part)!.textContent, part).not.toMatch(BIDI_OR_CONTROL);
  });

  it("isolates each title so it cannot reorder the text around it", () => {
    const { root } = mountApp({ chats });
    for (const el of [
      ...root.querySelectorAll(".lc-chat-title"),
      root.querySelector(".lc-top-title")!,
      root.querySelector(".lc-side-title")!,
    ]) {
      const bdi = el.querySelector("bdi");
      expect(bdi, el.className).not.toBeNull();
      expect(bdi!.textContent).toBe(el.textContent);
    }
  });

  it("the rename field starts from the title as shown, and leaving it unchanged renames nothing", () => {
    const { model, root } = mountApp({ chats });
    const row = root.querySelector<HTMLElement>(`[data-chat-id="${CHAT_A}"]`)!;
    row.querySelector<HTMLElement>('[aria-label="Rename chat"]')!.click();
    const input = row.querySelector<HTMLInputElement>(".lc-rename-input")!;
    expect(input.value).toBe(SHOWN);
    key(input, "Enter");
    expect(model.sent.filter((m) => m.type === "rename")).toEqual([]);
  });

  it("search hits show their title neutralised and isolated; message bodies keep every character", async () => {
    const body = "a \u202eb\u202c c";
    const { model, root } = mountApp({
      chats,
      messages: [
        { id: 0, role: "user", content: body, timestamp: "2025-01-01T10:00:00.000Z", status: "complete", error: "" },
      ],
    });
    expect(root.querySelector(".lc-msg[data-role=user]")!.textContent).toContain(body);
    model.kernel.search = () => ({ query: "inv", hits: [{ chat_id: CHAT_A, title: SPOOF, snippet: "invoice" }] });
    const search = root.querySelector<HTMLInputElement>('[aria-label="Search chats"]')!;
    search.value = "inv";
    search.dispatchEvent(new Event("input"));
    key(search, "Enter");
    await new Promise((r) => setTimeout(r, 200));
    const hit = root.querySelector<HTMLElement>(".lc-hit")!;
    expect(hit.querySelector("bdi")!.textContent).toBe(SHOWN);
  });
});

describe("a download's name", () => {
  it("carries no bidi override that could disguise its extension", () => {
    const names: string[] = [];
    URL.createObjectURL = () => "blob:test/1";
    URL.revokeObjectURL = () => {};
    vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      names.push(this.download);
    });
    saveFile("Invoice-\u202egpj.exe", "text/plain", "x");
    saveFile("\u202e\u0007", "text/plain", "x");
    expect(names).toEqual(["Invoice-gpj.exe", "chat"]);
  });
});

describe("settings panel: unsaved edits", () => {
  function open(over = {}) {
    const mounted = mountApp(over);
    mounted.model.kernel.list_models = () => ({ names: ["fake-model", "fake-large"], error: "" });
    const button = mounted.root.querySelector<HTMLButtonElement>('[aria-label="Chat settings"]')!;
    button.click();
    const panel = mounted.root.querySelector<HTMLElement>(".lc-settings")!;
    const prompt = panel.querySelector<HTMLTextAreaElement>('[aria-label="System prompt"]')!;
    const ask = () => panel.querySelector<HTMLElement>(".lc-settings-unsaved");
    const press = (name: string) =>
      Array.from(panel.querySelectorAll<HTMLButtonElement>("button"))
        .find((b) => b.textContent === name && visible(b))!
        .click();
    const type = (text: string) => {
      prompt.value = text;
      prompt.dispatchEvent(new Event("input", { bubbles: true }));
    };
    return { ...mounted, button, panel, prompt, ask, press, type };
  }

  it("Esc with unsaved edits asks first; Keep editing keeps them", () => {
    const { panel, prompt, ask, press, type } = open();
    type("Be brief.");
    key(prompt, "Escape");
    expect(panel.hidden).toBe(false);
    expect(visible(ask())).toBe(true);
    expect(ask()!.getAttribute("role")).toBe("group");
    expect(ask()!.getAttribute("aria-label")).toBe("Unsaved changes");
    expect(document.activeElement?.textContent).toBe("Keep editing");
    press("Keep editing");
    expect(visible(ask())).toBe(false);
    expect(panel.hidden).toBe(false);
    expect(prompt.value).toBe("Be brief.");
  });

  it("the topbar button asks too; Discard closes without saving, and the panel reopens unchanged", () => {
    const { model, button, panel, prompt, ask, press, type } = open();
    type("Be brief.");
    button.click();
    expect(panel.hidden).toBe(false);
    expect(visible(ask())).toBe(true);
    key(document.activeElement!, "Escape"); // Esc in the question: keep editing
    expect(visible(ask())).toBe(false);
    expect(panel.hidden).toBe(false);
    button.click();
    press("Discard changes");
    expect(panel.hidden).toBe(true);
    expect(model.sent.filter((m) => m.type === "configure")).toEqual([]);
    button.click();
    expect(prompt.value).toBe("");
    expect(visible(ask())).toBe(false);
  });

  it("Save changes in the question saves and closes", () => {
    const { model, panel, prompt, press, type } = open();
    type("Be brief.");
    key(prompt, "Escape");
    press("Save changes");
    expect(model.lastSent()).toMatchObject({ type: "configure", chat_id: CHAT_A, system_prompt: "Be brief." });
    expect(panel.hidden).toBe(true);
  });

  it("closes at once when nothing differs from the saved settings (typed, then undone)", () => {
    const { panel, prompt, ask, type } = open();
    type("draft");
    type("");
    key(prompt, "Escape");
    expect(panel.hidden).toBe(true);
    expect(visible(ask())).toBe(false);
  });

  it("Cancel is an explicit discard: it closes without asking", () => {
    const { model, panel, press, type } = open();
    type("Be brief.");
    press("Cancel");
    expect(panel.hidden).toBe(true);
    expect(model.sent.filter((m) => m.type === "configure")).toEqual([]);
  });
});

describe("stats panel: the tokens tile", () => {
  it("says which tokens it counts, next to the table that counts both", () => {
    const { root } = mountApp({
      stats: {
        recent: [],
        totals: { replies: 1, completed: 1, stopped: 0, errors: 0, tokens: 12 },
        chat: { replies: 1, prompt_tokens: 30, completion_tokens: 12, estimated: 0 },
        overall: { replies: 1, prompt_tokens: 30, completion_tokens: 12, estimated: 0 },
      },
    });
    const tiles = Array.from(root.querySelectorAll(".lc-stats dl > div")).map((d) => [
      d.querySelector("dt")!.textContent,
      d.querySelector("dd")!.textContent,
    ]);
    expect(tiles).toContainEqual(["Completion tokens", "12"]);
    expect(tiles.map(([label]) => label)).not.toContain("Tokens");
    const head = Array.from(root.querySelectorAll(".lc-usage-totals thead th")).map((c) => c.textContent);
    expect(head).toEqual(["Tokens", "Replies", "Prompt", "Completion"]);
  });
});

describe("links with a scheme that is not allowed", () => {
  const cases: [string, string][] = [
    ["[click me](javascript:alert(1))", "click me"],
    ["[click me](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)", "click me"],
    ["[click me](javascript&colon;alert(1))", "click me"],
    ["[click me](vbscript:msgbox(1))", "click me"],
    ["[**bold** me](javascript:alert(1))", "bold me"],
    ["[a][r]\n\n[r]: javascript:alert(1)", "a"],
  ];
  it.each(cases)("%s is plain text, not an anchor", async (source, text) => {
    const { renderMarkdownUncached } = await import("../markdown");
    const el = document.createElement("div");
    el.innerHTML = renderMarkdownUncached(source);
    expect(el.querySelector("a")).toBeNull();
    expect(el.textContent?.trim()).toBe(text);
  });

  it("keeps http(s), mailto and relative links as links", async () => {
    const { renderMarkdownUncached } = await import("../markdown");
    const el = document.createElement("div");
    el.innerHTML = renderMarkdownUncached("[a](https://example.org) [b](mailto:x@example.org) [c](#top)");
    expect(Array.from(el.querySelectorAll("a")).map((a) => a.getAttribute("href"))).toEqual([
      "https://example.org",
      "mailto:x@example.org",
      "#top",
    ]);
  });

  it("is plain text while it streams, too", () => {
    const frames: (() => void)[] = [];
    const { model, root } = mountApp({ busy: true }, (cb) => frames.push(cb));
    model.custom({
      type: "delta",
      chat_id: CHAT_A,
      message_id: 2,
      seq: 0,
      text: "See [this](javascript:alert(1)) now",
      reasoning: "",
    });
    for (const f of frames.splice(0)) f();
    const bubble = root.querySelector<HTMLElement>(".lc-msg[data-role=assistant].lc-streaming, .lc-streaming")!;
    expect(bubble.textContent).toContain("See this now");
    expect(bubble.querySelector(".lc-md a")).toBeNull();
  });
});
