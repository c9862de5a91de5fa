/**
 * The preload script of the app window (sandboxed, context-isolated; bundled to one CommonJS file because a sandboxed
 * preload can require nothing but 'electron'). It exposes the bridge of bridge.ts as `window.hearth` and nothing else:
 * ipcRenderer, the port and every Node-ish object stay in this isolated world.
 */
import { contextBridge, ipcRenderer } from 'electron'
import { createBridge } from './bridge.js'
import { IPC } from './ipc-channels.js'

const bridge = createBridge(
  {
    requestPort: () => ipcRenderer.send(IPC.connect),
    onPort: (listener) => {
      ipcRenderer.on(IPC.port, (event) => {
        const port = event.ports[0]
        if (port !== undefined) listener(port)
      })
    },
    onDeepLink: (listener) => {
      ipcRenderer.on(IPC.deepLink, (_event, url: unknown) => listener(url))
    },
    onOpenConversation: (listener) => {
      ipcRenderer.on(IPC.openConversation, (_event, id: unknown) => listener(id))
    },
    openFile: (ref) => ipcRenderer.invoke(IPC.openFile, ref),
  },
  { platform: process.platform },
)

contextBridge.exposeInMainWorld('hearth', bridge)
