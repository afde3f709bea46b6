// The widget's keyboard shortcuts. They act only while focus is inside the widget (the
// listener is on its root): Ctrl/Cmd+K searches chats, Ctrl/Cmd+Shift+O starts one,
// Esc stops a reply or closes the drawer (unless the focused element handles Esc itself).
import type { Sidebar } from "./components/sidebar";
import type { Topbar } from "./components/topbar";

/** What the shortcuts act on (the ChatApp). */
export interface ShortcutTarget {
  readonly sidebar: Sidebar;
  readonly topbar: Topbar;
  readonly drawerOpen: boolean;
  isNarrow(): boolean;
  setDrawer(open: boolean): void;
  busy(): boolean;
  stop(): void;
}

export function onShortcut(e: KeyboardEvent, app: ShortcutTarget): void {
  const mod = e.ctrlKey || e.metaKey;
  const key = e.key.toLowerCase();
  let handled = false;
  if (mod && !e.shiftKey && !e.altKey && key === "k") {
    if (app.isNarrow() && !app.drawerOpen) app.setDrawer(true);
    app.sidebar.focusSearch();
    handled = true;
  } else if (mod && e.shiftKey && !e.altKey && key === "o") {
    app.sidebar.newChat();
    handled = true;
  } else if (e.key === "Escape" && !mod && !e.altKey && !e.shiftKey) {
    const target = e.target as Element | null;
    const ownEsc = target?.closest?.("[data-lc-own-esc]");
    const searchHasText = target === app.sidebar.search && app.sidebar.search.value !== "";
    if (ownEsc && (target !== app.sidebar.search || searchHasText)) return;
    if (app.busy()) {
      app.stop();
      handled = true;
    } else if (app.drawerOpen) {
      app.setDrawer(false);
      app.topbar.toggle.focus();
      handled = true;
    }
  }
  if (handled) {
    e.preventDefault();
    e.stopPropagation();
  }
}
