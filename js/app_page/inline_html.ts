// Stands in for sanitize-html in this page's bundle (esbuild --alias, js/package.json).
// @jupyter-widgets/base-manager uses it only for inline_sanitize (HTML in the labels of
// ipywidgets controls), which this page never renders: the app is one anywidget. Its
// parser chain (htmlparser2, postcss, entities) would be ~30% of the page script, so
// here every label is shown as text: nothing it contains is ever HTML.
export default function escapeAll(html: string): string {
  return html.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
