// Entry point: anywidget calls render() once per view. The view draws from the synced
// traits alone (so it can be rendered at any moment, even mid-stream), reports what the
// person did with custom messages, and applies the streaming fast path (delta/done).
// Everything registered here is removed when the view goes (signal / cleanup).
import { AttachmentStore, kernelFiles } from "./attachment_store";
import { wireFiles } from "./attachments";
import { h } from "./dom";
import { ChatMenu } from "./components/chat_menu";
import { ComparePanes } from "./components/compare_panes";
import { Composer } from "./components/composer";
import { DraftSlot } from "./components/draft";
import { MessageList } from "./components/message_list";
import { OpeningNotice } from "./components/opening";
import { UnreadableNotice } from "./components/unreadable";
import { DEFAULT_SETTINGS, SettingsPanel } from "./components/settings_panel";
import { Sidebar } from "./components/sidebar";
import { StatsPanel } from "./components/stats_panel";
import { Topbar } from "./components/topbar";
import { clearPendingRuns, type CodeRunState } from "./components/code_runs";
import { ErrorBanner } from "./components/banner";
import { FrameSync } from "./frame_sync";
import { setMathLoader } from "./math";
import { loadMathFromKernel, offerMathLoader } from "./math_loader";
import { isAnswer, Requests } from "./requests";
import { StreamStore, type Scheduler } from "./stream_state";
import { watchTheme } from "./theme";
import { toolCardOf } from "./components/tool_card";
import type { ChatModel, Command, CompareDeltaMsg, DeltaMsg, DoneMsg, ToolMsg, Traits } from "./types";
import { onShortcut } from "./shortcuts";
import { slashCommand } from "./slash";
import { visitorSecret } from "./visitor";

const WIDE_PX = 768;
// The widget's box and its container: the layout follows the root's width (@container),
// not the viewport's. Its height comes from the `height` trait.
const ROOT =
  "livechat-root lc:@container lc:relative lc:block lc:min-h-[220px] lc:min-w-0 lc:overflow-hidden lc:text-left " +
  "lc:bg-surface lc:text-fg lc:font-ui lc:text-body lc:leading-normal lc:antialiased lc:border lc:border-line " +
  "lc:rounded-box";
let viewCounter = 0;

export interface AppOptions {
  /** Scheduler for applying deltas (tests pass a manual one); default requestAnimationFrame. */
  schedule?: Scheduler;
}

export class ChatApp {
  readonly host: HTMLElement;
  readonly root: HTMLElement;
  readonly sidebar: Sidebar;
  readonly topbar: Topbar;
  readonly list: MessageList;
  readonly composer: Composer;
  readonly stats: StatsPanel;
  readonly chatMenu: ChatMenu;
  readonly settings: SettingsPanel;
  readonly streams: StreamStore;
  /** Compare: the chooser and the panes (compare_panes.ts). */
  readonly compare: ComparePanes;
  /** "Opening <chat>…" while the kernel reads a big chat's file. */
  readonly opening = new OpeningNotice();
  /** Under the chat list: chat files the kernel could not read. */
  readonly unreadable = new UnreadableNotice();
  /** This view's requests with answers (requests.ts). */
  readonly requests: Requests;
  /** Sent files' bytes as blob URLs, for their thumbnails. */
  readonly files: AttachmentStore;
  private banner: ErrorBanner;
  private draft: DraftSlot;
  private controller = new AbortController();
  // biome-ignore lint/suspicious/noExplicitAny: anywidget's listener signature (see types.ts)
  private listeners: [string, (...args: any[]) => void][] = [];
  drawerOpen = false;
  private statsOpen = false;
  private destroyed = false;

