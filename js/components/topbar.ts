// The bar above the conversation: chat title and model label; at narrow container
// widths (< 768 px) it also holds the drawer toggle for the chat list.
import { h, icon } from "../dom";
import { plainTitle, titleText } from "../title";
import { iconButton } from "./ui";

export interface TopbarState {
  title: string;
  modelLabel: string;
  drawerOpen: boolean;
  statsOpen: boolean;
  settingsOpen: boolean;
}

export class Topbar {
  readonly el: HTMLElement;
  readonly toggle: HTMLButtonElement;
  readonly statsBtn: HTMLButtonElement;
  readonly settingsBtn: HTMLButtonElement;
  private titleEl: HTMLElement;
  private modelEl: HTMLElement;

  constructor(
    opts: {
      sidebarId: string;
      statsId: string;
      settingsId: string;
      onToggleDrawer: () => void;
      onToggleStats: () => void;
      onToggleSettings: () => void;
    },
    signal: AbortSignal,
  ) {
    this.toggle = h("button", {
      type: "button",
      class: `lc-drawer-toggle ${iconButton()} lc:@wide:hidden`,
      "aria-label": "Toggle chat list",
      "aria-controls": opts.sidebarId,
      "aria-expanded": "false",
      title: "Chats",
    });
    this.toggle.append(icon("menu", 18));
    this.toggle.addEventListener("click", opts.onToggleDrawer, { signal });
    this.titleEl = h("h2", { class: "lc-top-title lc:text-title lc:font-strong lc:truncate" });
    this.modelEl = h("p", { class: "lc-top-model lc:text-xs lc:text-muted lc:truncate" });
    this.statsBtn = h("button", {
      type: "button",
      class: `${iconButton()} lc:aria-expanded:bg-hover lc:aria-expanded:text-fg`,
      "aria-label": "Stats",
      "aria-controls": opts.statsId,
      "aria-expanded": "false",
      title: "Reply statistics",
    });
    this.statsBtn.append(icon("chart", 16));
    this.statsBtn.addEventListener("click", opts.onToggleStats, { signal });
    this.settingsBtn = h("button", {
      type: "button",
      class: `lc-settings-btn ${iconButton()} lc:aria-expanded:bg-hover lc:aria-expanded:text-fg`,
      "aria-label": "Chat settings",
      "aria-controls": opts.settingsId,
      "aria-expanded": "false",
      title: "Model, system prompt, temperature, max tokens",
    });
    this.settingsBtn.append(icon("sliders", 16));
    this.settingsBtn.addEventListener("click", opts.onToggleSettings, { signal });
    this.el = h(
      "header",
      {
        class:
          "lc-topbar lc:flex lc:items-center lc:gap-2 lc:shrink-0 lc:min-h-[52px] lc:py-1.5 lc:px-3 lc:border-b lc:border-line " +
          "lc:@max-compact:min-h-[46px] lc:@max-compact:px-2",
      },
      this.toggle,
      h("div", { class: "lc:flex lc:flex-col lc:flex-1 lc:min-w-0" }, this.titleEl, this.modelEl),
      this.settingsBtn,
      this.statsBtn,
    );
  }

  update(s: TopbarState): void {
    // The title isolated, its bidi and control characters dropped (title.ts).
    const title = plainTitle(s.title) || "Chat";
    if (this.titleEl.textContent !== title) this.titleEl.replaceChildren(titleText(title, "Chat"));
    this.titleEl.title = title;
    const model = plainTitle(s.modelLabel);
    if (this.modelEl.textContent !== model) this.modelEl.replaceChildren(model ? titleText(model, "") : "");
    this.modelEl.title = model;
    this.modelEl.hidden = !model;
    this.toggle.setAttribute("aria-expanded", String(s.drawerOpen));
    this.statsBtn.setAttribute("aria-expanded", String(s.statsOpen));
    this.settingsBtn.setAttribute("aria-expanded", String(s.settingsOpen));
  }
}
