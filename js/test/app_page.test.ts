// The app page's own logic (js/app_page): which widget classes it can build for the
// names the kernel sends, and what it tells the visitor about the kernel connection.
import { describe, expect, it, vi } from "vitest";

// jsdom has no DragEvent, which @lumino/dragdrop (under @jupyter-widgets/base) subclasses
// when it loads; Chromium has it.
vi.hoisted(() => {
  const scope = globalThis as { DragEvent?: unknown };
  scope.DragEvent ??= class DragEvent extends MouseEvent {};
});
import escapeAll from "../app_page/inline_html";
import { noticeFor } from "../app_page/kernel_status";
import { hideNotice, NOTICES, showNotice } from "../app_page/notice";
import { ANYWIDGET_VERSION, loadWidgetClass, sameReleaseLine } from "../app_page/widget_classes";

describe("widget classes", () => {
  it("builds anywidget's model and view for the version Python anywidget 0.11 sends", async () => {
    const model = (await loadWidgetClass("AnyModel", "anywidget", "~0.11.*")) as unknown as Record<string, string>;
    const view = (await loadWidgetClass("AnyView", "anywidget", "~0.11.*")) as unknown as { name: string };
    expect(model.model_module).toBe("anywidget");
    expect(model.model_module_version.startsWith(`${ANYWIDGET_VERSION}.`)).toBe(true);
    expect(view.name).toBe("AnyView");
    // Loading it again reuses the classes (a model's class must be one class).
    expect(await loadWidgetClass("AnyModel", "anywidget", "0.11.0")).toBe(model);
    expect((globalThis as { define?: unknown }).define).toBeUndefined();
  });

  it("builds the base classes ipywidgets 8 names", async () => {
    const layout = (await loadWidgetClass("LayoutModel", "@jupyter-widgets/base", "2.0.0")) as unknown as {
      name: string;
    };
    expect(layout.name).toBe("LayoutModel");
    await expect(loadWidgetClass("LayoutView", "@jupyter-widgets/base", "2.0.0")).resolves.toBeTruthy();
  });

  it("refuses modules and versions it does not have, naming them", async () => {
    await expect(loadWidgetClass("AnyModel", "anywidget", "~0.9.*")).rejects.toThrow("AnyModel of anywidget@~0.9.*");
    await expect(loadWidgetClass("ButtonModel", "@jupyter-widgets/controls", "2.0.0")).rejects.toThrow(
      "@jupyter-widgets/controls",
    );
    await expect(loadWidgetClass("NoSuchModel", "@jupyter-widgets/base", "2.0.0")).rejects.toThrow("NoSuchModel");
  });

  it("reads semver ranges by release line", () => {
    expect(sameReleaseLine("~0.11.*", "0.11")).toBe(true);
    expect(sameReleaseLine("^0.11.2", "0.11")).toBe(true);
    expect(sameReleaseLine("0.11", "0.11")).toBe(true);
    expect(sameReleaseLine("0.110.0", "0.11")).toBe(false);
    expect(sameReleaseLine("~0.1.*", "0.11")).toBe(false);
    expect(sameReleaseLine("2.0.0", "2")).toBe(true);
    expect(sameReleaseLine("1.2.0", "2")).toBe(false);
  });
});

describe("kernel notices", () => {
  it("says nothing while the first connection is made or when connected", () => {
    expect(noticeFor("unknown", "connecting", false)).toBeNull();
    expect(noticeFor("idle", "connected", true)).toBeNull();
    expect(noticeFor("busy", "connected", true)).toBeNull();
  });

  it("says so while it reconnects", () => {
    expect(noticeFor("idle", "connecting", true)).toEqual({
      kind: "reconnecting",
      text: NOTICES.reconnecting,
      reload: false,
    });
  });

  it("asks for a reload when the kernel is gone or restarted", () => {
    for (const status of ["dead", "restarting", "autorestarting"] as const) {
      expect(noticeFor(status, "connected", true)).toEqual({ kind: "failed", text: NOTICES.kernelGone, reload: true });
    }
    expect(noticeFor("idle", "disconnected", true)?.text).toBe(NOTICES.kernelGone);
    expect(noticeFor("unknown", "disconnected", false)?.text).toBe(NOTICES.noConnection);
  });

  it("shows one notice, as an alert with a Reload button when the chat cannot go on", () => {
    showNotice(document, "reconnecting", NOTICES.reconnecting);
    const box = document.getElementById("livechat-notice")!;
    expect(box.getAttribute("role")).toBe("status");
    expect(box.querySelector("button")).toBeNull();
    showNotice(document, "failed", NOTICES.kernelGone, true);
    expect(document.querySelectorAll("#livechat-notice")).toHaveLength(1);
    expect(box.getAttribute("role")).toBe("alert");
    expect(box.textContent).toContain("Reload the page");
    expect(box.querySelector("button")?.textContent).toBe("Reload");
    hideNotice(document);
    expect(box.hidden).toBe(true);
  });
});

describe("labels as text (the sanitize-html stand-in)", () => {
  it("escapes every HTML character", () => {
    expect(escapeAll(`<img src=x onerror="a('&')">`)).toBe("&#60;img src=x onerror=&#34;a(&#39;&#38;&#39;)&#34;&#62;");
  });
});
