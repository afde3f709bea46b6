// The livechat app page (Voila template "livechat", livechat_widget/share/jupyter/voila/
// templates/livechat): connects to the visitor's kernel, which Voila started (or took
// from its preheated pool) while rendering the page, and renders the widget outputs of
// the app notebook. It replaces Voila's JupyterLab-based page, which loads ~60 chunks
// and every extension's remoteEntry before the kernel connection even starts.
import { ServerConnection } from "@jupyterlab/services/lib/serverconnection";
import { KernelConnection } from "@jupyterlab/services/lib/kernel/default";
import { noticeFor } from "./kernel_status";
import { PageWidgetManager } from "./manager";
import { hideNotice, NOTICES, showNotice } from "./notice";

const WIDGET_VIEW = "application/vnd.jupyter.widget-view+json";

interface PageConfig {
  baseUrl: string;
  kernelId: string;
  kernelName: string;
}

function readConfig(): PageConfig {
  const node = document.getElementById("livechat-page-config");
  const config = JSON.parse(node?.textContent ?? "null") as Partial<PageConfig> | null;
  if (!config?.kernelId || typeof config.baseUrl !== "string") throw new Error("the page has no kernel to connect to");
  return { baseUrl: config.baseUrl, kernelId: config.kernelId, kernelName: config.kernelName || "python3" };
}

function cookie(name: string): string | undefined {
  return document.cookie
    .split("; ")
    .find((part) => part.startsWith(`${name}=`))
    ?.slice(name.length + 1);
}

/** Ask Voila to shut the visitor's kernel down when the page goes away (closed, reloaded,
 *  navigated off), as Voila's own page does: a beacon with the _xsrf form field. */
function shutDownOnLeave(kernel: KernelConnection, config: PageConfig): void {
  window.addEventListener("pagehide", () => {
    const form = new FormData();
    const xsrf = cookie("_xsrf");
    if (xsrf) form.append("_xsrf", decodeURIComponent(xsrf));
    navigator.sendBeacon(`${config.baseUrl}voila/api/shutdown/${config.kernelId}`, form);
    kernel.dispose();
  });
  // Back/forward cache: the page comes back with its kernel gone; load a new one.
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) window.location.reload();
  });
}

function followConnection(kernel: KernelConnection): void {
  let wasConnected = false;
  let failed = false;
  const update = () => {
    if (kernel.isDisposed || failed) return;
    if (kernel.connectionStatus === "connected") wasConnected = true;
    const notice = noticeFor(kernel.status, kernel.connectionStatus, wasConnected);
    if (notice) {
      failed = notice.kind === "failed";
      showNotice(document, notice.kind, notice.text, notice.reload);
    } else if (wasConnected && document.body.dataset.livechatReady) {
      hideNotice(document);
    }
  };
  kernel.statusChanged.connect(update);
  kernel.connectionStatusChanged.connect(update);
}

function domReady(): Promise<void> {
  if (document.readyState !== "loading") return Promise.resolve();
  return new Promise((resolve) => document.addEventListener("DOMContentLoaded", () => resolve(), { once: true }));
}

async function start(): Promise<void> {
  const config = readConfig();
  const serverSettings = ServerConnection.makeSettings({ baseUrl: config.baseUrl, appendToken: false });
  // Connect at once: the notebook may still be running on the server (this script is
  // async), and the widget's comms opened from now on arrive over this connection.
  const kernel = new KernelConnection({ model: { id: config.kernelId, name: config.kernelName }, serverSettings });
  shutDownOnLeave(kernel, config);
  followConnection(kernel);
  const manager = new PageWidgetManager(kernel);

  await domReady(); // every cell has run: the outputs are all in the page
  if (document.querySelector(".livechat-cell-error")) {
    showNotice(document, "failed", NOTICES.notebookFailed);
    return;
  }
  await manager.loadFromKernel(); // widgets created before the connection was up
  const outputs = document.querySelectorAll<HTMLScriptElement>(`script[type="${WIDGET_VIEW}"]`);
  if (outputs.length === 0) throw new Error("the app notebook showed no widget");
  for (const output of outputs) {
    const { model_id } = JSON.parse(output.textContent ?? "{}") as { model_id?: string };
    if (!model_id || !output.parentElement) continue;
    await manager.renderInto(model_id, output.parentElement);
  }
  document.body.dataset.livechatReady = "true";
  if (kernel.connectionStatus === "connected") hideNotice(document);
}

start().catch((error: unknown) => {
  console.error("livechat page:", error);
  showNotice(document, "failed", NOTICES.pageFailed, true);
});
