/**
 * Bundles the desktop shell into dist/electron/ with Vite (Rolldown), without needing the Electron runtime:
 *
 *   main.cjs          the main process. CommonJS, so its top level runs before `ready` (protocol registration).
 *   preload.cjs       the sandboxed preload: one self-contained CommonJS file; a sandboxed preload can only
 *                     `require('electron')`.
 *   core-process.js   the core's utility process entry, ESM (package.json says "type": "module"). Our own code
 *                     (node/, crdt/, electron/) is bundled; every npm package stays external and is loaded from the
 *                     node_modules electron-builder packages (the production dependency tree): several are native
 *                     (classic-level, node-datachannel) or load files next to themselves (Automerge's wasm), one
 *                     copy of each keeps `instanceof` checks between libp2p modules true, and Node resolves them
 *                     with Node's conditions, not a browser's (libp2p's browser build refuses private addresses).
 *
 * After bundling, each output's imports are checked against what its runtime can load, so a stray import fails the
 * build here rather than the app on someone's machine.
 *
 * Run: `npm run build:electron` (tsx electron/build.ts).
 */
import { readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build, type InlineConfig, type Rollup } from 'vite'

const root = fileURLToPath(new URL('..', import.meta.url))
const outDir = join(root, 'dist', 'electron')
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> }
/** Packages the installers ship: the top level of the production tree (what `node_modules/<name>` resolves to). */
const shipped = new Set(
  Object.entries(lock.packages)
    .filter(([path, meta]) => path.startsWith('node_modules/') && !path.slice(13).includes('/node_modules/') && meta.dev !== true)
    .map(([path]) => path.slice('node_modules/'.length)),
)
const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)])

const isBuiltin = (id: string) => builtins.has(id) || id.startsWith('node:')
/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
const packageOf = (id: string) => id.split('/').slice(0, id.startsWith('@') ? 2 : 1).join('/')
const isBare = (id: string) => !id.startsWith('.') && !id.startsWith('/') && !id.startsWith('\0')

interface Target {
  entry: string
  fileName: string
  format: 'cjs' | 'es'
  /** Which bare imports stay external. */
  external: (id: string) => boolean
  /** Which external imports the bundle may keep (checked after the build). */
  allowed: (id: string) => boolean
}

const targets: Target[] = [
  {
    entry: 'electron/src/main.ts',
    fileName: 'main.cjs',
    format: 'cjs',
    external: (id) => id === 'electron' || isBuiltin(id),
    allowed: (id) => id === 'electron' || isBuiltin(id),
  },
  {
    entry: 'electron/src/preload.ts',
    fileName: 'preload.cjs',
    format: 'cjs',
    external: (id) => id === 'electron',
    allowed: (id) => id === 'electron',
  },
  {
    entry: 'electron/src/core-process.ts',
    fileName: 'core-process.js',
    format: 'es',
    external: (id) => isBuiltin(id) || isBare(id),
    // `electron` is imported for types only and must be gone; every package must be in the production tree.
    allowed: (id) => isBuiltin(id) || shipped.has(packageOf(id)),
  },
]

function config(target: Target): InlineConfig {
  return {
    configFile: false,
    root,
    logLevel: 'warn',
    publicDir: false,
    // Node resolution conditions (never the browser builds of dependencies).
    ssr: { target: 'node', noExternal: true },
    build: {
      ssr: target.entry,
      outDir,
      emptyOutDir: false,
      target: 'node22',
      minify: false,
      sourcemap: true,
      reportCompressedSize: false,
      rolldownOptions: {
        external: (id: string) => target.external(id),
        output: { format: target.format, entryFileNames: target.fileName, codeSplitting: false },
      },
    },
  }
}

/** The single chunk a build wrote, with the modules it still loads at run time. */
function chunkOf(result: Awaited<ReturnType<typeof build>>): Rollup.OutputChunk {
  const outputs = Array.isArray(result) ? result : [result]
  const chunks = outputs.flatMap((o) => ('output' in o ? o.output : [])).filter((c): c is Rollup.OutputChunk => c.type === 'chunk')
  if (chunks.length !== 1) throw new Error(`expected one chunk, got ${chunks.length}`)
  return chunks[0]!
}

async function main(): Promise<void> {
  const started = Date.now()
  for (const target of targets) {
    const chunk = chunkOf(await build(config(target)))
    const loads = [...chunk.imports, ...chunk.dynamicImports]
    const refused = chunk.imports.filter((id) => !target.allowed(id))
    if (refused.length > 0) throw new Error(`${target.fileName} would load ${refused.join(', ')} at run time, which its process cannot`)
    // A dynamic import is only loaded when its code path runs (memory-level: tests only), so it is reported, not refused.
    for (const id of chunk.dynamicImports.filter((i) => !target.allowed(i))) {
      console.log(`note: ${target.fileName} may import ${id} on demand; it is not shipped, so that path must not run in the app`)
    }
    console.log(`built dist/electron/${target.fileName} (${Math.round(chunk.code.length / 1024)} KiB; loads ${loads.length === 0 ? 'nothing' : loads.join(', ')})`)
  }
  console.log(`electron bundles built in ${Date.now() - started} ms`)
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
