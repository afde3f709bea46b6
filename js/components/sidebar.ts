// Chat list: active chat highlighted; on hover/focus inline rename (Enter saves, Esc
// cancels) and delete with a confirm step inside the widget; a search box whose results
// come from the kernel (`search` messages, debounced); "New chat" fixed at the bottom.
import { h, icon, relativeTime } from "../dom";
import type { ChatSummary, SearchHit, SendCommand } from "../types";

export interface SidebarState {
  title: string;
  chats: ChatSummary[];
  activeChatId: string;
  searchQuery: string;
  searchResults: SearchHit[];
}

export const SEARCH_DEBOUNCE_MS = 150;

type Mode = "view" | "rename" | "confirm";

class ChatItem {
  readonly el: HTMLLIElement;
  mode: Mode = "view";
  chat: ChatSummary;
  active = false;

  constructor(chat: ChatSummary, private owner: Sidebar) {
    this.chat = chat;
    this.el = h("li", { class: "lc-chat-item", "data-chat-id": chat.id });
  }

  update(chat: ChatSummary, active: boolean): void {
    const changed = chat.title !== this.chat.title || chat.updated_at !== this.chat.updated_at || active !== this.active;
    this.chat = chat;
    this.active = active;
    if (changed || !this.el.firstChild) this.draw();
  }

  setMode(mode: Mode): void {
    this.mode = mode;
    this.draw();
  }

  draw(): void {
    const { chat } = this;
    const hadFocus = this.el.contains(document.activeElement);
    this.el.classList.toggle("lc-active", this.active);
    this.el.dataset.mode = this.mode;
    if (this.mode === "rename") {
      const input = h("input", {
        type: "text", class: "lc-rename-input lc-focus", "aria-label": "Chat title", maxlength: 200, "data-lc-own-esc": "",
      });
      input.value = chat.title;
      let finished = false;
      const finish = (save: boolean) => {
        if (finished) return;
        finished = true;
        const title = input.value.trim().replace(/\s+/g, " ");
        if (save && title && title !== chat.title) this.owner.send({ type: "rename", chat_id: chat.id, title });
        this.mode = "view";
        this.draw();
        (this.el.querySelector(".lc-chat-select") as HTMLElement | null)?.focus();
      };
      input.addEventListener("keydown", (e) => {
        e.stopPropagation();
        if (e.key === "Enter" && !e.isComposing) {
          e.preventDefault();
          finish(true);
        } else if (e.key === "Escape") {
          e.preventDefault();
          finish(false);
        }
      });
      input.addEventListener("blur", () => finish(true));
      this.el.replaceChildren(h("div", { class: "lc-chat-row lc-chat-row-edit" }, input));
      input.focus();
      input.select();
      return;
    }
    if (this.mode === "confirm") {
      const del = h("button", { type: "button", class: "lc-btn-danger lc-focus" }, "Delete");
      const cancel = h("button", { type: "button", class: "lc-btn-ghost lc-focus", "data-lc-own-esc": "" }, "Cancel");
      del.addEventListener("click", () => {
        this.owner.send({ type: "delete", chat_id: chat.id });
        this.mode = "view";
        this.draw();
      });
      cancel.addEventListener("click", () => {
        this.mode = "view";
        this.draw();
        (this.el.querySelector(".lc-chat-select") as HTMLElement | null)?.focus();
      });
      const box = h(
        "div",
        { class: "lc-confirm", role: "group", "aria-label": `Delete “${chat.title}”?`, "data-lc-own-esc": "" },
        h("p", { class: "lc-confirm-text" }, "Delete this chat?"),
        h("div", { class: "lc-confirm-actions" }, cancel, del),
      );
      box.addEventListener("keydown", (e) => {
        if (e.key === "Escape") {
          e.preventDefault();
          e.stopPropagation();
          cancel.click();
        }
      });
      this.el.replaceChildren(box);
      cancel.focus();
      return;
    }
    const select = h(
      "button",
      { type: "button", class: "lc-chat-select lc-focus", title: chat.title, "aria-current": this.active ? "page" : null },
      h("span", { class: "lc-chat-title" }, chat.title || "Untitled chat"),
      h("span", { class: "lc-chat-time" }, relativeTime(chat.updated_at)),
    );
    select.addEventListener("click", () => this.owner.select(chat.id));
    const rename = h("button", { type: "button", class: "lc-icon-btn lc-focus", "aria-label": "Rename chat", title: "Rename" });
    rename.append(icon("pencil", 14));
    rename.addEventListener("click", () => this.setMode("rename"));
    // Archive ("clear") is undoable from disk (chat_logs/archive/), so it needs no confirm.
    const archive = h("button", { type: "button", class: "lc-icon-btn lc-focus", "aria-label": "Archive chat", title: "Archive" });
    archive.append(icon("archive", 14));
    archive.addEventListener("click", () => this.owner.send({ type: "clear", chat_id: chat.id }));
    const del = h("button", { type: "button", class: "lc-icon-btn lc-icon-danger lc-focus", "aria-label": "Delete chat", title: "Delete" });
    del.append(icon("trash", 14));
    del.addEventListener("click", () => {
      this.owner.closeOtherModes(this);
      this.setMode("confirm");
    });
    this.el.replaceChildren(h("div", { class: "lc-chat-row" }, select, h("div", { class: "lc-chat-actions" }, rename, archive, del)));
    if (hadFocus) select.focus();
  }
}

