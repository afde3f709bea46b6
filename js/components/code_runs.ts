// Run on the Python code blocks of a reply: after a confirm in the widget the kernel
// runs the block (the stored block, named by its text) in the person's namespace; its
// stdout, result, error and PNG images appear under the block. While it runs, every
// Run is disabled and the running block offers Stop, which interrupts the kernel
// through the front end's kernel connection (as the notebook's Interrupt button does).
// This module gives a block's toolbar its Run and Stop run actions (reply_code.ts puts
// the toolbar together) and draws the confirm step and the output under the block.
// A run that displayed images offers "Ask about this": its PNGs go to the composer.
import { h, icon } from "../dom";
import type { CodeRun, RunningCode, SendCommand } from "../types";
import type { CodeAction, CodeBlock } from "./code_block";
import { SMALL_BUTTON } from "./ui";

export const PYTHON_LANGS = new Set(["python", "py", "python3", "ipython", "ipython3"]);

export interface CodeRunState {
  allowed: boolean;
  running: RunningCode;
  /** Interrupt the kernel; false when this host gives the widget no way to. */
  interrupt: () => boolean;
  /** Insert as cell is offered (insert_cell.ts). */
  insertable: boolean;
  /** Attach a run's images (base64 PNGs) to the composer; absent: not offered. */
  attach?: (pngs: string[]) => void;
}

export interface RunTarget {
  chatId: string;
  messageId: number;
  runs: CodeRun[];
  state: CodeRunState;
  send: SendCommand;
}

/** Runs sent from this page and not yet seen running or finished (key -> run count then). */
const pending = new Map<string, number>();

/** A refused run (the error banner says why) is no longer pending. */
export function clearPendingRuns(): void {
  pending.clear();
}

export function sameCode(a: string, b: string): boolean {
  return a.trimEnd() === b.trimEnd();
}

/**
 * Run and Stop run for a Python block, and the output of its latest run drawn under it.
 * `redraw` sets the block's actions again (a confirmed run shows "Running…" at once).
 */
export function runActions(block: CodeBlock, t: RunTarget, redraw: () => void): CodeAction[] {
  const code = block.code;
  const runs = t.runs.filter((r) => sameCode(r.code, code));
  const key = `${t.chatId}:${t.messageId}:${code.trimEnd()}`;
  const { running } = t.state;
  const mine = running.chat_id === t.chatId && running.message_id === t.messageId && sameCode(running.code, code);
  if (mine || (pending.has(key) && runs.length > (pending.get(key) ?? 0))) pending.delete(key);
  const busy = mine || pending.has(key);
  drawOutput(block, runs[runs.length - 1], t.state.attach);
  const confirmed = () => {
    pending.set(key, runs.length);
    t.send({ type: "run_code", chat_id: t.chatId, message_id: t.messageId, code });
    redraw();
  };
  const run: CodeAction = {
    id: "run",
    label: "Run",
    title: running.chat_id && !busy ? "Another run is in progress" : "Run in the kernel",
    icon: busy ? "refresh" : "play",
    iconSize: 12,
    // In the narrowest widths (the sidebar) Run is its icon; its aria-label names it.
    text: busy ? "Running…" : "Run",
    textClass: "lc:@max-tiny:hidden",
    hidden: !t.state.allowed,
    disabled: busy || running.chat_id !== "",
    onClick: () => confirmRun(block, confirmed),
  };
  const stop: CodeAction = {
    id: "stop",
    label: "Stop run",
    title: "Interrupt the kernel",
    icon: "stop",
    iconSize: 12,
    text: "Stop",
    hidden: !mine,
    onClick: () => {
      if (!t.state.interrupt()) {
        note(block, "This page cannot interrupt the kernel: use Jupyter's Interrupt kernel (■).");
      }
    },
  };
  return [run, stop];
}

