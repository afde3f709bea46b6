// Loads the math chunk (static/math.js: KaTeX + fonts) from the kernel. anywidget
// imports our module from a blob: URL, so `import("./math.js")` would have nothing to
// resolve against; instead the widget asks for the chunk on its comm (`load_math`),
// gets the code as a buffer (`math_chunk`) and imports it from a blob: URL of its own,
// as anywidget does with the main module.
import type { MathEngine } from "./math";
import type { ChatModel, Command } from "./types";

const TIMEOUT_MS = 60_000;

export function kernelMathLoader(model: ChatModel): () => Promise<MathEngine> {
  return () =>
    new Promise<ArrayBufferView>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error("no answer from the kernel")), TIMEOUT_MS);
      const onMsg = (msg: unknown, buffers?: ArrayBufferView[]): void => {
        if ((msg as { type?: unknown } | null)?.type !== "math_chunk") return;
        const chunk = buffers?.[0];
        finish(chunk ? undefined : new Error("the kernel sent no code"), chunk);
      };
      const finish = (err?: Error, chunk?: ArrayBufferView): void => {
        clearTimeout(timer);
        model.off("msg:custom", onMsg);
        if (chunk) resolve(chunk);
        else reject(err);
      };
      model.on("msg:custom", onMsg);
      const cmd: Command = { type: "load_math" };
      model.send(cmd);
    }).then(async (chunk) => {
      const url = URL.createObjectURL(new Blob([chunk as BlobPart], { type: "text/javascript" }));
      try {
        return (await import(/* @vite-ignore */ url)) as MathEngine;
      } finally {
        URL.revokeObjectURL(url);
      }
    });
}
