import { fileURLToPath } from 'node:url'
import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

/**
 * The UI bundle. `base: './'` keeps every asset URL relative, so the same build is served by the browser mode
 * (http://127.0.0.1:<port>/) and loaded by Electron from its own protocol or file. The bundle has no inline script or
 * style, so both hosts can send a Content-Security-Policy without 'unsafe-inline'.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2023',
    // Source maps stay local (nothing is uploaded anywhere) and make bug reports from the app readable.
    sourcemap: true,
    // The UI is one small bundle; a warning at 1 MB would only be noise.
    chunkSizeWarningLimit: 1500,
    // A module preload polyfill is inline code; every browser the app targets supports modulepreload natively.
    modulePreload: { polyfill: false },
  },
  server: { host: '127.0.0.1', port: 5173, strictPort: true },
})