export class Sidebar {
  readonly el: HTMLElement;
  readonly search: HTMLInputElement;
  private heading: HTMLElement;
  private list: HTMLUListElement;
  private results: HTMLElement;
  private newBtn: HTMLButtonElement;
  private items = new Map<string, ChatItem>();
  private state: SidebarState | null = null;
  private debounce: ReturnType<typeof setTimeout> | null = null;
  private lastSentQuery = "";

  constructor(
    readonly send: SendCommand,
    private onSelect: (chatId: string) => void,
    signal: AbortSignal,
    id = "lc-sidebar",
  ) {
    this.heading = h("h2", { class: "lc-side-title" });
    this.search = h("input", {
      type: "search", class: "lc-search lc-focus", "aria-label": "Search chats", placeholder: "Search chats",
      maxlength: 500, autocomplete: "off", spellcheck: "false", "data-lc-own-esc": "",
    });
    this.search.addEventListener("input", () => this.onSearchInput(), { signal });
    this.search.addEventListener(
      "keydown",
      (e) => {
        e.stopPropagation();
        if (e.key === "Escape" && this.search.value) {
          e.preventDefault();
          this.search.value = "";
          this.onSearchInput(true);
        }
      },
      { signal },
    );
    const searchWrap = h("div", { class: "lc-search-wrap" }, icon("search", 14), this.search);
    this.list = h("ul", { class: "lc-chat-list" });
    this.results = h("div", { class: "lc-results", hidden: true });
    this.newBtn = h("button", { type: "button", class: "lc-new-chat lc-focus", "aria-label": "New chat" });
    this.newBtn.append(icon("plus", 16), h("span", {}, "New chat"));
    this.newBtn.addEventListener("click", () => this.newChat(), { signal });
    this.el = h(
      "aside",
      { class: "lc-sidebar", id, "aria-label": "Chat list" },
      h("div", { class: "lc-side-head" }, this.heading, searchWrap),
      h("nav", { class: "lc-side-scroll", "aria-label": "Chats" }, this.list, this.results),
      h("div", { class: "lc-side-foot" }, this.newBtn),
    );
    signal.addEventListener("abort", () => {
      if (this.debounce !== null) clearTimeout(this.debounce);
    });
  }

  newChat(): void {
    this.send({ type: "new_chat" });
    this.onSelect("");
  }

  select(chatId: string): void {
    if (this.state?.activeChatId !== chatId) this.send({ type: "select_chat", chat_id: chatId });
    this.onSelect(chatId);
  }

