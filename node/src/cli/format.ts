/**
 * Human output of the CLI. Pure functions of their input (the clock is a parameter), so they are unit-tested and the
 * commands stay free of layout details. `--json` bypasses all of this and prints the API values unchanged.
 */
import type { ConversationSummary, MemberView, MessageState, MessageView, PeerView, WhoAmI } from '../api/types.js'
import type { RelayStatus } from '../core/relays/relay-mailboxes.js'
import { formatBytes } from '../../common/util/byte-size.js'

/** Short, readable form of an account key for people to compare; the full key is always available with --json. */
export function fingerprint(account: string): string {
  return (account.slice(0, 20).match(/.{1,4}/g) ?? []).join(' ')
}

export function shortId(id: string): string {
  return id.slice(0, 8)
}

export function shortPeer(peerId: string): string {
  return peerId.length > 16 ? `${peerId.slice(0, 8)}…${peerId.slice(-6)}` : peerId
}

export function relativeTime(at: number, now: number): string {
  const s = Math.round((now - at) / 1000)
  if (s < 0) return 'in the future'
  if (s < 45) return 'just now'
  const m = Math.round(s / 60)
  if (m < 60) return `${m}m ago`
  const h = Math.round(m / 60)
  if (h < 24) return `${h}h ago`
  const d = Math.round(h / 24)
  if (d < 7) return `${d}d ago`
  return isoDate(at)
}

function pad2(n: number): string {
  return String(n).padStart(2, '0')
}

function isoDate(at: number): string {
  const d = new Date(at)
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`
}

/** Clock time for today's messages, date and time for older ones (local time zone). */
export function messageTime(at: number, now: number): string {
  const d = new Date(at)
  const hm = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`
  return isoDate(at) === isoDate(now) ? hm : `${isoDate(at)} ${hm}`
}

export function stateMark(state: MessageState, failure: string | null = null): string {
  switch (state) {
    case 'pending':
      return '… pending'
    case 'sent':
      return '✓ sent'
    case 'delivered':
      return '✓✓ delivered'
    case 'read':
      return '✓✓ read'
    case 'failed':
      return failure === null ? '✗ failed' : `✗ failed: ${failure}`
  }
}

/** Display width in columns; counts code points, which is right for the text this CLI prints (no wide CJK layout). */
function width(text: string): number {
  return [...text].length
}

function truncate(text: string, max: number): string {
  const chars = [...text]
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : text
}

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function table(headers: string[] | null, rows: string[][]): string {
  const all = headers === null ? rows : [headers, ...rows]
  const widths: number[] = []
  for (const row of all) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, width(cell))))
  return all
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - width(cell)))).join('  '))
    .join('\n')
}

export function formatWhoami(me: WhoAmI, running: boolean): string {
  const rows = [
    ['name', me.displayName],
    ['account', me.account],
    ['fingerprint', fingerprint(me.account)],
    ['device', me.device],
    ['peer id', me.peerId],
  ]
  if (running) rows.push(['listening', me.addresses.join('\n' + ' '.repeat(13))])
  else rows.push(['status', 'not running (`hearth start` brings it online)'])
  return table(null, rows)
}

export function formatConversations(list: ConversationSummary[], now: number): string {
  if (list.length === 0) return 'No conversations yet. Create one with `hearth create --group <name>` or join with `hearth join <code>`.'
  return table(
    ['ID', 'KIND', 'NAME', 'MEMBERS', 'UNREAD', 'ACTIVE', 'LAST MESSAGE'],
    list.map((c) => [
      shortId(c.id),
      c.kind,
      truncate(c.name, 30) + (c.left === true ? ' (left)' : c.removed ? ' (removed)' : ''),
      String(c.memberCount),
      c.unread > 0 ? String(c.unread) : '',
      relativeTime(c.lastActivity, now),
      c.lastMessage === null ? '' : truncate(`${c.lastMessage.authorName}: ${c.lastMessage.body}`, 50),
    ]),
  )
}

/** The text a message shows: its files first (one line each), then the caption or text. */
function messageBody(m: MessageView): string {
  if (m.deleted) return '(deleted)'
  const files = (m.attachments ?? []).map((a) => `[${a.kind === 'image' ? '📷' : '📎'} ${a.name}, ${formatBytes(a.size)}${a.state === 'complete' ? '' : `: ${fileStateText(a.state)}`}]`)
  const text = m.body + (m.edited ? ' (edited)' : '')
  return [...files, ...(text === '' ? [] : [text])].join('\n')
}

function fileStateText(state: NonNullable<MessageView['attachments']>[number]['state']): string {
  switch (state) {
    case 'complete':
      return 'here'
    case 'uploading':
      return 'uploading'
    case 'downloading':
      return 'downloading'
    case 'waiting':
      return 'waiting for someone who has it'
    case 'available':
      return 'not downloaded (larger than the automatic download size)'
    case 'failed':
      return 'download failed'
    case 'removed':
      return 'removed from this device'
  }
}

