// Insert as cell on the Python code blocks of a reply: the kernel puts the block (as
// stored, named here by its text) into a new notebook cell below the active one, through
// ipylab. Shown only while the kernel says ipylab's front end answered in this page
// (`can_insert_cell`: JupyterLab or Notebook 7 with ipylab); elsewhere there is no button.
// The new cell appearing is the answer; a refusal comes back as the error banner.
import type { SendCommand } from "../types";
import type { CodeAction, CodeBlock } from "./code_block";

export interface InsertTarget {
  chatId: string;
  messageId: number;
  insertable: boolean;
  send: SendCommand;
}

/** Insert as cell, for a Python block's toolbar. */
export function insertAction(block: CodeBlock, t: InsertTarget): CodeAction {
  return {
    id: "insert",
    label: "Insert as cell",
    title: "Insert as a new cell below the active cell",
    icon: "plus",
    iconSize: 12,
    // The text gives way in a narrow chat (the sidebar); the name stays.
    text: "Insert as cell",
    textClass: "lc:@max-compact:hidden",
    hidden: !t.insertable,
    onClick: () => t.send({ type: "insert_cell", chat_id: t.chatId, message_id: t.messageId, code: block.code }),
  };
}
