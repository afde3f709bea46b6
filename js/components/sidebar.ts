// Chat list: active chat highlighted (each row a ChatItem, chat_item.ts, kept by chat id);
// a search box whose results
// come from the kernel (`search` requests, debounced; the answer is this view's alone);
// "New chat" fixed at the bottom.
import { h, icon } from "../dom";
import { type Requests, whyFailed } from "../requests";
import type { ChatSummary, SearchHit, SendCommand } from "../types";
import { titleText } from "../title";
import { ChatItem } from "./chat_item";
import { KeyedChildren } from "./keyed";
import { FOCUS, FOCUS_INSET, PLAIN_LIST } from "./ui";

const TEXT_INPUT = "lc:w-full lc:h-[34px] lc:px-2.5 lc:border lc:bg-surface lc:placeholder:text-muted";
const EMPTY = "lc-side-empty lc:py-4 lc:px-2 lc:text-ui lc:text-muted lc:text-center lc:list-none";

export interface SidebarState {
  title: string;
  chats: ChatSummary[];
  activeChatId: string;
}

/** The answer to the last search this view made: its hits, or why there are none. */
interface Found {
  query: string;
  hits: SearchHit[];
  error: string;
}

export const SEARCH_DEBOUNCE_MS = 150;

export class Sidebar {
  readonly el: HTMLElement;
  readonly search: HTMLInputElement;
  private heading: HTMLElement;
  private list: HTMLUListElement;
  private results: HTMLElement;
  private newBtn: HTMLButtonElement;
  private items: KeyedChildren<ChatItem>;
  private state: SidebarState | null = null;
  private debounce: ReturnType<typeof setTimeout> | null = null;
  private lastSentQuery = "";
  private found: Found | null = null;

