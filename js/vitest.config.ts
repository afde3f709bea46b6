import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    environment: "jsdom",
    include: ["test/**/*.test.ts"],
    // A hang guard, not a speed check: jsdom building 100 bubbles takes seconds on a
    // busy 2-core machine, past vitest's 5 s default.
    testTimeout: 30_000,
  },
});
