import { afterEach, describe, expect, it, vi } from "vitest";
import { ChatApp } from "../widget";
import { MessageBubble, type BubbleData } from "../components/message_bubble";
import { editKeyAction, editOutcome } from "../components/message_editor";
import { switcherState } from "../components/version_switcher";
import { CHAT_A, FakeModel } from "./fake_model";

let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup) f();
  cleanup = [];
  document.body.replaceChildren();
});

const byLabel = (root: ParentNode, label: string) =>
  Array.from(root.querySelectorAll<HTMLElement>(`[aria-label="${label}"]`));
const visible = (el: Element | null | undefined) => !!el && !(el as HTMLElement).closest("[hidden]");
function key(target: EventTarget, k: string, opts: KeyboardEventInit = {}) {
  const e = new KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true, ...opts });
  target.dispatchEvent(e);
  return e;
}
const keyLike = (over: Partial<KeyboardEvent>) =>
  ({
    key: "",
    shiftKey: false,
    altKey: false,
    ctrlKey: false,
    metaKey: false,
    isComposing: false,
    keyCode: 0,
    ...over,
  }) as KeyboardEvent;

describe("switcherState", () => {
  it("labels the version and steps within 1..versions", () => {
    expect(switcherState(2, 3)).toEqual({ shown: true, label: "2/3", prev: 1, next: 3 });
    expect(switcherState(1, 3)).toEqual({ shown: true, label: "1/3", prev: null, next: 2 });
    expect(switcherState(3, 3)).toEqual({ shown: true, label: "3/3", prev: 2, next: null });
  });

  it("hides itself for a single version and clamps nonsense", () => {
    expect(switcherState(1, 1).shown).toBe(false);
    expect(switcherState(9, 2)).toEqual({ shown: true, label: "2/2", prev: 1, next: null });
    expect(switcherState(0, 0)).toEqual({ shown: false, label: "1/1", prev: null, next: null });
    expect(switcherState(Number.NaN, 2).label).toBe("1/2");
  });
});

describe("editing keys and outcomes", () => {
  it("Enter saves, Esc cancels, Shift+Enter and IME composition do neither", () => {
    expect(editKeyAction(keyLike({ key: "Enter" }))).toBe("save");
    expect(editKeyAction(keyLike({ key: "Escape" }))).toBe("cancel");
    expect(editKeyAction(keyLike({ key: "Enter", shiftKey: true }))).toBeNull();
    expect(editKeyAction(keyLike({ key: "Enter", isComposing: true }))).toBeNull();
    expect(editKeyAction(keyLike({ key: "Enter", keyCode: 229 }))).toBeNull();
    expect(editKeyAction(keyLike({ key: "a" }))).toBeNull();
  });

  it("an unchanged text just closes; an empty one or a busy chat is refused with a reason", () => {
    expect(editOutcome("hi", "hi", false)).toEqual({ kind: "unchanged" });
    expect(editOutcome("hi", "hello", false)).toEqual({ kind: "save", text: "hello" });
    expect(editOutcome("hi", "  \n", false)).toMatchObject({ kind: "refused", reason: "The message is empty." });
    expect(editOutcome("hi", "hello", true)).toMatchObject({ kind: "refused" });
  });
});