function confirmRun(block: CodeBlock, confirmed: () => void): void {
  if (block.extra("confirm")) return;
  const yes = h(
    "button",
    { type: "button", class: `${SMALL_BUTTON} lc:bg-accent lc:text-on-accent`, "aria-label": "Confirm run" },
    "Run",
  );
  const no = h(
    "button",
    { type: "button", class: `${SMALL_BUTTON} lc:border lc:border-line`, "aria-label": "Cancel run" },
    "Cancel",
  );
  const bar = h(
    "div",
    {
      class:
        "lc-run-extra lc-run-confirm not-prose lc:flex lc:flex-wrap lc:items-center lc:gap-2 lc:my-1.5 lc:py-1.5 lc:px-2.5 " +
        "lc:rounded-item lc:border lc:border-line-strong lc:bg-code-head lc:text-ui",
      role: "group",
      "aria-label": "Run this code?",
    },
    h(
      "span",
      { class: "lc:flex-1 lc:min-w-[12em]" },
      "Run this code in the kernel? It can change your variables and files.",
    ),
    yes,
    no,
  );
  no.addEventListener("click", () => block.setExtra("confirm", null));
  yes.addEventListener("click", () => {
    block.setExtra("confirm", null);
    confirmed();
  });
  block.setExtra("confirm", bar);
  yes.focus();
}

function note(block: CodeBlock, text: string): void {
  const el = h(
    "div",
    { class: "lc-run-extra lc-run-note not-prose lc:my-1 lc:text-note lc:text-muted", role: "status" },
    text,
  );
  block.setExtra("note", el);
}

function drawOutput(block: CodeBlock, run: CodeRun | undefined, attach?: (pngs: string[]) => void): void {
  const sig = run ? JSON.stringify([run.status, run.stdout, run.result, run.error, run.images.length, !!attach]) : "";
  if (block.extra("output")?.dataset.sig === sig) return;
  if (!run) {
    block.setExtra("output", null);
    return;
  }
  const pre = (text: string, cls = "") =>
    h(
      "pre",
      { class: `lc:m-0 lc:py-1.5 lc:px-2.5 lc:whitespace-pre-wrap lc:wrap-anywhere lc:font-mono lc:text-xs ${cls}` },
      text,
    );
  const box = h(
    "div",
    {
      class:
        "lc-run-extra lc-run-output not-prose lc:-mt-[0.5em] lc:mb-[0.75em] lc:border lc:border-t-0 lc:border-line lc:rounded-b-item lc:bg-surface",
      role: "region",
      "aria-label": "Run output",
      "data-status": run.status,
    },
    h(
      "div",
      { class: "lc:py-0.5 lc:px-2.5 lc:text-micro lc:text-muted lc:border-b lc:border-line" },
      run.status === "ok" ? "Output" : run.status === "interrupted" ? "Interrupted" : "Error",
    ),
  );
  box.dataset.sig = sig;
  if (run.stdout) box.append(pre(run.stdout, "lc-run-stdout"));
  if (run.result) box.append(pre(run.result, "lc-run-result"));
  for (const png of run.images) {
    const img = h("img", {
      alt: "Image the code displayed",
      class: "lc-run-image lc:block lc:max-w-full lc:h-auto lc:m-1.5",
    });
    img.src = `data:image/png;base64,${png}`;
    box.append(img);
  }
  if (run.images.length && attach) box.append(askButton(run.images, attach));
  if (run.error) box.append(pre(run.error, "lc-run-error lc:text-danger-fg lc:bg-danger-bg"));
  if (!run.stdout && !run.result && !run.error && !run.images.length) box.append(pre("(no output)", "lc:text-muted"));
  block.setExtra("output", box);
}

/** "Ask about this": the run's images go to the composer as files, to ask the model about them. */
function askButton(pngs: string[], attach: (pngs: string[]) => void): HTMLElement {
  const n = pngs.length;
  const b = h(
    "button",
    {
      type: "button",
      class: `lc-run-ask ${SMALL_BUTTON} lc:inline-flex lc:items-center lc:gap-1.5 lc:m-1.5 lc:border lc:border-line lc:hover:bg-hover`,
      title: n === 1 ? "Attach this image to your next message" : `Attach these ${n} images to your next message`,
    },
    icon("paperclip", 12),
    "Ask about this",
  );
  b.addEventListener("click", () => attach(pngs));
  return b;
}
