/**
 * What the main process does with core events: native notifications for new messages and the unread count on the
 * dock/taskbar badge. Main holds its own API connection to the core (a MessagePort like a window's) and this module
 * turns its events into calls of the injected `notify` and `setBadge`, so it is tested without Electron.
 */
import { drop } from '../../node/common/errors.js'
import type { PortClient } from './port-client.js'
import { NotificationPolicy, type NotificationContent } from './notification-policy.js'
import { UnreadTracker } from './unread.js'

export interface ShellEventsOptions {
  client: Pick<PortClient, 'call' | 'on'>
  notify(content: NotificationContent): void
  setBadge(count: number): void
  isWindowFocused(): boolean
  now?: () => number
  policy?: NotificationPolicy
  onError?(err: unknown): void
}

export interface ShellEvents {
  /** Re-reads every conversation (the core became ready, or the badge may have drifted). */
  refresh(): Promise<void>
  stop(): void
}

export function watchShellEvents(options: ShellEventsOptions): ShellEvents {
  const { client } = options
  const now = options.now ?? Date.now
  const policy = options.policy ?? new NotificationPolicy()
  const tracker = new UnreadTracker()
  const onError = options.onError ?? (() => {})
  let lastBadge = -1

  function publishBadge(): void {
    const total = tracker.total()
    if (total === lastBadge) return
    lastBadge = total
    options.setBadge(total)
  }

  async function refresh(): Promise<void> {
    const status = await client.call('app.status')
    if (status.state !== 'ready') {
      // Locked or onboarding: nothing to count, and the badge must not show a stale figure from before.
      tracker.clear()
      publishBadge()
      return
    }
    tracker.reset(await client.call('conversations.list'))
    publishBadge()
  }

  const offs = [
    client.on('conversation.updated', ({ conversation }) => {
      tracker.update(conversation)
      publishBadge()
    }),
    client.on('message.added', ({ message }) => {
      const content = policy.decide(message, {
        windowFocused: options.isWindowFocused(),
        now: now(),
        conversation: tracker.get(message.conversation),
      })
      if (content !== null) options.notify(content)
    }),
    client.on('app.changed', () => drop(refresh(), onError)),
  ]

  return {
    refresh,
    stop() {
      for (const off of offs) off()
    },
  }
}
