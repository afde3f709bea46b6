import { afterEach, describe, expect, it, vi } from "vitest";
import { loadMathFromKernel, offerMathLoader } from "../math_loader";
import { RequestDropped, RequestRefused, Requests, isAnswer, whyFailed } from "../requests";
import type { Command } from "../types";

afterEach(() => vi.useRealTimers());

function setup(view?: string) {
  const sent: any[] = [];
  const requests = new Requests((cmd: Command) => sent.push(cmd), view);
  return { sent, requests };
}

describe("requests with answers", () => {
  it("sends the command with an id of its own and resolves with the answer and its buffers", async () => {
    const { sent, requests } = setup("view1");
    const asked = requests.ask("export", { chat_id: "c", format: "json" });
    expect(sent).toEqual([{ type: "export", chat_id: "c", format: "json", request: "view1-1" }]);
    const data = new DataView(new ArrayBuffer(2));
    const msg = {
      type: "export",
      chat_id: "c",
      request: "view1-1",
      format: "json",
      filename: "c.json",
      mime: "application/json",
    } as const;
    expect(requests.receive(msg, [data, "not a buffer"])).toBe(true);
    await expect(asked).resolves.toEqual({ msg, buffers: [data] });
    // The same answer again is not this view's any more.
    expect(requests.receive(msg, [data])).toBe(false);
  });

  it("issues ids unique within the page in the protocol's alphabet", () => {
    const a = setup();
    const b = setup();
    a.requests.ask("export", { chat_id: "c", format: "json" }).catch(() => undefined);
    a.requests.ask("export", { chat_id: "c", format: "json" }).catch(() => undefined);
    b.requests.ask("export", { chat_id: "c", format: "json" }).catch(() => undefined);
    const ids = [...a.sent, ...b.sent].map((c) => c.request);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(new Set(ids).size).toBe(3);
    expect(a.requests.view).not.toBe(b.requests.view);
    expect(() => new Requests(() => undefined, "a view")).toThrow();
  });

  it("ignores answers to requests it did not make", () => {
    const { requests } = setup("mine");
    requests.ask("list_models", {}).catch(() => undefined);
    expect(requests.receive({ type: "model_list", request: "theirs-1", names: [], error: "" })).toBe(false);
    expect(requests.receive({ type: "model_list", request: "mine-1", names: ["m"], error: "" })).toBe(true);
  });

  it("rejects a refused request with the kernel's error", async () => {
    const { requests } = setup("v");
    const asked = requests.ask("list_context", {});
    requests.receive({ type: "refused", request: "v-1", error: "Kernel context is turned off." });
    const err = await asked.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestRefused);
    expect(whyFailed(err)).toBe("Kernel context is turned off.");
  });

  it("drops the answer to a request a newer one of its kind replaced", async () => {
    const { requests } = setup("v");
    const older = requests.ask("search", { query: "pan" });
    const newer = requests.ask("search", { query: "panda" });
    const err = await older.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestDropped);
    expect(whyFailed(err)).toBeNull();
    expect(requests.receive({ type: "search_results", request: "v-1", query: "pan", hits: [] })).toBe(false);
    expect(requests.receive({ type: "search_results", request: "v-2", query: "panda", hits: [] })).toBe(true);
    await expect(newer).resolves.toMatchObject({ msg: { query: "panda" } });
    // Exports do not replace each other.
    const one = requests.ask("export", { chat_id: "c", format: "json" });
    requests.ask("export", { chat_id: "c", format: "ipynb" }).catch(() => undefined);
    requests.receive({ type: "export", chat_id: "c", request: "v-3", format: "json", filename: "f", mime: "m" });
    await expect(one).resolves.toBeTruthy();
  });

  it("drops everything when the view goes, and sends nothing after", async () => {
    const { sent, requests } = setup("v");
    const asked = requests.ask("search", { query: "x" });
    requests.dispose();
    await expect(asked).rejects.toBeInstanceOf(RequestDropped);
    await expect(requests.ask("list_models", {})).rejects.toBeInstanceOf(RequestDropped);
    expect(sent).toHaveLength(1);
  });

  it("gives up after its timeout", async () => {
    vi.useFakeTimers();
    const { requests } = setup("v");
    const asked = requests.ask("load_math", {}, { timeoutMs: 1000 });
    vi.advanceTimersByTime(1000);
    await expect(asked).rejects.toThrow("no answer from the kernel");
    expect(requests.receive({ type: "math_chunk", request: "v-1" })).toBe(false);
  });

  it("tells answers from the streaming fast path", () => {
    expect(isAnswer({ type: "search_results", request: "v-1" })).toBe(true);
    expect(isAnswer({ type: "delta", chat_id: "c", message_id: 0, seq: 0 })).toBe(false);
    expect(isAnswer({ type: "export" })).toBe(false);
    expect(isAnswer(null)).toBe(false);
  });
});

describe("the math chunk loader", () => {
  it("asks through the newest open view and fails cleanly without one", async () => {
    await expect(loadMathFromKernel()).rejects.toThrow("no open view");
    const { sent, requests } = setup("m");
    const withdraw = offerMathLoader(requests);
    const loading = loadMathFromKernel();
    expect(sent).toEqual([{ type: "load_math", request: "m-1" }]);
    requests.receive({ type: "math_chunk", request: "m-1" }, []);
    await expect(loading).rejects.toThrow("the kernel sent no code");
    withdraw();
    await expect(loadMathFromKernel()).rejects.toThrow("no open view");
  });
});
