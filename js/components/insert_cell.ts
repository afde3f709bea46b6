// Insert as cell on the Python code blocks of a reply: the kernel puts the block (as
// stored, named here by its text) into a new notebook cell below the active one, through
// ipylab. Shown only while the kernel says ipylab's front end answered in this page
// (`can_insert_cell`: JupyterLab or Notebook 7 with ipylab); elsewhere there is no button.
// The new cell appearing is the answer; a refusal comes back as the error banner.
import { h, icon } from "../dom";
import type { SendCommand } from "../types";
import { FOCUS } from "./ui";

export interface InsertTarget {
  chatId: string;
  messageId: number;
  insertable: boolean;
  send: SendCommand;
}

const BUTTON =
  "lc-code-insert lc:inline-flex lc:shrink-0 lc:whitespace-nowrap lc:items-center lc:gap-[5px] lc:h-[26px] lc:px-2 lc:rounded-md lc:text-xs lc:text-muted " +
  `lc:hover:bg-hover lc:hover:text-fg ${FOCUS}`;

/** Add (or update) Insert as cell in the head of a Python block, next to Copy. */
export function decorateInsert(wrap: HTMLElement, code: string, t: InsertTarget): void {
  const head = wrap.firstElementChild as HTMLElement;
  let button = head.querySelector<HTMLButtonElement>(".lc-code-insert");
  if (!button) {
    button = h("button", {
      type: "button",
      class: BUTTON,
      "aria-label": "Insert as cell",
      title: "Insert as a new cell below the active cell",
    });
    // The label gives way in a narrow chat (the sidebar); the name stays.
    button.append(icon("plus", 12), h("span", { class: "lc:@max-compact:hidden" }, "Insert as cell"));
    head.insertBefore(button, head.lastElementChild);
  }
  button.hidden = !t.insertable;
  // Without Run (turned off), this button is the first on the right.
  const run = head.querySelector<HTMLElement>(".lc-code-run");
  button.classList.toggle("lc:ms-auto", !run || run.hidden);
  button.onclick = () => t.send({ type: "insert_cell", chat_id: t.chatId, message_id: t.messageId, code });
}
