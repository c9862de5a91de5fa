#!/usr/bin/env node
// The `hearth` command. It runs the built JavaScript in dist/cli/ (see node/scripts/build-cli.js), rebuilding it first
// when it is missing or older than its sources, so that a command answers at once instead of spending seconds
// transpiling TypeScript. Only if no build can be made does it run the sources through tsx, and it says so.
import fs from 'node:fs'
import module from 'node:module'
import { pathToFileURL } from 'node:url'
import { buildCli, freshBuild } from '../scripts/build-cli.js'

// Node 22 keeps compiled code between runs (absent on Node 20, which simply compiles every time).
module.enableCompileCache?.()

let main = freshBuild(fs)
if (main === undefined) {
  try {
    main = (await buildCli()).main
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err)
    process.stderr.write(`note: could not build the command line (${reason}); running it from its TypeScript sources, which is slower\n`)
  }
}
if (main !== undefined) {
  await import(pathToFileURL(main).href)
} else {
  const { register } = await import('tsx/esm/api')
  register()
  await import('../src/cli/main.ts')
}
