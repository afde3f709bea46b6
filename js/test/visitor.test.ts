import { describe, expect, it } from "vitest";
import { ChatApp } from "../widget";
import { visitorSecret } from "../visitor";
import { FakeModel } from "./fake_model";

class MemoryStorage implements Storage {
  items = new Map<string, string>();
  refuse = false;
  get length() {
    return this.items.size;
  }
  clear() {
    this.items.clear();
  }
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  key(i: number) {
    return [...this.items.keys()][i] ?? null;
  }
  removeItem(key: string) {
    this.items.delete(key);
  }
  setItem(key: string, value: string) {
    if (this.refuse) throw new DOMException("quota", "QuotaExceededError");
    this.items.set(key, value);
  }
}

describe("visitorSecret", () => {
  it("makes a 128-bit hex secret once and then reuses the stored one", () => {
    const storage = new MemoryStorage();
    const first = visitorSecret(storage);
    expect(first).toMatch(/^[0-9a-f]{32}$/);
    expect(visitorSecret(storage)).toBe(first);
    expect(visitorSecret(new MemoryStorage())).not.toBe(first);
  });

  it("replaces a stored value that is not a secret", () => {
    const storage = new MemoryStorage();
    storage.setItem("livechat-visitor-secret", "../../etc");
    const secret = visitorSecret(storage);
    expect(secret).toMatch(/^[0-9a-f]{32}$/);
    expect(storage.getItem("livechat-visitor-secret")).toBe(secret);
  });

  it("keeps one secret for the page when storage is refused", () => {
    const storage = new MemoryStorage();
    storage.refuse = true;
    const secret = visitorSecret(storage);
    expect(secret).toMatch(/^[0-9a-f]{32}$/);
    expect(visitorSecret(storage)).toBe(secret);
  });
});

describe("claim", () => {
  function mount(perBrowser: boolean) {
    const model = new FakeModel({ per_browser: perBrowser, chats: [], messages: [], active_chat_id: "" });
    const el = document.createElement("div");
    document.body.append(el);
    const app = new ChatApp(model, el, { schedule: () => undefined });
    app.destroy();
    return model;
  }

  it("sends this browser's secret when the chats are per browser", () => {
    const sent = mount(true).sent;
    expect(sent).toEqual([{ type: "claim", secret: localStorage.getItem("livechat-visitor-secret") }]);
    expect(sent[0].secret).toMatch(/^[0-9a-f]{32}$/);
  });

  it("sends nothing when the chats are shared", () => {
    expect(mount(false).sent).toEqual([]);
  });
});
