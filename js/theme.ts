// Which colour scheme the widget uses. Colours themselves are CSS variables
// (styles.css): --jp-* (JupyterLab / Voila, live), then --vscode-*, then our own
// light/dark fallbacks. This module only decides "light" or "dark" for the parts that
// need to know (syntax colours, fallbacks), following, in order:
//   the `theme` trait when it forces one; JupyterLab's body[data-jp-theme-light];
//   VS Code's body.vscode-dark / vscode-light; prefers-color-scheme.
export type Scheme = "light" | "dark";
export type ThemeSetting = "auto" | "light" | "dark";

export function detectScheme(setting: ThemeSetting, doc: Document = document): Scheme {
  if (setting === "light" || setting === "dark") return setting;
  const body = doc.body;
  const jp = body?.getAttribute("data-jp-theme-light");
  if (jp === "true") return "light";
  if (jp === "false") return "dark";
  if (body?.classList.contains("vscode-dark") || body?.classList.contains("vscode-high-contrast")) return "dark";
  if (body?.classList.contains("vscode-light") || body?.classList.contains("vscode-high-contrast-light"))
    return "light";
  try {
    if (typeof matchMedia === "function" && matchMedia("(prefers-color-scheme: dark)").matches) return "dark";
  } catch {
    /* no matchMedia */
  }
  return "light";
}

/**
 * Keep `root`'s data-lc-theme (the trait) and data-lc-scheme (the effective scheme)
 * up to date, live, until `signal` aborts.
 */
export function watchTheme(root: HTMLElement, getSetting: () => ThemeSetting, signal: AbortSignal): () => void {
  const apply = () => {
    const setting = getSetting();
    root.dataset.lcTheme = setting;
    root.dataset.lcScheme = detectScheme(setting, root.ownerDocument);
  };
  apply();
  const doc = root.ownerDocument;
  if (typeof MutationObserver !== "undefined" && doc.body) {
    const mo = new MutationObserver(apply);
    mo.observe(doc.body, { attributes: true, attributeFilter: ["data-jp-theme-light", "data-jp-theme-name", "class"] });
    signal.addEventListener("abort", () => mo.disconnect());
  }
  try {
    const mq = typeof matchMedia === "function" ? matchMedia("(prefers-color-scheme: dark)") : null;
    mq?.addEventListener?.("change", apply, { signal } as AddEventListenerOptions);
  } catch {
    /* old browsers */
  }
  return apply;
}
