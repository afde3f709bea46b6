// The one line of text the app page shows outside the widget: "Starting the chat…"
// while it connects, then nothing, or why the chat cannot work (never a blank page).
export type NoticeKind = "starting" | "reconnecting" | "failed";

export function showNotice(doc: Document, kind: NoticeKind, text: string, withReload = false): HTMLElement {
  let box = doc.getElementById("livechat-notice");
  if (!box) {
    box = doc.createElement("div");
    box.id = "livechat-notice";
    doc.body.append(box);
  }
  box.dataset.kind = kind;
  box.setAttribute("role", kind === "failed" ? "alert" : "status");
  box.replaceChildren(doc.createTextNode(text));
  if (withReload) {
    const button = doc.createElement("button");
    button.type = "button";
    button.textContent = "Reload";
    button.addEventListener("click", () => doc.defaultView?.location.reload());
    box.append(" ", button);
  }
  box.hidden = false;
  return box;
}

export function hideNotice(doc: Document): void {
  const box = doc.getElementById("livechat-notice");
  if (box) box.hidden = true;
}

export const NOTICES = {
  starting: "Starting the chat…",
  reconnecting: "Connection to the server lost, reconnecting…",
  kernelGone: "The chat stopped on the server. Reload the page to start again; your chats are saved.",
  noConnection: "The chat could not connect to the server. Reload the page to try again.",
  notebookFailed: "The chat could not start on the server (see the server's log).",
  pageFailed: "The chat could not start in this page (see the browser's console). Reload the page to try again.",
} as const;
