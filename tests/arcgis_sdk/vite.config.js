import { defineConfig } from "vite";

// A relocatable build (relative URLs) into dist/, which the tests serve from 127.0.0.1.
export default defineConfig({
  base: "./",
  logLevel: "warn",
  build: { outDir: "dist", target: "es2022", chunkSizeWarningLimit: 8000 },
});
