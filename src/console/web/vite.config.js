import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

// The binary serves these files under /console (src/console/mod.rs embeds dist/).
export default defineConfig({
  base: "/console/",
  plugins: [preact()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // Everything the page needs is in dist/: no CDN, no inlined data URLs to allow.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 400,
  },
  server: {
    // `npm run dev` talks to a server started with `invite-ledger serve`.
    proxy: { "/api": "http://localhost:3000" },
  },
});