describe("a message bubble with versions", () => {
  const base = { chatId: CHAT_A, timestamp: "2025-01-01T10:00:00.000Z", error: "", status: "complete" as const };
  const user: BubbleData = { ...base, id: 4, role: "user", content: "What is 2+3?", version: 2, versions: 2 };

  it("edits in place: Enter sends an edit of that message, Esc cancels and sends nothing", () => {
    const send = vi.fn();
    const b = new MessageBubble(send, "user");
    document.body.append(b.el);
    b.update(user, { isLast: false, busy: false });
    byLabel(b.el, "Edit")[0].click();
    const input = byLabel(b.el, "Edit message")[0] as HTMLTextAreaElement;
    expect(visible(input)).toBe(true);
    expect(input.value).toBe("What is 2+3?");
    expect(document.activeElement).toBe(input);
    input.value = "What is 2+4?";
    const enter = key(input, "Enter");
    expect(enter.defaultPrevented).toBe(true);
    expect(send).toHaveBeenLastCalledWith({ type: "edit", chat_id: CHAT_A, message_id: 4, text: "What is 2+4?" });
    expect(b.el.querySelector(".lc-editor")).toBeNull();

    send.mockClear();
    byLabel(b.el, "Edit")[0].click();
    const again = byLabel(b.el, "Edit message")[0] as HTMLTextAreaElement;
    again.value = "changed my mind";
    key(again, "Escape");
    expect(send).not.toHaveBeenCalled();
    expect(b.el.querySelector(".lc-editor")).toBeNull();
    expect(b.el.textContent).toContain("What is 2+3?");
  });

  it("keeps the draft and says why while a reply streams", () => {
    const send = vi.fn();
    let busy = false;
    const b = new MessageBubble(send, "user", () => busy);
    document.body.append(b.el);
    b.update(user, { isLast: false, busy: false });
    byLabel(b.el, "Edit")[0].click();
    const input = byLabel(b.el, "Edit message")[0] as HTMLTextAreaElement;
    input.value = "draft";
    busy = true;
    key(input, "Enter");
    expect(send).not.toHaveBeenCalled();
    expect(input.isConnected && input.value).toBe("draft");
    expect(b.el.querySelector(".lc-edit-note")!.textContent).toContain("stop it first");
    busy = false;
    byLabel(b.el, "Save edit")[0].click();
    expect(send).toHaveBeenLastCalledWith({ type: "edit", chat_id: CHAT_A, message_id: 4, text: "draft" });
  });

  it("the switcher asks the kernel for the neighbouring version", () => {
    const send = vi.fn();
    const b = new MessageBubble(send, "assistant");
    b.update(
      { ...base, id: 7, role: "assistant", content: "five", version: 2, versions: 3 },
      { isLast: true, busy: false },
    );
    const group = b.el.querySelector(".lc-versions")!;
    expect(visible(group)).toBe(true);
    expect(group.textContent).toContain("2/3");
    expect(group.getAttribute("aria-label")).toBe("Version 2 of 3");
    byLabel(b.el, "Previous version")[0].click();
    expect(send).toHaveBeenLastCalledWith({ type: "select_version", chat_id: CHAT_A, message_id: 7, version: 1 });
    byLabel(b.el, "Next version")[0].click();
    expect(send).toHaveBeenLastCalledWith({ type: "select_version", chat_id: CHAT_A, message_id: 7, version: 3 });
    b.update(
      { ...base, id: 7, role: "assistant", content: "five", version: 3, versions: 3 },
      { isLast: true, busy: false },
    );
    expect((byLabel(b.el, "Next version")[0] as HTMLButtonElement).disabled).toBe(true);
  });

  it("has no switcher with one version and no Edit on a reply", () => {
    const b = new MessageBubble(vi.fn(), "assistant");
    b.update({ ...base, id: 1, role: "assistant", content: "x" }, { isLast: true, busy: false });
    expect(visible(b.el.querySelector(".lc-versions"))).toBe(false);
    expect(visible(byLabel(b.el, "Edit")[0])).toBe(false);
  });
});

describe("versions in the message list", () => {
  it("shows a switcher on both bubbles, marks the list busy while a reply streams and then ignores the arrows", () => {
    const model = new FakeModel({
      messages: [
        {
          id: 4,
          role: "user",
          content: "What is 2+3?",
          timestamp: "",
          status: "complete",
          error: "",
          version: 2,
          versions: 2,
        },
        {
          id: 5,
          role: "assistant",
          content: "five",
          timestamp: "",
          status: "complete",
          error: "",
          version: 1,
          versions: 2,
        },
      ],
    });
    const el = document.createElement("div");
    document.body.append(el);
    const app = new ChatApp(model, el, { schedule: () => {} });
    cleanup.push(() => app.destroy());
    const labels = Array.from(app.root.querySelectorAll(".lc-versions")).map((g) => g.textContent);
    expect(labels).toEqual(["‹2/2›", "‹1/2›"]);
    byLabel(app.root, "Previous version")[0].click();
    expect(model.sent[model.sent.length - 1]).toEqual({
      type: "select_version",
      chat_id: CHAT_A,
      message_id: 4,
      version: 1,
    });

    // Saving an edit hands focus to the composer (the edited bubble gives way to the new version).
    byLabel(app.root, "Edit")[0].click();
    const input = byLabel(app.root, "Edit message")[0] as HTMLTextAreaElement;
    input.value = "What is 2+4?";
    key(input, "Enter");
    expect(model.sent[model.sent.length - 1]).toEqual({
      type: "edit",
      chat_id: CHAT_A,
      message_id: 4,
      text: "What is 2+4?",
    });
    expect(document.activeElement).toBe(app.composer.textarea);

    model.update({ busy: true });
    expect(app.root.querySelector<HTMLElement>(".lc-log > div[data-busy]")!.dataset.busy).toBe("true");
    const count = model.sent.length;
    byLabel(app.root, "Next version")[1].click();
    expect(model.sent.length).toBe(count);
  });
});