  constructor(
    readonly send: SendCommand,
    private requests: Requests,
    private onSelect: (chatId: string) => void,
    signal: AbortSignal,
    id = "lc-sidebar",
  ) {
    this.heading = h("h2", { class: "lc-side-title lc:px-1 lc:text-head lc:font-strong lc:truncate" });
    this.search = h("input", {
      type: "search",
      class: `lc-search ${TEXT_INPUT} lc:pl-[30px] lc:border-line lc:rounded-item lc:text-ui lc:focus:border-accent ${FOCUS}`,
      "aria-label": "Search chats",
      placeholder: "Search chats",
      maxlength: 500,
      autocomplete: "off",
      spellcheck: "false",
      "data-lc-own-esc": "",
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
    const searchWrap = h(
      "div",
      { class: "lc:relative lc:flex lc:items-center" },
      icon("search", 14, "lc:absolute lc:left-2.5 lc:text-muted lc:pointer-events-none"),
      this.search,
    );
    this.list = h("ul", { class: `lc-chat-list ${PLAIN_LIST}` });
    this.items = new KeyedChildren(this.list);
    this.results = h("div", { class: "lc-results", hidden: true });
    this.newBtn = h("button", {
      type: "button",
      class:
        "lc-new-chat lc:w-full lc:h-[38px] lc:flex lc:items-center lc:justify-center lc:gap-2 lc:rounded-item " +
        `lc:bg-accent lc:text-on-accent lc:font-semibold lc:text-item lc:shadow-btn lc:hover:bg-accent-hover ${FOCUS}`,
      "aria-label": "New chat",
    });
    this.newBtn.append(icon("plus", 16), h("span", {}, "New chat"));
    this.newBtn.addEventListener("click", () => this.newChat(), { signal });
    this.el = h(
      "aside",
      {
        // Narrow container: hidden, or a drawer over the chat; wide (>= 768 px): a w-72 pane.
        class:
          "lc-sidebar lc:hidden lc:flex-col lc:w-[min(18rem,88%)] lc:shrink-0 lc:bg-side lc:border-r lc:border-line " +
          "lc:@max-wide:drawer-open:flex lc:@max-wide:drawer-open:absolute lc:@max-wide:drawer-open:inset-y-0 " +
          "lc:@max-wide:drawer-open:left-0 lc:@max-wide:drawer-open:z-20 lc:@max-wide:drawer-open:shadow-drawer " +
          "lc:@max-wide:drawer-open:animate-slide-in lc:@wide:flex lc:@wide:w-72",
        id,
        "aria-label": "Chat list",
      },
      h("div", { class: "lc:flex lc:flex-col lc:gap-2.5 lc:pt-3.5 lc:px-3 lc:pb-2" }, this.heading, searchWrap),
      h(
        "nav",
        {
          class: "lc:flex-1 lc:min-h-0 lc:overflow-y-auto lc:overscroll-contain lc:pt-1 lc:px-2 lc:pb-2",
          "aria-label": "Chats",
        },
        this.list,
        this.results,
      ),
      h("div", { class: "lc:pt-2.5 lc:px-3 lc:pb-3 lc:border-t lc:border-line" }, this.newBtn),
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
    this.heading.replaceChildren(titleText(state.title, "Chat"));
    this.items.sync(
      state.chats,
      (chat) => chat.id,
      (chat) => new ChatItem(chat, this),
      (item, chat) => item.update(chat, chat.id === state.activeChatId),
    );
    if (!state.chats.length) {
      this.list.replaceChildren(h("li", { class: EMPTY }, "No chats yet"));
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
        this.ask(q);
      }
    };
    if (immediate) fire();
    else this.debounce = setTimeout(fire, SEARCH_DEBOUNCE_MS);
    this.drawResults();
  }

  /** Ask the kernel for `query` (an empty query clears the results here, without asking). */
  private ask(query: string): void {
    this.found = null;
    if (!query) {
      this.requests.drop("search");
      return;
    }
    this.requests.ask("search", { query }).then(
      ({ msg }) => this.show({ query, hits: Array.isArray(msg.hits) ? msg.hits : [], error: "" }),
      (err: unknown) => {
        const error = whyFailed(err);
        if (error !== null) this.show({ query, hits: [], error });
      },
    );
  }

  private show(found: Found): void {
    this.found = found;
    this.drawResults();
  }

  private drawResults(): void {
    const q = this.search.value.trim();
    const searching = q !== "";
    this.list.hidden = searching;
    this.results.hidden = !searching;
    if (!searching || !this.state) return;
    const st = this.state;
    const found = this.found;
    if (found?.query !== q) {
      this.results.replaceChildren(h("p", { class: EMPTY, role: "status" }, "Searching…"));
      return;
    }
    if (found.error) {
      this.results.replaceChildren(h("p", { class: EMPTY, role: "status" }, `Search failed: ${found.error}`));
      return;
    }
    if (!found.hits.length) {
      this.results.replaceChildren(h("p", { class: EMPTY, role: "status" }, `No chats match “${q}”`));
      return;
    }
    const ul = h("ul", { class: `lc-hit-list ${PLAIN_LIST}`, "aria-label": "Search results" });
    for (const hit of found.hits) {
      const b = h(
        "button",
        {
          type: "button",
          class:
            "lc-hit lc:flex lc:flex-col lc:gap-0.5 lc:w-full lc:py-2 lc:px-2.5 lc:rounded-item lc:text-left " +
            `lc:hover:bg-hover lc:aria-[current]:bg-active ${FOCUS_INSET}`,
          "aria-current": hit.chat_id === st.activeChatId ? "page" : null,
        },
        h("span", { class: "lc:text-ui lc:font-semibold lc:truncate" }, titleText(hit.title, "Untitled chat")),
        highlightSnippet(hit.snippet, q),
      );
      b.addEventListener("click", () => this.select(hit.chat_id));
      ul.append(h("li", {}, b));
    }
    this.results.replaceChildren(
      h(
        "p",
        {
          class:
            "lc-results-count lc:pt-1 lc:px-2.5 lc:pb-1.5 lc:text-meta lc:text-muted lc:uppercase lc:tracking-[0.04em]",
          role: "status",
        },
        `${found.hits.length} result${found.hits.length === 1 ? "" : "s"}`,
      ),
      ul,
    );
  }
}

/** The snippet as text with the query's occurrences in <mark> (built with DOM, never HTML). */
export function highlightSnippet(snippet: string, query: string): HTMLElement {
  const el = h("span", { class: "lc-hit-snippet lc:text-xs lc:text-muted lc:line-clamp-2 lc:wrap-anywhere" });
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
    el.append(h("mark", { class: "lc:bg-mark lc:text-fg lc:rounded-[3px] lc:px-px" }, snippet.slice(j, j + q.length)));
    i = j + q.length;
  }
  return el;
}
