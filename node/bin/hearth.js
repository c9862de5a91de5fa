#!/usr/bin/env node
// The installed `hearth` command: registers tsx so the TypeScript CLI runs as is (there is no build step), then loads it.
import { register } from 'tsx/esm/api'

register()
await import('../src/cli/main.ts')
