import react from '@vitejs/plugin-react'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['crdt/src/**/*.test.ts', 'node/**/*.test.ts', 'relay/src/**/*.test.ts', 'electron/src/**/*.test.ts'],
          exclude: ['**/node_modules/**'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'fuzz',
          // Decoders fed random and mutated bytes: a short run here, `npm run fuzz` sets HEARTH_FUZZ_RUNS for the long one.
          include: ['test/fuzz/**/*.test.ts'],
          // The long run feeds 100,000 inputs to each decoder and as many calls to a real core's dispatcher: hours, not
          // minutes, on a loaded 2-core machine.
          testTimeout: process.env.HEARTH_FUZZ_RUNS === undefined ? 600_000 : 4 * 3600_000,
        },
      },
      {
        plugins: [react()],
        test: {
          name: 'renderer',
          include: ['renderer/src/**/*.test.{ts,tsx}'],
          environment: 'happy-dom',
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          // Integration and e2e files bind sockets and spawn processes: run them after the fast projects, not beside them.
          sequence: { groupOrder: 1 },
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
          // Networking tests bind real sockets; run files one at a time on 2 cores.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          sequence: { groupOrder: 2 },
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 120_000,
          // Each file drives real cores and a real Chromium; one at a time on 2 cores.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'netns',
          // Real separate hosts in network namespaces (root only): after everything else, one file at a time.
          sequence: { groupOrder: 3 },
          include: ['test/netns/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
})
