/**
 * The only IPC channels between the preload and main. The page never names a channel: the bridge uses these, and main
 * only listens to `connect` and `openFile` (from the app's own main frame).
 */
export const IPC = {
  /** preload → main: give me a port to the core (at load, and again after a reload). */
  connect: 'hearth:connect',
  /** main → preload: the port (transferred). */
  port: 'hearth:port',
  /** main → preload: a validated invite link opened from outside. */
  deepLink: 'hearth:deep-link',
  /** main → preload: the person clicked the notification of this conversation. */
  openConversation: 'hearth:open-conversation',
  /**
   * preload → main (invoke): open a received file, `{ conversationId, messageId, index }` and nothing else (checked
   * by open-file.ts); answers `{ ok: true, action }` or `{ ok: false, code, message }`.
   */
  openFile: 'hearth:open-file',
} as const
