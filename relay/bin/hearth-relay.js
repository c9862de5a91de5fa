#!/usr/bin/env node
// The installed `hearth-relay` command: registers tsx so the TypeScript CLI runs as is (there is no build step), then
// loads it. Node 22 or newer (libp2p 3 needs it).
import { register } from 'tsx/esm/api'

register()
await import('../src/cli.ts')