  constructor(
    private model: ChatModel,
    el: HTMLElement,
    opts: AppOptions = {},
  ) {
    const signal = this.controller.signal;
    const uid = `lc${++viewCounter}`;
    this.requests = new Requests((cmd) => this.send(cmd));
    this.files = new AttachmentStore(kernelFiles(this.requests));
    // The widget draws into its own root inside `el`: ipywidgets' layout code writes
    // (and removes) inline styles on `el` itself, which would undo our height.
    this.host = el;
    el.classList.add("livechat-host");
    this.root = h("div", { class: ROOT });
    this.streams = this.makeStreams(opts);
    this.sidebar = new Sidebar(this.send, this.requests, (id) => this.afterSelect(id), signal, `${uid}-sidebar`);
    this.sidebar.el.insertBefore(this.unreadable.el, this.sidebar.el.lastElementChild); // above New chat
    this.stats = new StatsPanel(`${uid}-stats`);
    this.settings = this.makeSettings(`${uid}-settings`, signal);
    this.topbar = this.makeTopbar(uid, signal);
    this.chatMenu = new ChatMenu(this.requests, signal, `${uid}-chat-menu`, () => this.compare.open());
    this.topbar.el.append(this.chatMenu.el);
    this.list = new MessageList(this.send, signal);
    this.list.el.append(this.opening.el);
    const frame = opts.schedule ?? ((cb: () => void) => void requestAnimationFrame(() => cb()));
    const listModels = () => this.requests.ask("list_models", {}).then(({ msg }) => msg);
    this.compare = new ComparePanes({ send: this.send, listModels, schedule: frame }, signal, `${uid}-compare`);
    this.list.appendBelow(this.compare.el);
    this.composer = this.makeComposer(signal);
    this.draft = new DraftSlot(this.composer);
    this.banner = new ErrorBanner(() => this.send({ type: "dismiss_error" }), signal);
    this.layout(signal);
    el.replaceChildren(this.root);
    this.listenToModel(signal);
    this.firstPaint();
  }

  /** Deltas are applied once per frame; the frames' timing tunes the kernel's (frame_sync.ts). */
  private makeStreams(opts: AppOptions): StreamStore {
    const frameSync = new FrameSync({
      send: (shift) => this.send({ type: "frame_sync", view: frameSync.view, shift_ms: shift }),
    });
    return new StreamStore(
      (chats) => this.onStreams(chats),
      opts.schedule,
      // Waits only mean something against real animation frames (tests schedule by hand).
      opts.schedule ? undefined : (waits) => frameSync.observe(waits),
    );
  }

  private makeSettings(id: string, signal: AbortSignal): SettingsPanel {
    return new SettingsPanel(
      id,
      {
        onSave: (values) => {
          this.send({ type: "configure", chat_id: this.chatForCommand(), ...values });
          this.setSettings(false);
        },
        listModels: () => this.requests.ask("list_models", {}).then(({ msg }) => msg),
        onClose: () => {
          this.setSettings(false);
          this.topbar.settingsBtn.focus();
        },
      },
      signal,
    );
  }

  private makeTopbar(uid: string, signal: AbortSignal): Topbar {
    return new Topbar(
      {
        sidebarId: `${uid}-sidebar`,
        statsId: `${uid}-stats`,
        settingsId: `${uid}-settings`,
        onToggleDrawer: () => this.setDrawer(!this.drawerOpen),
        onToggleStats: () => this.setStats(!this.statsOpen),
        // Closing asks first when edits are not saved (settings_panel.ts).
        onToggleSettings: () => (this.settings.isOpen ? this.settings.requestClose() : this.setSettings(true)),
      },
      signal,
    );
  }

  private makeComposer(signal: AbortSignal): Composer {
    return new Composer(
      {
        onSend: (text, context, files) => {
          this.list.followNext();
          const chat_id = this.chatForCommand();
          const compared = this.compare.takeSend(text, chat_id);
          if (compared) return this.send(compared); // to 2-4 models at once: text only
          const cmd: Command = { type: "send", text, chat_id, ...(context.length ? { context } : {}) };
          if (!files.length) return this.send(cmd);
          // The bytes go as binary buffers (one per file, in order), never base64 in the JSON.
          const { attachments, buffers } = wireFiles(files);
          this.files.offerLocal(files); // its thumbnails show these bytes, no round trip
          this.send({ ...cmd, attachments }, buffers);
        },
        onStop: () => this.stop(),
        canSend: () => this.compare.readyToSend(),
        listContext: () => this.requests.ask("list_context", {}).then(({ msg }) => msg.items ?? []),
        slash: {
          run: (action) => {
            if (action.type === "compare") return void this.compare.open();
            const settings = this.get("chat_settings") ?? DEFAULT_SETTINGS;
            const cmd = slashCommand(action, this.get("active_chat_id") || "", this.chatForCommand(), settings);
            if (typeof cmd === "string") return cmd; // said under the composer, nothing sent
            this.send(cmd);
          },
          refresh: () => this.send({ type: "refresh_prompts" }),
        },
        onIgnoreStale: (names) => this.send({ type: "ignore_stale", chat_id: this.get("active_chat_id"), names }),
        onTrim: () => this.send({ type: "trim_history", chat_id: this.get("active_chat_id") }),
      },
      signal,
    );
  }

