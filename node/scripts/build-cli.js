// Builds the `hearth` command line into dist/cli/ as plain JavaScript, so that a command starts without transpiling
// TypeScript (tsx needs seconds for the whole import graph on a slow machine).
//
// The entry point stays small and each command is a chunk loaded by dynamic import(): a command that talks to a
// running core loads only the API client, never libp2p, Automerge or LevelDB. Packages stay in node_modules (native
// LevelDB bindings cannot be bundled; the core's packages are loaded only by commands that open it), except the few
// small ones the API client path needs, which are bundled because resolving their many files costs more than parsing.
//
// Every build goes to its own directory and current.json names the newest one (written by rename, so never half
// written): commands started earlier keep loading their chunks from the directory they started with, and concurrent
// rebuilds do not trample each other. current.json also lists the source files that went in, so node/bin/hearth.js
// can tell cheaply whether the build is older than the sources.
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const OUT_BASE = join(ROOT, 'dist', 'cli')
export const CURRENT = join(OUT_BASE, 'current.json')

/** Small pure-JavaScript packages on the API client path: bundled. Everything else is loaded from node_modules. */
const BUNDLED = new Set(['commander', 'ws'])
/**
 * Builds older than this, and not among the newest few, are removed. A command loads its chunks when it starts (even
 * a daemon running for days), so an hour is ample, and a working copy whose sources keep changing does not fill up.
 */
const KEEP_MS = 3600_000
const KEEP_NEWEST = 3

export async function buildCli() {
  const { build } = await import('esbuild')
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'))
  const packages = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).filter((name) => !BUNDLED.has(name))
  const startedAt = Date.now()
  const id = `${startedAt.toString(36)}-${process.pid}`
  const outdir = join(OUT_BASE, id)
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { main: join(ROOT, 'node', 'src', 'cli', 'main.ts') },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    // The system Node may be older than the one npm scripts use; the client path must run on both.
    target: 'node20',
    // ws's optional native helpers are tried with require() and may be absent.
    external: [...packages, ...packages.map((name) => `${name}/*`), 'bufferutil', 'utf-8-validate'],
    // Bundled CommonJS (ws) calls require() for Node's built-ins, which an ES module does not have.
    banner: { js: "import { createRequire as __hearthRequire } from 'node:module'; const require = __hearthRequire(import.meta.url);" },
    chunkNames: 'chunks/[name]-[hash]',
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
  })
  await writeFile(join(outdir, 'package.json'), '{ "type": "module" }\n')
  const inputs = Object.keys(result.metafile.inputs)
    .filter((path) => !path.includes('node_modules/'))
    .map((path) => relative(ROOT, resolve(ROOT, path)))
  const tmp = `${CURRENT}.${process.pid}.tmp`
  await writeFile(tmp, JSON.stringify({ dir: id, builtAt: startedAt, inputs }, null, 1) + '\n')
  await rename(tmp, CURRENT)
  await removeOldBuilds(id)
  return { dir: outdir, main: join(outdir, 'main.js') }
}

async function removeOldBuilds(keep) {
  const entries = await readdir(OUT_BASE, { withFileTypes: true })
  const builds = []
  for (const e of entries) {
    if (!e.isDirectory() || e.name === keep) continue
    const { mtimeMs } = await stat(join(OUT_BASE, e.name)).catch(() => ({ mtimeMs: Date.now() }))
    builds.push({ name: e.name, mtimeMs })
  }
  builds.sort((a, b) => b.mtimeMs - a.mtimeMs)
  for (const b of builds.slice(KEEP_NEWEST - 1)) {
    if (Date.now() - b.mtimeMs > KEEP_MS) await rm(join(OUT_BASE, b.name), { recursive: true, force: true })
  }
}

/**
 * The entry point of the newest build, or undefined when there is none or a source that went into it changed since.
 * Synchronous on purpose: this runs before every command, and a few dozen stat calls are cheaper than promises.
 */
export function freshBuild(fs) {
  let current
  try {
    current = JSON.parse(fs.readFileSync(CURRENT, 'utf8'))
  } catch {
    return undefined
  }
  if (typeof current?.dir !== 'string' || typeof current.builtAt !== 'number' || !Array.isArray(current.inputs)) return undefined
  for (const input of current.inputs) {
    try {
      if (fs.statSync(join(ROOT, input)).mtimeMs > current.builtAt) return undefined
    } catch {
      return undefined // a source was removed or renamed
    }
  }
  const main = join(OUT_BASE, current.dir, 'main.js')
  return fs.existsSync(main) ? main : undefined
}

// `node node/scripts/build-cli.js` (the package's prepare script) builds once.
// A failure does not fail `npm install`: node/bin/hearth.js tries again on first use, and else runs the sources.
if (process.argv[1] !== undefined && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) {
  try {
    await mkdir(OUT_BASE, { recursive: true })
    const { dir } = await buildCli()
    process.stdout.write(`hearth: command line built in ${relative(ROOT, dir)}\n`)
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err)
    process.stderr.write(`hearth: could not build the command line (${reason}); \`hearth\` will try again when first run\n`)
  }
}
