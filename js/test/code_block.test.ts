import { describe, expect, it, vi } from "vitest";
import { type CodeAction, type CodeBlock, codeBlocks, copyAction, wrapCodeBlocks } from "../components/code_block";
import { showMarkdown } from "../components/markdown_view";
import { renderMarkdownInto } from "../markdown";

function rendered(md: string): HTMLElement {
  const el = document.createElement("div");
  renderMarkdownInto(el, md);
  return el;
}

const names = (block: CodeBlock) =>
  Array.from(block.el.querySelectorAll(".lc-code-actions button")).map((b) => b.getAttribute("aria-label"));

function action(id: string, over: Partial<CodeAction> = {}): CodeAction {
  return { id, label: id, title: id, icon: "play", iconSize: 12, text: id, onClick: () => undefined, ...over };
}

describe("code block toolbar", () => {
  it("markdown.ts makes no controls; the markdown view gives each block its toolbar", () => {
    const el = rendered("```python\nx = 1\n```");
    expect(el.querySelector("button")).toBeNull();
    expect(el.querySelector(".lc-codeblock")).toBeNull();
    wrapCodeBlocks(el);
    wrapCodeBlocks(el); // once only
    const [block] = codeBlocks(el);
    expect(codeBlocks(el)).toHaveLength(1);
    expect(block.lang).toBe("python");
    expect(block.code).toBe("x = 1");
    expect(names(block)).toEqual(["Copy"]);
    const shown = document.createElement("div");
    showMarkdown(shown, "```js\nno()\n```");
    expect(shown.querySelector(".lc-code-copy")?.getAttribute("aria-label")).toBe("Copy");
  });

  it("shows the actions it is given, in order, keeping each button by id", () => {
    const el = rendered("```python\nx = 1\n```");
    wrapCodeBlocks(el);
    const [block] = codeBlocks(el);
    const later = vi.fn();
    block.setActions([action("run"), action("later", { onClick: later }), copyAction(block)]);
    expect(names(block)).toEqual(["run", "later", "Copy"]);
    const run = block.el.querySelector<HTMLButtonElement>(".lc-code-run")!;
    block.setActions([action("run", { disabled: true, text: "Running…" }), copyAction(block)]);
    expect(names(block)).toEqual(["run", "Copy"]);
    expect(block.el.querySelector(".lc-code-run")).toBe(run);
    expect(run.disabled).toBe(true);
    expect(run.textContent).toBe("Running…");
    block.setActions([action("later", { onClick: later }), action("run"), copyAction(block)]);
    expect(names(block)).toEqual(["later", "run", "Copy"]);
    block.el.querySelector<HTMLButtonElement>(".lc-code-later")!.click();
    expect(later).toHaveBeenCalledOnce();
  });

  it("keeps notes right under the block", () => {
    const el = rendered("```python\nx = 1\n```\n\nafter");
    wrapCodeBlocks(el);
    const [block] = codeBlocks(el);
    const note = document.createElement("div");
    block.setExtra("note", note);
    expect(block.el.nextElementSibling).toBe(note);
    expect(block.extra("note")).toBe(note);
    block.setExtra("note", null);
    expect(note.isConnected).toBe(false);
    expect(block.extra("note")).toBeUndefined();
  });
});