  /** The sidebar (a drawer over the chat when narrow, behind it a backdrop), then the chat. */
  private layout(signal: AbortSignal): void {
    // Behind the open drawer (narrow layout only); a tap on it closes the drawer.
    const backdrop = h("div", {
      class: "lc-backdrop lc:hidden lc:@max-wide:drawer-open:block lc:absolute lc:inset-0 lc:z-10 lc:bg-black/40",
      "aria-hidden": "true",
    });
    backdrop.addEventListener("click", () => this.setDrawer(false), { signal });
    const main = h(
      "main",
      { class: "lc-main lc:relative lc:flex lc:flex-col lc:flex-1 lc:min-w-0 lc:bg-surface" },
      this.topbar.el,
      this.banner.el,
      this.settings.el,
      this.stats.el,
      this.list.el,
      this.compare.chooser,
      this.composer.el,
    );
    this.root.append(
      h("div", { class: "lc-app lc:relative lc:flex lc:h-full lc:overflow-hidden" }, this.sidebar.el, backdrop, main),
    );
    this.root.addEventListener("keydown", (e) => onShortcut(e, this), { signal, capture: true });
    this.composer.files.acceptDrops(main, signal);
  }

  /** Each trait redraws the parts that show it; custom messages go to the streams or the requests. */
  private listenToModel(signal: AbortSignal): void {
    const applyTheme = watchTheme(this.root, () => this.get("theme") || "auto", signal);
    this.listen("msg:custom", (msg: unknown, buffers?: unknown[]) => this.onCustom(msg, buffers));
    this.listen("change:theme", applyTheme);
    this.listen("change:height", () => this.drawHeight());
    this.listen("change:streams", () => this.streams.syncSnapshot(this.get("streams")));
    for (const name of ["chats", "active_chat_id", "title"]) {
      this.listen(`change:${name}`, () => this.drawSidebar());
    }
    const chat = ["active_chat_id", "messages", "has_older", "busy", "model_label", "chats", "title"];
    const composer = ["stale_context", "context_gauge", "prompt_templates"];
    const access = ["allow_kernel_context", "allow_code", "running_code", "can_insert_cell"];
    for (const name of [...chat, ...composer, ...access]) {
      this.listen(`change:${name}`, () => this.drawChat());
    }
    this.listen("change:active_chat_id", () => (this.requestedChat = null));
    this.listen("change:error", () => {
      if (this.get("error")) clearPendingRuns();
      if (this.get("error")) this.composer.files.refused(); // a refused send's files come back
      this.drawBanner();
    });
    this.listen("change:stats", () => this.stats.update(this.get("stats")));
    for (const name of ["opening", "chats"]) this.listen(`change:${name}`, () => this.drawOpening());
    this.listen("change:unreadable", () => this.unreadable.update(this.get("unreadable") || 0));
    this.listen("change:chat_settings", () => this.drawSettings());
    this.listen("change:uploads", () => this.composer.files.setLimits(this.get("uploads")));
    this.listen("change:draft", () => this.draft.apply(this.get("draft")));
    const compare = ["compares", "compare_choices", "active_chat_id"];
    for (const name of compare) this.listen(`change:${name}`, () => this.compare.draw(this.model));
  }