  closeOtherModes(except: ChatItem): void {
    for (const it of this.items.values()) if (it !== except && it.mode !== "view") it.setMode("view");
  }

  focusSearch(): void {
    this.search.focus();
    this.search.select();
  }

  update(state: SidebarState): void {
    this.state = state;
    this.heading.textContent = state.title || "Chat";
    // Keyed list: reuse items, move only what is out of order.
    const keep = new Set<string>();
    const wanted: HTMLElement[] = [];
    for (const chat of state.chats) {
      keep.add(chat.id);
      let item = this.items.get(chat.id);
      if (!item) {
        item = new ChatItem(chat, this);
        this.items.set(chat.id, item);
      }
      item.update(chat, chat.id === state.activeChatId);
      wanted.push(item.el);
    }
    for (const [id, item] of this.items) {
      if (!keep.has(id)) {
        item.el.remove();
        this.items.delete(id);
      }
    }
    const kids = this.list.children;
    wanted.forEach((node, i) => {
      if (kids[i] !== node) this.list.insertBefore(node, kids[i] ?? null);
    });
    while (kids.length > wanted.length) kids[kids.length - 1].remove();
    if (!state.chats.length) {
      this.list.replaceChildren(h("li", { class: "lc-side-empty" }, "No chats yet"));
    } else {
      this.list.querySelector(".lc-side-empty")?.remove();
    }
    this.drawResults();
  }

  private onSearchInput(immediate = false): void {
    if (this.debounce !== null) clearTimeout(this.debounce);
    const fire = () => {
      this.debounce = null;
      const q = this.search.value.trim();
      if (q !== this.lastSentQuery) {
        this.lastSentQuery = q;
        this.send({ type: "search", query: q });
      }
    };
    if (immediate) fire();
    else this.debounce = setTimeout(fire, SEARCH_DEBOUNCE_MS);
    this.drawResults();
  }

  private drawResults(): void {
    const q = this.search.value.trim();
    const searching = q !== "";
    this.list.hidden = searching;
    this.results.hidden = !searching;
    if (!searching || !this.state) return;
    const st = this.state;
    if (st.searchQuery !== q) {
      this.results.replaceChildren(h("p", { class: "lc-side-empty", role: "status" }, "Searching…"));
      return;
    }
    if (!st.searchResults.length) {
      this.results.replaceChildren(h("p", { class: "lc-side-empty", role: "status" }, `No chats match “${q}”`));
      return;
    }
    const ul = h("ul", { class: "lc-hit-list", "aria-label": "Search results" });
    for (const hit of st.searchResults) {
      const b = h(
        "button",
        { type: "button", class: "lc-hit lc-focus", "aria-current": hit.chat_id === st.activeChatId ? "page" : null },
        h("span", { class: "lc-hit-title" }, hit.title || "Untitled chat"),
        highlightSnippet(hit.snippet, q),
      );
      b.addEventListener("click", () => this.select(hit.chat_id));
      ul.append(h("li", {}, b));
    }
    this.results.replaceChildren(
      h("p", { class: "lc-results-count", role: "status" }, `${st.searchResults.length} result${st.searchResults.length === 1 ? "" : "s"}`),
      ul,
    );
  }
}

/** The snippet as text with the query's occurrences in <mark> (built with DOM, never HTML). */
export function highlightSnippet(snippet: string, query: string): HTMLElement {
  const el = h("span", { class: "lc-hit-snippet" });
  const q = query.toLowerCase();
  if (!q) {
    el.textContent = snippet;
    return el;
  }
  const lower = snippet.toLowerCase();
  let i = 0;
  while (i < snippet.length) {
    const j = lower.indexOf(q, i);
    if (j === -1) {
      el.append(snippet.slice(i));
      break;
    }
    if (j > i) el.append(snippet.slice(i, j));
    el.append(h("mark", {}, snippet.slice(j, j + q.length)));
    i = j + q.length;
  }
  return el;
}
