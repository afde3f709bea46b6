// The widget classes the app page can build: @jupyter-widgets/base's own (Layout,
// Style, DOMWidget…) and anywidget's AnyModel/AnyView, looked up by the module name
// and version the kernel sends with each model.
import * as base from "@jupyter-widgets/base";

type WidgetClass = typeof base.WidgetModel | typeof base.WidgetView;
type AnywidgetFactory = (widgetBase: typeof base) => Record<string, WidgetClass>;

// What the kernel's anywidget (Python 0.11) sends as _model_module_version: "~0.11.*".
// The npm package below is pinned to the same release (js/package.json).
export const ANYWIDGET_VERSION = "0.11";
const BASE_MAJOR = "2"; // ipywidgets 8's @jupyter-widgets/base protocol: "2.0.0"

let anywidget: Promise<Record<string, WidgetClass>> | undefined;

/** anywidget's npm build is an AMD module, `define(["@jupyter-widgets/base"], factory)`
 *  (its JupyterLab build is a federated extension): give it a `define` for the moment
 *  it is evaluated, and call the factory with the base classes ourselves. */
function loadAnywidget(): Promise<Record<string, WidgetClass>> {
  anywidget ??= (async () => {
    const scope = globalThis as { define?: unknown };
    const previous = scope.define;
    let classes: Record<string, WidgetClass> | undefined;
    scope.define = (_deps: string[], factory: AnywidgetFactory) => {
      classes = factory(base);
    };
    try {
      await import("anywidget");
    } finally {
      scope.define = previous;
    }
    if (!classes) throw new Error("anywidget's module did not define its widget classes");
    return classes;
  })();
  return anywidget;
}

/** "~0.11.*", "0.11.0", "^0.11" all name the 0.11 release line. */
export function sameReleaseLine(requested: string, available: string): boolean {
  const digits = requested.replace(/^[~^=v\s]+/, "");
  return digits === available || digits.startsWith(`${available}.`);
}

export async function loadWidgetClass(
  className: string,
  moduleName: string,
  moduleVersion: string,
): Promise<WidgetClass> {
  let found: WidgetClass | undefined;
  if (moduleName === "@jupyter-widgets/base" && sameReleaseLine(moduleVersion, BASE_MAJOR)) {
    found = (base as unknown as Record<string, WidgetClass | undefined>)[className];
  } else if (moduleName === "anywidget" && sameReleaseLine(moduleVersion, ANYWIDGET_VERSION)) {
    found = (await loadAnywidget())[className];
  }
  if (!found) throw new Error(`this page has no widget class ${className} of ${moduleName}@${moduleVersion}`);
  return found;
}
