// The toolbar of a reply's code blocks: which actions, in which order. Every block has
// Copy; a Python block has Run and Stop run (code_runs.ts) and Insert as cell
// (insert_cell.ts) before it. Later actions join this list.
import { type CodeBlock, codeBlocks, copyAction } from "./code_block";
import { PYTHON_LANGS, type RunTarget, runActions } from "./code_runs";
import { insertAction } from "./insert_cell";

/** Set the actions of every code block under a reply's body. */
export function decorateReplyCode(body: HTMLElement, t: RunTarget): void {
  for (const block of codeBlocks(body)) {
    if (block.el.closest(".lc-tool")) continue; // a tool call's code: its card runs it, not Run
    if (PYTHON_LANGS.has(block.lang.toLowerCase())) setPythonActions(block, t);
  }
}

function setPythonActions(block: CodeBlock, t: RunTarget): void {
  const redraw = () => setPythonActions(block, t);
  const insert = { chatId: t.chatId, messageId: t.messageId, insertable: t.state.insertable, send: t.send };
  block.setActions([...runActions(block, t, redraw), insertAction(block, insert), copyAction(block)]);
}
