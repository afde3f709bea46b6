// anywidget's npm build (an AMD module, see widget_classes.ts) ships no types.
declare module "anywidget";