export function formatMessage(m: MessageView, now: number, options: { conversationName?: string } = {}): string {
  const where = options.conversationName === undefined ? '' : `[${options.conversationName}] `
  const body = messageBody(m)
  const state = m.mine ? `  ${stateMark(m.state, m.failure)}` : ''
  // Continuation lines line up under the body so multi-line messages stay readable.
  const head = `${messageTime(m.sentAt, now)}  ${where}${m.authorName}: `
  const indented = body.split('\n').join('\n' + ' '.repeat(width(head)))
  return `${head}${indented}${state}`
}

export function formatMessages(messages: MessageView[], now: number): string {
  if (messages.length === 0) return 'No messages yet.'
  const nameWidth = Math.max(...messages.map((m) => width(m.authorName)))
  return messages
    .map((m) => {
      const body = messageBody(m)
      const time = messageTime(m.sentAt, now)
      const head = `${time}  ${m.authorName}${' '.repeat(nameWidth - width(m.authorName))}  `
      const state = m.mine ? `  ${stateMark(m.state, m.failure)}` : ''
      return `${head}${body.split('\n').join('\n' + ' '.repeat(width(head)))}${state}`
    })
    .join('\n')
}

export function formatMembers(members: MemberView[]): string {
  return table(
    ['NAME', 'ROLE', 'ACCOUNT', 'DEVICES'],
    members.map((m) => [
      m.displayName + (m.me ? ' (you)' : ''),
      m.role,
      fingerprint(m.account),
      m.devices.map((d) => (d.online ? 'online' : 'offline')).join(', '),
    ]),
  )
}

export function formatPeer(peer: PeerView): string {
  return peer.displayName === null ? shortPeer(peer.peerId) : `${peer.displayName} (${shortPeer(peer.peerId)})`
}

/** The recovery phrase as a numbered grid, easier to copy onto paper without skipping a word. */
export function formatRecoveryPhrase(phrase: string): string {
  const words = phrase.trim().split(/\s+/)
  const perRow = 4
  const cellWidth = Math.max(...words.map((w) => w.length)) + 5
  const rows: string[] = []
  for (let i = 0; i < words.length; i += perRow) {
    rows.push(
      '  ' +
        words
          .slice(i, i + perRow)
          .map((w, j) => `${String(i + j + 1).padStart(2)}. ${w}`.padEnd(cellWidth))
          .join('')
          .trimEnd(),
    )
  }
  return rows.join('\n')
}

/** "expires in 7d" / "expires in 3h" / "never expires" (0 is the core's "never"). */
export function expiryText(expiresAt: number, now: number): string {
  if (expiresAt === 0) return 'never expires'
  const ms = expiresAt - now
  if (ms <= 0) return 'expired'
  const units: Array<[string, number]> = [
    ['d', 24 * 3600_000],
    ['h', 3600_000],
    ['m', 60_000],
  ]
  for (const [unit, size] of units) if (ms >= size) return `expires in ${Math.round(ms / size)}${unit}`
  return `expires in ${Math.ceil(ms / 1000)}s`
}

/** Connected devices: members' first (by name), then relays, then others (a LAN neighbour not in any conversation). */
export function formatPeers(peers: PeerView[], relays: RelayStatus[]): string {
  const relayPeers = new Map(relays.map((r) => [r.peerId, r]))
  const kind = (p: PeerView) => (p.displayName !== null ? 0 : relayPeers.has(p.peerId) ? 1 : 2)
  const sorted = [...peers].sort((a, b) => kind(a) - kind(b) || (a.displayName ?? '').localeCompare(b.displayName ?? '') || a.peerId.localeCompare(b.peerId))
  const lines: string[] = []
  if (sorted.length === 0) lines.push('Not connected to any device.')
  else {
    lines.push(`Connected to ${sorted.length} ${sorted.length === 1 ? 'device' : 'devices'}:`)
    lines.push(
      table(
        null,
        sorted.map((p) => [
          '  ' + (p.displayName ?? (relayPeers.has(p.peerId) ? 'relay' : '(not in your conversations)')),
          p.peerId,
        ]),
      ),
    )
  }
  if (relays.length > 0) {
    lines.push('', 'Relays:')
    lines.push(table(null, relays.map((r) => ['  ' + r.address, relayState(r)])))
  }
  return lines.join('\n')
}

function relayState(r: RelayStatus): string {
  switch (r.state) {
    case 'ok':
      return 'ok'
    case 'refused':
      return r.detail === null ? 'refused' : `refused: ${r.detail}`
    case 'unreachable':
      return 'unreachable'
    case 'unknown':
      return 'not tried yet'
  }
}

/** An invite as printed: the short link to read out or type first when there is one, then the full link. */
export function inviteLinks(invite: { code: string; shortLink: string | null }): string[] {
  return invite.shortLink === null ? [invite.code] : [invite.shortLink, '', 'The full link, for someone on another network:', invite.code]
}