  /** The first paint, from the traits alone. */
  private firstPaint(): void {
    this.streams.syncSnapshot(this.get("streams"));
    this.drawHeight();
    this.drawSidebar();
    this.drawChat();
    this.drawBanner();
    this.drawOpening();
    this.unreadable.update(this.get("unreadable") || 0);
    this.stats.update(this.get("stats"));
    // Private chats per browser: say whose chats this view shows (the kernel shows none before).
    if (this.get("per_browser")) this.send({ type: "claim", secret: visitorSecret() });
    this.drawSettings();
    this.composer.files.setLimits(this.get("uploads")); // the kernel's (count 0: none)
    this.draft.apply(this.get("draft")); // "Ask livechat": a ready message not sent yet
    this.compare.draw(this.model);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const [name, cb] of this.listeners) this.model.off(name, cb);
    this.listeners = [];
    this.controller.abort();
    this.requests.dispose();
    this.streams.dispose();
    this.files.dispose();
    this.root.remove();
    this.host.classList.remove("livechat-host", "lc-host-fill");
  }

  readonly send = (cmd: Command, buffers?: ArrayBuffer[]): void => {
    if (this.destroyed) return;
    // A chat switch takes a kernel round trip to show up in `active_chat_id`; a message
    // typed meanwhile belongs to the chat the person asked for, not the one still shown.
    if (cmd.type === "new_chat") this.requestedChat = "";
    else if (cmd.type === "select_chat") this.requestedChat = cmd.chat_id;
    if (buffers) this.model.send(cmd, undefined, buffers);
    else this.model.send(cmd);
    if (cmd.type === "edit") {
      // The edited turn ends the branch now: follow its new reply from the composer.
      this.list.followNext();
      this.composer.focus();
    }
  };

  /** The chat this view asked the kernel for and has not seen become active yet. */
  private requestedChat: string | null = null;

  /** The chat a command is for: the one asked for, else the active one ("" = a new chat). */
  private chatForCommand(): string {
    return this.requestedChat ?? (this.get("active_chat_id") || "");
  }

  private get<K extends keyof Traits>(key: K): Traits[K] {
    return this.model.get(key);
  }

  // biome-ignore lint/suspicious/noExplicitAny: as above
  private listen(name: string, cb: (...args: any[]) => void): void {
    this.model.on(name, cb);
    this.listeners.push([name, cb]);
  }

  private onCustom(msg: unknown, buffers?: unknown[]): void {
    if (!msg || typeof msg !== "object") return;
    if (isAnswer(msg)) {
      this.requests.receive(msg, buffers);
      return;
    }
    const m = msg as { type?: unknown; chat_id?: unknown; message_id?: unknown; seq?: unknown; call?: unknown };
    if (m.type === "compare_delta") this.compare.receive(msg as CompareDeltaMsg);
    if (typeof m.chat_id !== "string" || typeof m.message_id !== "number") return;
    if ((m.type === "delta" || m.type === "done") && typeof m.seq === "number") {
      this.streams.receive(msg as DeltaMsg | DoneMsg);
    } else if (m.type === "tool" && m.call && typeof m.call === "object") {
      this.streams.receive(msg as ToolMsg);
    }
  }

  private onStreams(chats: Set<string>): void {
    if (chats.has(this.get("active_chat_id"))) this.drawChat();
  }

  busy(): boolean {
    const active = this.get("active_chat_id");
    const s = active ? this.streams.get(active) : undefined;
    return !!this.get("busy") || (!!s && !s.done);
  }

  stop(): void {
    const chat = this.get("active_chat_id");
    if (!chat) return;
    this.send({ type: "stop", chat_id: chat });
    this.interruptTool(chat);
  }

  /**
   * A tool call running Python (`running_code` names this chat) ends only when the
   * kernel is interrupted, as Run's Stop does; say so on its card when this page cannot.
   */
  private interruptTool(chat: string): void {
    const running = this.streams.get(chat)?.tools.find((c) => c.status === "running");
    if (!running || this.get("running_code")?.chat_id !== chat) return;
    if (this.interruptKernel()) return;
    const el = Array.from(this.list.el.querySelectorAll<HTMLElement>(".lc-tool")).find(
      (card) => card.dataset.callId === running.id,
    );
    toolCardOf(el ?? null)?.note("This page cannot interrupt the kernel: use Jupyter's Interrupt kernel (■).");
  }

  private drawHeight(): void {
    const raw = this.get("height");
    const height = typeof raw === "string" && raw.trim() ? raw.trim() : "600px";
    this.root.style.height = height;
    // A relative height ("100%") needs the host element to fill its parent too.
    this.host.classList.toggle("lc-host-fill", /%$/.test(height));
  }

  private drawSidebar(): void {
    this.sidebar.update({
      title: this.get("title") || "Chat",
      chats: this.get("chats") ?? [],
      activeChatId: this.get("active_chat_id") || "",
    });
  }

  private drawChat(): void {
    const chatId = this.get("active_chat_id") || "";
    const messages = this.get("messages") ?? [];
    if (chatId) this.streams.settle(chatId, messages);
    const stream = chatId ? this.streams.get(chatId) : undefined;
    const busy = this.busy();
    const chat = (this.get("chats") ?? []).find((c) => c.id === chatId);
    const modelLabel = this.get("model_label") ?? "";
    this.topbar.update({
      title: chat?.title || this.get("title") || "Chat",
      modelLabel,
      drawerOpen: this.drawerOpen,
      statsOpen: this.statsOpen,
      settingsOpen: this.settings.isOpen,
    });
    this.chatMenu.update(chatId);
    this.list.update({
      chatId,
      messages,
      hasOlder: !!this.get("has_older"),
      stream,
      busy,
      modelLabel,
      code: this.codeState(),
      files: this.files,
    });
    const prompts = this.get("prompt_templates") ?? [];
    const stale = this.get("stale_context"); // the same array until the kernel changes it
    const contextEnabled = !!this.get("allow_kernel_context");
    const gauge = this.get("context_gauge");
    this.composer.update({ busy, contextEnabled, chatId, messages, prompts, stale, gauge });
  }

  private codeStateCache: CodeRunState | null = null;

  /** Run state for the code blocks; the same object until a trait it reads changes. */
  private codeState(): CodeRunState {
    const allowed = !!this.get("allow_code");
    const running = this.get("running_code") ?? { chat_id: "", message_id: -1, code: "" };
    const insertable = !!this.get("can_insert_cell");
    const cached = this.codeStateCache;
    if (cached && cached.allowed === allowed && cached.running === running && cached.insertable === insertable)
      return cached;
    const attach = (pngs: string[]) => this.composer.files.attachRunImages(pngs);
    this.codeStateCache = { allowed, running, interrupt: () => this.interruptKernel(), insertable, attach };
    return this.codeStateCache;
  }

  /** Jupyter's interrupt (SIGINT to the kernel), through the host's kernel connection. */
  private interruptKernel(): boolean {
    const manager = this.model.widget_manager as { kernel?: { interrupt?: () => Promise<void> } } | undefined;
    const interrupt = manager?.kernel?.interrupt;
    if (typeof interrupt !== "function") return false;
    void interrupt.call(manager?.kernel).catch(() => undefined);
    return true;
  }

  private drawOpening(): void {
    this.opening.update(this.get("opening") || "", this.get("chats") || []);
  }

  private drawBanner(): void {
    this.banner.show(this.get("error") ?? "");
  }

  isNarrow(): boolean {
    const w = this.root.getBoundingClientRect().width;
    return w > 0 && w < WIDE_PX;
  }

  setDrawer(open: boolean): void {
    this.drawerOpen = open;
    this.root.classList.toggle("lc-drawer-open", open);
    this.drawChat();
    if (open && this.isNarrow()) this.sidebar.search.focus({ preventScroll: true });
  }

  private drawSettings(): void {
    this.settings.update({ settings: this.get("chat_settings") ?? DEFAULT_SETTINGS });
  }

  private setSettings(open: boolean): void {
    this.drawSettings();
    this.settings.setOpen(open);
    this.drawChat();
  }

  private setStats(open: boolean): void {
    this.statsOpen = open;
    this.stats.setOpen(open);
    this.drawChat();
  }

  private afterSelect(_chatId: string): void {
    if (this.drawerOpen) this.setDrawer(false);
    this.composer.focus();
  }
}

interface RenderProps {
  model: ChatModel;
  el: HTMLElement;
  signal?: AbortSignal;
}

function render({ model, el, signal }: RenderProps): () => void {
  const app = new ChatApp(model, el);
  const withdraw = offerMathLoader(app.requests);
  // Only once this view can ask: formulas it drew from the traits (a reload, a chat
  // opened with math) start loading KaTeX here, through it.
  setMathLoader(loadMathFromKernel);
  const cleanup = () => {
    withdraw();
    app.destroy();
  };
  signal?.addEventListener("abort", cleanup, { once: true });
  return cleanup;
}

export default { render };
