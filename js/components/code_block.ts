// A code block of rendered markdown: its head shows the language and a toolbar built
// from a list of actions (Copy; in a reply's Python blocks also Run, Stop run and
// Insert as cell, code_runs.ts / insert_cell.ts). Whoever knows the actions sets the
// whole list (setActions); the toolbar keeps one button per action id, in list order.
// Notes right under the block (a run's confirm step, its output) are its extras.
import { copyText, h } from "../dom";
import { type ButtonFace, FOCUS_INSET, flashText, setButtonFace, TOOL_BUTTON, textButton } from "./ui";

/** One action of a code block's toolbar. */
export interface CodeAction extends ButtonFace {
  /** Stable id; the button's class hook is `lc-code-<id>`. */
  id: string;
  /** The button's accessible name. */
  label: string;
  title: string;
  hidden?: boolean;
  disabled?: boolean;
  onClick: (button: HTMLButtonElement) => void;
}

const WRAP =
  "lc-codeblock not-prose lc:my-[0.75em] lc:first:mt-0 lc:last:mb-0 lc:overflow-hidden lc:bg-code lc:border " +
  "lc:border-line lc:rounded-item";
const HEAD =
  "lc:flex lc:items-center lc:justify-between lc:gap-2 lc:py-[3px] lc:pr-1 lc:pl-3 lc:bg-code-head lc:text-xs " +
  "lc:text-muted";

const blocks = new WeakMap<Element, CodeBlock>();

export class CodeBlock {
  readonly el: HTMLElement;
  readonly pre: HTMLPreElement;
  readonly lang: string;
  private bar: HTMLElement;
  private buttons = new Map<string, HTMLButtonElement>();
  private faces = new Map<string, string>(); // what each button shows now
  private extras = new Map<string, HTMLElement>();

  /** Wrap a rendered `pre.lc-pre` (it moves into the block, which takes its place). */
  constructor(pre: HTMLPreElement) {
    this.pre = pre;
    this.lang = pre.getAttribute("data-lang") || "";
    this.bar = h("div", { class: "lc-code-actions lc:flex lc:shrink-0 lc:items-center lc:gap-2 lc:ms-auto" });
    const head = h(
      "div",
      { class: HEAD },
      h("span", { class: "lc-code-lang lc:min-w-0 lc:truncate lc:font-mono" }, this.lang || "text"),
      this.bar,
    );
    this.el = h("div", { class: WRAP });
    pre.replaceWith(this.el);
    this.el.append(head, pre);
    blocks.set(this.el, this);
    this.setActions([copyAction(this)]);
  }

  /** The block's code as shown. */
  get code(): string {
    return this.pre.querySelector("code")?.textContent ?? this.pre.textContent ?? "";
  }

  /** The toolbar shows these actions, in this order (buttons are kept by id). */
  setActions(actions: CodeAction[]): void {
    const wanted = new Set(actions.map((a) => a.id));
    for (const [id, b] of this.buttons) {
      if (!wanted.has(id)) {
        b.remove();
        this.buttons.delete(id);
      }
    }
    actions.forEach((action, i) => {
      const b = this.button(action);
      if (this.bar.children[i] !== b) this.bar.insertBefore(b, this.bar.children[i] ?? null);
    });
  }

  /** A note right under the block, by kind (null removes it); the newest comes first. */
  setExtra(kind: string, el: HTMLElement | null): void {
    const old = this.extras.get(kind);
    if (old === el) return;
    old?.remove();
    this.extras.delete(kind);
    if (!el) return;
    this.el.after(el);
    this.extras.set(kind, el);
  }

  extra(kind: string): HTMLElement | undefined {
    const el = this.extras.get(kind);
    // Gone with a re-render of what is around the block: not a note of it any more.
    return el && el.parentNode === this.el.parentNode ? el : undefined;
  }

  private button(action: CodeAction): HTMLButtonElement {
    const face = JSON.stringify([action.icon, action.iconSize, action.text, action.textClass]);
    let b = this.buttons.get(action.id);
    if (!b) {
      b = textButton(action, {
        class: `lc-code-${action.id} ${TOOL_BUTTON}`,
        label: action.label,
        title: action.title,
      });
      this.buttons.set(action.id, b);
      this.faces.set(action.id, face);
    } else if (this.faces.get(action.id) !== face) {
      setButtonFace(b, action);
      this.faces.set(action.id, face);
    }
    b.setAttribute("aria-label", action.label);
    b.title = action.title;
    b.hidden = !!action.hidden;
    b.disabled = !!action.disabled;
    const button = b;
    b.onclick = () => action.onClick(button);
    return b;
  }
}

/** Copy the block's code (every block has it, last in the toolbar). */
export function copyAction(block: CodeBlock): CodeAction {
  return {
    id: "copy",
    label: "Copy",
    title: "Copy code",
    icon: "copy",
    iconSize: 14,
    text: "Copy",
    onClick: (button) => {
      void copyText(block.code).then((ok) => flashText(button, ok ? "Copied" : "Copy failed"));
    },
  };
}

/** The code blocks under `root` (made into blocks by decorateMarkdown). */
export function codeBlocks(root: HTMLElement): CodeBlock[] {
  const found: CodeBlock[] = [];
  for (const el of Array.from(root.querySelectorAll(".lc-codeblock"))) {
    const block = blocks.get(el);
    if (block) found.push(block);
  }
  return found;
}

/** Make each rendered `pre.lc-pre` under `root` a code block with its toolbar (once). */
export function wrapCodeBlocks(root: HTMLElement): void {
  for (const pre of Array.from(root.querySelectorAll<HTMLPreElement>("pre.lc-pre"))) {
    if (pre.parentElement?.classList.contains("lc-codeblock")) continue;
    new CodeBlock(pre);
  }
}

/** Blocks that scroll sideways (long code lines, wide tables) take keyboard focus. */
export function focusableScrollers(root: HTMLElement): void {
  for (const block of Array.from(root.querySelectorAll<HTMLElement>("pre.lc-pre, table"))) {
    if (block.tabIndex === 0) continue;
    block.tabIndex = 0;
    block.classList.add(...FOCUS_INSET.split(" "));
  }
}
