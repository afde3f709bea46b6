// Run on the Python code blocks of a reply: after a confirm in the widget the kernel
// runs the block (the stored block, named by its text) in the person's namespace; its
// stdout, result, error and PNG images appear under the block. While it runs, every
// Run is disabled and the running block offers Stop, which interrupts the kernel
// through the front end's kernel connection (as the notebook's Interrupt button does).
import { h, icon } from "../dom";
import type { CodeRun, RunningCode, SendCommand } from "../types";
import { decorateInsert } from "./insert_cell";
import { FOCUS, SMALL_BUTTON } from "./ui";

export const PYTHON_LANGS = new Set(["python", "py", "python3", "ipython", "ipython3"]);

export interface CodeRunState {
  allowed: boolean;
  running: RunningCode;
  /** Interrupt the kernel; false when this host gives the widget no way to. */
  interrupt: () => boolean;
  /** Insert as cell is offered (insert_cell.ts). */
  insertable: boolean;
}

export interface RunTarget {
  chatId: string;
  messageId: number;
  runs: CodeRun[];
  state: CodeRunState;
  send: SendCommand;
}

const BUTTON =
  "lc:inline-flex lc:shrink-0 lc:whitespace-nowrap lc:items-center lc:gap-[5px] lc:h-[26px] lc:px-2 lc:rounded-md lc:text-xs lc:text-muted " +
  `lc:enabled:hover:bg-hover lc:enabled:hover:text-fg lc:disabled:opacity-60 lc:disabled:cursor-default ${FOCUS}`;

/** Runs sent from this page and not yet seen running or finished (key -> run count then). */
const pending = new Map<string, number>();

/** A refused run (the error banner says why) is no longer pending. */
export function clearPendingRuns(): void {
  pending.clear();
}

export function sameCode(a: string, b: string): boolean {
  return a.trimEnd() === b.trimEnd();
}

function blockCode(wrap: Element): string {
  const pre = wrap.querySelector("pre");
  return pre?.querySelector("code")?.textContent ?? pre?.textContent ?? "";
}

/** Add Run (and the output of the latest run) and Insert as cell to each Python block under `body`. */
export function decorateRuns(body: HTMLElement, t: RunTarget): void {
  for (const wrap of Array.from(body.querySelectorAll<HTMLElement>(".lc-codeblock"))) {
    const lang = (wrap.querySelector("pre")?.getAttribute("data-lang") ?? "").toLowerCase();
    if (!PYTHON_LANGS.has(lang)) continue;
    const code = blockCode(wrap);
    decorateBlock(wrap, code, t);
    decorateInsert(wrap, code, {
      chatId: t.chatId,
      messageId: t.messageId,
      insertable: t.state.insertable,
      send: t.send,
    });
  }
}

function decorateBlock(wrap: HTMLElement, code: string, t: RunTarget): void {
  const head = wrap.firstElementChild as HTMLElement;
  let run = head.querySelector<HTMLButtonElement>(".lc-code-run");
  let stop = head.querySelector<HTMLButtonElement>(".lc-code-stop");
  if (!run || !stop) {
    run = h("button", {
      type: "button",
      class: `lc-code-run ${BUTTON} lc:ms-auto`,
      "aria-label": "Run",
      title: "Run in the kernel",
    });
    stop = h("button", {
      type: "button",
      class: `lc-code-stop ${BUTTON}`,
      "aria-label": "Stop run",
      title: "Interrupt the kernel",
      hidden: true,
    });
    stop.append(icon("stop", 12), h("span", {}, "Stop"));
    head.insertBefore(run, head.lastElementChild);
    head.insertBefore(stop, head.lastElementChild);
  }
  const runs = t.runs.filter((r) => sameCode(r.code, code));
  const key = `${t.chatId}:${t.messageId}:${code.trimEnd()}`;
  const { running } = t.state;
  const mine = running.chat_id === t.chatId && running.message_id === t.messageId && sameCode(running.code, code);
  if (mine || (pending.has(key) && runs.length > (pending.get(key) ?? 0))) pending.delete(key);
  const busy = mine || pending.has(key);
  run.hidden = !t.state.allowed;
  run.disabled = busy || running.chat_id !== "";
  // In the narrowest widths (the sidebar) Run is its icon; its aria-label names it.
  run.replaceChildren(
    icon(busy ? "refresh" : "play", 12),
    h("span", { class: "lc:@max-tiny:hidden" }, busy ? "Running…" : "Run"),
  );
  run.title = running.chat_id && !busy ? "Another run is in progress" : "Run in the kernel";
  stop.hidden = !mine;
  run.onclick = () => confirmRun(wrap, code, key, runs.length, t);
  stop.onclick = () => {
    if (!t.state.interrupt()) note(wrap, "This page cannot interrupt the kernel: use Jupyter's Interrupt kernel (■).");
  };
  drawOutput(wrap, runs[runs.length - 1]);
}

function after(wrap: HTMLElement, cls: string): HTMLElement | null {
  let el = wrap.nextElementSibling;
  while (el?.classList.contains("lc-run-extra")) {
    if (el.classList.contains(cls)) return el as HTMLElement;
    el = el.nextElementSibling;
  }
  return null;
}

function confirmRun(wrap: HTMLElement, code: string, key: string, count: number, t: RunTarget): void {
  if (after(wrap, "lc-run-confirm")) return;
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
  no.addEventListener("click", () => bar.remove());
  yes.addEventListener("click", () => {
    bar.remove();
    pending.set(key, count);
    t.send({ type: "run_code", chat_id: t.chatId, message_id: t.messageId, code });
    decorateBlock(wrap, code, t);
  });
  wrap.after(bar);
  yes.focus();
}

function note(wrap: HTMLElement, text: string): void {
  const el = h(
    "div",
    { class: "lc-run-extra lc-run-note not-prose lc:my-1 lc:text-note lc:text-muted", role: "status" },
    text,
  );
  after(wrap, "lc-run-note")?.remove();
  wrap.after(el);
}

function drawOutput(wrap: HTMLElement, run: CodeRun | undefined): void {
  let box = after(wrap, "lc-run-output");
  const sig = run ? JSON.stringify([run.status, run.stdout, run.result, run.error, run.images.length]) : "";
  if (box && box.dataset.sig === sig) return;
  box?.remove();
  if (!run) return;
  const pre = (text: string, cls = "") =>
    h(
      "pre",
      { class: `lc:m-0 lc:py-1.5 lc:px-2.5 lc:whitespace-pre-wrap lc:wrap-anywhere lc:font-mono lc:text-xs ${cls}` },
      text,
    );
  box = h(
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
  if (run.error) box.append(pre(run.error, "lc-run-error lc:text-danger-fg lc:bg-danger-bg"));
  if (!run.stdout && !run.result && !run.error && !run.images.length) box.append(pre("(no output)", "lc:text-muted"));
  wrap.after(box);
}
