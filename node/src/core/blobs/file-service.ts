import PQueue from 'p-queue'
import { CHUNK_BYTES } from '../../../common/blob/format.js'
import { drop, HearthError } from '../../../common/errors.js'
import type { AttachmentState, AttachmentView, FileUsageView, MessageView } from '../../api/types.js'
import type { ConversationId, EpochId, MessageId } from '../../ids.js'
import type { MessageRow } from '../../store/core-store.js'
import type { ConversationRuntime } from '../conversation-runtime.js'
import type { MessageIntent } from '../history/kinds/index.js'
import { filesOf, type StoredFile } from '../history/media-box.js'
import { sentAt } from '../history/views.js'
import type { Kernel } from '../kernel.js'
import { memberDevices } from '../../conversation/membership-log.js'
import { BlobFetcher, type FetchResult } from './blob-fetcher.js'
import { BlobServer } from './blob-server.js'
import type { BlobSource } from './blob-sources.js'
import { peerSource } from './blob-sources.js'
import { heldBytes } from './blob-disk.js'
import type { BlobStore } from './blob-store.js'
import { OPENED_WRITE_EVERY_MS, ReceivedFilesBudget } from './file-budget.js'
import { downloadsByItself, isRisky, isShownImage, sniffMime, type FileSettings } from './file-policy.js'
import { FileIndex, type FileEntry } from './file-index.js'
import { FileReceipts, type KnownDevice, type OwnFile } from './file-receipts.js'
import type { RelayFiles } from './relay-files.js'
import { Uploads } from './uploads.js'

/** A file of a message, as the service tracks it while it moves. */
interface Placed {
  conversation: ConversationId
  message: MessageId
  index: number
  file: StoredFile
  /** The author's device peer, asked first. */
  authorPeer: string | undefined
  /** When it was sent (ms): a file unavailable for a week after that is given up. */
  sentAt: number
  /** The epoch it was sent in: relays hold it under that epoch's mailbox. */
  epoch: EpochId
}

interface Job {
  state: Extract<AttachmentState, 'downloading' | 'waiting' | 'failed'>
  error?: string
  abort: AbortController
}

/** Files download two at a time: a photo album does not wait behind one large video, nor starve the link. */
const DOWNLOADS_AT_ONCE = 2
/** How long a download waits for someone who has the file before it says it is waiting (and retries later). */
const WAIT_FOR_SOURCE_MS = 60_000
/** A file nobody could give us for this long is unavailable (Quiet's downloads "resume forever": issue #1132). */
const GIVE_UP_AFTER_MS = 7 * 24 * 3600_000
/** Waiting downloads are tried again this often, and whenever a member's device connects. */
const RETRY_EVERY_MS = 5 * 60_000
/** How often, at most, the UI hears that a device fetched more of one of our files (a completion is told at once). */
const RECEIPT_EVENT_MS = 250
/** A file received or opened this recently is not removed for room (the person is looking at it). */
const IN_USE_MS = 10 * 60_000

export interface FileServiceDeps {
  /** Sends a message through the outbox (the media kind). */
  send(conversation: ConversationId, intent: MessageIntent): Promise<MessageView>
  settings(): FileSettings
  /** The conversation's relays: fetch sources, and where our files go for members who are away. */
  relays: RelayFiles
  /** Tells the UI the conversation changed (its files were cleared). */
  emitConversation(conversation: ConversationId): void
}

/**
 * Photos and files: uploads from the UI into the encrypted blob store, the media message that names them, downloads
 * (by themselves up to the person's sizes, else on click) from members' devices and relays, what the UI shows of
 * each file, reading and saving, and removing files when their message is deleted or the person clears a chat.
 */
export class FileService {
  readonly uploads: Uploads
  private readonly index: FileIndex
  private readonly jobs = new Map<string, Job>()
  private readonly placed = new Map<string, Placed>()
  private readonly receipts: FileReceipts
  /** Our files whose receivers changed since the UI last heard, told together on a timer (RECEIPT_EVENT_MS). */
  private readonly receiptsToTell = new Map<string, OwnFile>()
  private receiptTimer: NodeJS.Timeout | undefined
  private readonly queue = new PQueue({ concurrency: DOWNLOADS_AT_ONCE })
  private retryTimer: NodeJS.Timeout | undefined
  private stopped = false

  private readonly fetcher: BlobFetcher
  private readonly server: BlobServer
  private readonly budget: ReceivedFilesBudget

  constructor(
    private readonly kernel: Kernel,
    readonly store: BlobStore,
    private readonly deps: FileServiceDeps,
  ) {
    this.uploads = new Uploads(store, deps.settings, kernel.now)
    this.index = new FileIndex(kernel.store.db)
    this.fetcher = new BlobFetcher({
      store,
      now: kernel.now,
      counters: kernel.counters,
      // A device that sent a chunk which fails its hash is scored down like any peer that sends forged data.
      onBadSource: (source, reason) => {
        if (source.kind === 'peer') kernel.node.penalties?.penalise(source.key.replace(/^peer:/, ''), `blob-${reason}`, 10)
      },
    })
    this.receipts = new FileReceipts({
      deviceOf: (conversation, peer) => this.memberDevices(conversation).find((d) => d.peerId === peer)?.device,
      persist: (file, blob, device) =>
        this.index.update(file.conversation, blob, (entry) =>
          entry.gone || entry.receivedBy?.includes(device) === true ? undefined : { ...entry, receivedBy: [...(entry.receivedBy ?? []), device] },
        ),
      changed: (file, blob, completed) => this.receiptsChanged(file, blob, completed),
    })
    this.server = new BlobServer({
      node: kernel.node,
      store,
      counters: kernel.counters,
      isMemberDevice: (conversation, peer) => {
        const rt = kernel.conversations.get(conversation as ConversationId)
        if (rt === undefined || rt.record.removed) return false
        for (const cert of memberDevices(rt.log).values()) if (cert.peerId === peer) return true
        return false
      },
      onError: (err) => kernel.log.debug({ err }, 'a blob request failed'),
      onServed: (conversation, blob, peer, index, chunks) => this.receipts.served(conversation, blob, peer, index, chunks),
    })
    this.budget = new ReceivedFilesBudget({
      store: kernel.store,
      index: this.index,
      budget: () => deps.settings().keepReceivedBytes,
      keep: (file) => this.jobs.has(file.blob) || file.usedAt > kernel.now() - IN_USE_MS,
      remove: (entry) => this.removeReceived(entry),
    })
  }

  /** The person changed the file settings: a smaller room for received files takes effect now. */
  settingsChanged(): void {
    this.keepWithinBudget()
  }

  private keepWithinBudget(): void {
    drop(this.budget.enforce(), (err) => this.kernel.log.warn({ err }, 'keeping received files within their room failed'))
  }

  /** One received file leaves this device for room; its message says so, and it can be downloaded again. */
  private async removeReceived(entry: FileEntry): Promise<void> {
    await this.index.update(entry.conversation, entry.blob, (now) => (now.gone || now.own === true ? undefined : { ...now, gone: true }))
    if ((await this.store.get(entry.blob))?.conversation === entry.conversation) await this.store.remove(entry.blob)
    const placed = this.placed.get(entry.blob)
    if (placed !== undefined) await this.emitProgress(placed)
    else this.deps.emitConversation(entry.conversation)
  }

  async start(): Promise<void> {
    // Our own files and who had them, before the server answers anyone.
    for await (const entry of this.index.list()) {
      if (entry.own === true && !entry.gone) this.receipts.track(entry.blob, entry, entry.receivedBy)
    }
    await this.server.start()
    this.retryTimer = setInterval(() => this.retryWaiting(), RETRY_EVERY_MS)
    this.retryTimer.unref()
    drop(this.resume(), (err) => this.kernel.log.warn({ err }, 'resuming downloads failed'))
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.retryTimer) clearInterval(this.retryTimer)
    clearTimeout(this.receiptTimer)
    for (const job of this.jobs.values()) job.abort.abort()
    this.queue.clear()
    await this.queue.onIdle()
    await this.server.stop()
    await this.deps.relays.stop()
    await this.uploads.abortAll()
  }

  // ------------------------------------------------------------------------------------------------------ sending

  /** Starts sending a file: its bytes follow with `append`, and `send` names it. */
  async begin(conversation: ConversationId, name: string, size: number): Promise<{ uploadId: string }> {
    this.kernel.runtime(conversation)
    return { uploadId: await this.uploads.begin(conversation, name, size) }
  }

  async append(uploadId: string, data: Uint8Array): Promise<{ received: number }> {
    return { received: await this.uploads.append(uploadId, data) }
  }

  abort(uploadId: string): Promise<void> {
    return this.uploads.abort(uploadId)
  }

  /** A message with files (and a caption, perhaps empty): every upload must be complete. */
  async send(
    conversation: ConversationId,
    body: string,
    attachments: ReadonlyArray<{ uploadId: string; kind: 'image' | 'file'; width?: number | undefined; height?: number | undefined; thumbhash?: string | undefined }>,
    options: { replyTo?: string | undefined; mentions?: string[] | undefined } = {},
  ): Promise<MessageView> {
    if (new Set(attachments.map((a) => a.uploadId)).size !== attachments.length) throw new HearthError('INVALID_INPUT', 'the same file is attached twice')
    const uploads = attachments.map((a) => this.uploads.complete(a.uploadId, conversation))
    const files: StoredFile[] = []
    // Nothing names these blobs until the message is sent: on any failure they would only take space.
    const discard = () => {
      for (const f of files) drop(this.store.remove(f.blob), (e) => this.kernel.log.warn({ err: e }, 'removing an unsent file failed'))
    }
    for (const [i, a] of attachments.entries()) {
      const upload = uploads[i]!
      const mime = await sniffMime(upload.head)
      let ref: Awaited<ReturnType<Uploads['finish']>>
      try {
        ref = await this.uploads.finish(a.uploadId)
      } catch (err) {
        discard()
        throw err
      }
      // Shown as an image only when the bytes are one: a "photo" that is not is a file card, never rendered.
      const image = a.kind === 'image' && isShownImage(mime)
      files.push({
        blob: ref.id,
        key: ref.key,
        size: ref.size,
        padded: ref.padded,
        name: upload.name,
        mime,
        kind: image ? 'image' : 'file',
        ...(image && a.width !== undefined && a.height !== undefined ? { width: a.width, height: a.height } : {}),
        ...(image && a.thumbhash !== undefined ? { thumbhash: Buffer.from(a.thumbhash, 'base64') } : {}),
      })
    }
    try {
      const view = await this.deps.send(conversation, { kind: 'media', body, files, replyTo: options.replyTo as MessageId | undefined, mentions: options.mentions })
      const rt = this.kernel.runtime(conversation)
      for (const [index, file] of files.entries()) {
        const entry = { conversation, blob: file.blob, message: view.id as MessageId, index, gone: false, own: true }
        await this.index.put(entry)
        // The message went out before its files were tracked: the UI hears their recipients on the next event.
        this.receiptsChanged(this.receipts.track(file.blob, entry), file.blob, false)
        this.toRelays(entry, rt.log.currentEpoch)
      }
      return view
    } catch (err) {
      discard()
      throw err
    }
  }

  // ---------------------------------------------------------------------------------------------------- receiving

  /** Files of messages that arrive start downloading (within the person's sizes), whatever path brought them. */
  follow(): () => void {
    return this.kernel.events.on('message.added', ({ conversation, message }) => {
      // Ours from this device are on disk already; ours from another of our devices download like anyone's.
      if (message.device === this.kernel.identity.deviceId || message.attachments === undefined || message.withdrawn) return
      const rt = this.kernel.conversations.get(conversation)
      if (rt === undefined) return
      drop(
        this.kernel.store.getMessage(conversation, message.id as MessageId).then((row) => (row === undefined ? undefined : this.arrived(rt, row))),
        (err) => this.kernel.log.warn({ err }, 'starting a file download failed'),
      )
    })
  }

  /** A message with files arrived or was materialised: registers them and starts the downloads that go by themselves. */
  async arrived(rt: ConversationRuntime, row: MessageRow): Promise<void> {
    if (row.mine || row.files === undefined || row.deleted || row.withdrawn) return
    const files = filesOf(row)
    const settings = this.deps.settings()
    const peerNow = this.kernel.memberPeers(rt).length > 0
    for (const [index, file] of files.entries()) {
      const placed = this.place(rt, row, index, file)
      const entry = await this.index.get(rt.id, file.blob)
      if (entry?.gone) continue
      if (entry === undefined) await this.index.put({ conversation: rt.id, blob: file.blob, message: row.id, index, gone: false })
      const record = await this.store.get(file.blob)
      if (record?.complete) continue
      if (record !== undefined || downloadsByItself(file.size, settings, peerNow)) this.startDownload(placed)
    }
  }

  /** Resumes every download a restart interrupted (a blob registered but not complete). */
  async resume(): Promise<void> {
    for await (const entry of this.index.list()) {
      if (entry.gone || entry.paused === true) continue
      if (entry.own === true) {
        if (entry.relayed !== true) {
          const row = await this.kernel.store.getMessage(entry.conversation, entry.message)
          if (row !== undefined && !row.deleted) this.toRelays(entry, row.epoch)
        }
        continue
      }
      const record = await this.store.get(entry.blob)
      if (record === undefined || record.complete) continue
      try {
        const { placed } = await this.locate(entry.conversation, entry.message, entry.index)
        this.startDownload(placed)
      } catch (err) {
        this.kernel.log.debug({ err, blob: entry.blob }, 'an interrupted download has no message any more')
      }
    }
  }

  /** A member's device connected: downloads waiting for a source try again. */
  retryWaiting(): void {
    for (const [blob, job] of this.jobs) {
      if (job.state !== 'waiting') continue
      const placed = this.placed.get(blob)
      if (placed !== undefined) this.startDownload(placed)
    }
  }

  /** The person asked for the file (a click, or Retry after a failure). */
  async download(conversation: ConversationId, message: string, index: number): Promise<void> {
    const { placed } = await this.locate(conversation, message as MessageId, index)
    await this.index.put({ conversation, blob: placed.file.blob, message: placed.message, index, gone: false })
    this.startDownload(placed)
  }

  /** Stops a download; what was verified stays, and a later download resumes from there. */
  async cancel(conversation: ConversationId, message: string, index: number): Promise<void> {
    const { placed } = await this.locate(conversation, message as MessageId, index)
    const entry = await this.index.get(conversation, placed.file.blob)
    if (entry !== undefined) await this.index.put({ ...entry, paused: true })
    const job = this.jobs.get(placed.file.blob)
    job?.abort.abort()
    this.jobs.delete(placed.file.blob)
    await this.emitProgress(placed)
  }

  private startDownload(placed: Placed): void {
    const blob = placed.file.blob
    const current = this.jobs.get(blob)
    if (current !== undefined && current.state === 'downloading') return
    if (this.stopped) return
    const job: Job = { state: 'downloading', abort: new AbortController() }
    this.jobs.set(blob, job)
    drop(this.emitProgress(placed), () => undefined)
    drop(
      this.queue.add(() => this.runDownload(placed, job)),
      (err) => this.kernel.log.warn({ err, blob }, 'a file download failed'),
    )
  }

  private async runDownload(placed: Placed, job: Job): Promise<void> {
    if (job.abort.signal.aborted || this.stopped) return
    const { conversation, file } = placed
    await this.store.expect(conversation, file.blob, file.padded)
    // A cancelled fetch of the same blob may still be finishing its last write; a new fetch would join it and end
    // "aborted" with it, so wait for it to end first.
    for (let waited = 0; this.fetcher.isFetching(file.blob) && waited < 30_000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      if (job.abort.signal.aborted || this.stopped) return
    }
    let lastEmit = 0
    const result: FetchResult = await this.fetcher.fetch(conversation, file.blob, file.padded, () => this.sources(placed), {
      signal: job.abort.signal,
      deadline: this.kernel.now() + WAIT_FOR_SOURCE_MS,
      onProgress: () => {
        const now = this.kernel.now()
        if (now - lastEmit < 250) return
        lastEmit = now
        drop(this.emitProgress(placed), () => undefined)
      },
    })
    // Whichever job it was (a retry may have replaced this one), a completed file may take the received ones over the room.
    if (result.complete) {
      const record = await this.store.get(file.blob)
      this.budget.grew(record === undefined ? 0 : heldBytes(record))
      this.keepWithinBudget()
    }
    if (this.jobs.get(file.blob) !== job) return
    if (result.complete) {
      this.jobs.delete(file.blob)
    } else if (result.reason === 'aborted') {
      return
    } else if (result.reason === 'no-source' || result.reason === 'stalled') {
      const age = this.kernel.now() - placed.sentAt
      if (age > GIVE_UP_AFTER_MS) {
        job.state = 'failed'
        job.error = 'unavailable: no one who has this file has been reachable for a week'
      } else {
        job.state = 'waiting'
        job.error = result.reason === 'no-source' ? 'waiting for someone who has it to come online' : 'the devices that have it stopped answering; trying again later'
      }
    } else {
      job.state = 'failed'
      job.error = `${result.message}; the file was not saved`
    }
    await this.emitProgress(placed)
  }

  private sources(placed: Placed): BlobSource[] {
    const rt = this.kernel.conversations.get(placed.conversation)
    if (rt === undefined) return []
    const peers = this.kernel.memberPeers(rt)
    // The author's device first: it certainly has the file, and a photo usually arrives while it is still online.
    peers.sort((a, b) => (a === placed.authorPeer ? -1 : b === placed.authorPeer ? 1 : 0))
    return [...peers.map((p) => peerSource(this.kernel.node, p)), ...this.deps.relays.sources(placed.conversation, placed.epoch)]
  }

  /** Our file to the conversation's relays, remembered as done once every relay has it (or gave up on it). */
  private toRelays(entry: FileEntry, epoch: EpochId): void {
    this.deps.relays.upload(entry.conversation, epoch, entry.blob, () => {
      drop(
        this.index.update(entry.conversation, entry.blob, (now) => (now.gone ? undefined : { ...now, relayed: true })),
        (err) => this.kernel.log.debug({ err }, 'recording a relay upload failed'),
      )
    })
  }

  // ------------------------------------------------------------------------------------------------------ reading

  /** What the UI shows of a row's files now. */
  async views(row: MessageRow): Promise<AttachmentView[] | undefined> {
    if (row.files === undefined || row.deleted || row.withdrawn) return undefined
    const out: AttachmentView[] = []
    for (const [index, file] of filesOf(row).entries()) out.push(await this.viewOf(row.conversation, row.mine, index, file))
    return out
  }

  private async viewOf(conversation: ConversationId, mine: boolean, index: number, file: StoredFile): Promise<AttachmentView> {
    const record = await this.store.get(file.blob)
    const job = this.jobs.get(file.blob)
    const received = record === undefined ? 0 : record.complete ? file.size : Math.min(file.size, record.haveCount * CHUNK_BYTES)
    let state: AttachmentState
    if (record?.complete) state = 'complete'
    else if (job !== undefined) state = job.state
    else {
      const entry = await this.index.get(conversation, file.blob)
      if (mine || entry?.gone === true) state = 'removed'
      else state = record === undefined || entry?.paused === true ? 'available' : 'waiting'
    }
    const view: AttachmentView = { index, name: file.name, size: file.size, mime: file.mime, kind: file.kind, state, received }
    if (file.width !== undefined && file.height !== undefined) {
      view.width = file.width
      view.height = file.height
    }
    if (file.thumbhash !== undefined) view.thumbhash = Buffer.from(file.thumbhash).toString('base64')
    if (job?.error !== undefined) view.error = job.error
    if (isRisky(file.name, file.mime)) view.risky = true
    if (mine) {
      const receipts = this.receipts.view(file.blob, file.size, this.memberDevices(conversation), this.kernel.identity.deviceId)
      if (receipts !== undefined) Object.assign(view, receipts)
    }
    return view
  }

  // ----------------------------------------------------------------------------------------------------- receipts

  /** The conversation's current member devices, named as its membership log names their accounts now. */
  private memberDevices(conversation: ConversationId): KnownDevice[] {
    const rt = this.kernel.conversations.get(conversation)
    if (rt === undefined || rt.record.removed) return []
    return [...memberDevices(rt.log).values()].map((cert) => ({
      device: cert.device,
      account: cert.account,
      peerId: cert.peerId,
      displayName: rt.log.names.get(cert.account) ?? cert.displayName,
    }))
  }

  private receiptsChanged(file: OwnFile, blob: string, completed: boolean): void {
    this.receiptsToTell.set(blob, file)
    if (completed) {
      clearTimeout(this.receiptTimer)
      this.receiptTimer = undefined
      this.tellReceipts()
    } else {
      this.receiptTimer ??= setTimeout(() => this.tellReceipts(), RECEIPT_EVENT_MS).unref()
    }
  }

  private tellReceipts(): void {
    this.receiptTimer = undefined
    if (this.stopped) return
    const files = [...this.receiptsToTell.values()]
    this.receiptsToTell.clear()
    for (const file of files) {
      drop(
        this.locate(file.conversation, file.message, file.index).then(({ placed, row }) => this.emitProgress(placed, row.mine)),
        (err) => this.kernel.log.debug({ err }, 'telling who received a file failed'),
      )
    }
  }

  /** One file of a message as the message shows it now. */
  async info(conversation: ConversationId, message: string, index: number): Promise<AttachmentView> {
    const { placed, row } = await this.locate(conversation, message as MessageId, index)
    return this.viewOf(conversation, row.mine, index, placed.file)
  }

  /** Decrypted bytes of a complete file. */
  async read(conversation: ConversationId, message: string, index: number, offset: number, length: number): Promise<{ data: string; size: number; mime: string }> {
    const { placed } = await this.locate(conversation, message as MessageId, index)
    const { file } = placed
    const record = await this.store.get(file.blob)
    if (!record?.complete) throw new HearthError('NOT_FOUND', `“${file.name}” is not on this device yet`)
    if (offset > file.size) throw new HearthError('INVALID_INPUT', 'offset past the end of the file')
    const end = Math.min(file.size, offset + length)
    if (offset === 0) this.opened(conversation, file.blob)
    const bytes = end === offset ? new Uint8Array(0) : await this.store.readPlain(file.blob, file.key, file.size, offset, end - offset)
    return { data: Buffer.from(bytes).toString('base64'), size: file.size, mime: file.mime }
  }

  /** Notes that the person opened a file (the budget removes the least recently used first), at most hourly. */
  private opened(conversation: ConversationId, blob: string): void {
    const now = this.kernel.now()
    drop(
      this.index.update(conversation, blob, (entry) => (entry.own === true || (entry.openedAt ?? 0) > now - OPENED_WRITE_EVERY_MS ? undefined : { ...entry, openedAt: now })),
      (err) => this.kernel.log.debug({ err }, 'noting that a file was opened failed'),
    )
  }

  /** Writes a complete file to a path the person chose (never opened or run here). */
  async save(conversation: ConversationId, message: string, index: number, path: string): Promise<void> {
    const { placed } = await this.locate(conversation, message as MessageId, index)
    const { file } = placed
    const record = await this.store.get(file.blob)
    if (!record?.complete) throw new HearthError('NOT_FOUND', `“${file.name}” is not on this device yet`)
    const { createWriteStream } = await import('node:fs')
    const { pipeline } = await import('node:stream/promises')
    const { Readable } = await import('node:stream')
    await pipeline(Readable.from(this.store.plainStream(file.blob, file.key, file.size)), createWriteStream(path, { flags: 'w', mode: 0o600 }))
  }

  /** Bytes on disk per conversation. */
  async usage(): Promise<FileUsageView[]> {
    const usage = await this.store.usage()
    return [...usage.entries()].map(([conversationId, bytes]) => ({ conversationId, bytes })).sort((a, b) => b.bytes - a.bytes)
  }

  /** Removes a conversation's files from this device; its messages stay and show them as removed. */
  async clear(conversation: ConversationId): Promise<void> {
    this.kernel.runtime(conversation)
    for (const [blob, placed] of this.placed) {
      if (placed.conversation !== conversation) continue
      this.jobs.get(blob)?.abort.abort()
      this.jobs.delete(blob)
    }
    for await (const entry of this.index.list(conversation)) this.receipts.untrack(entry.blob)
    for await (const entry of this.index.list(conversation)) if (!entry.gone) await this.index.put({ ...entry, gone: true })
    await this.store.removeConversation(conversation)
    this.deps.emitConversation(conversation)
  }

  /**
   * A message deleted (for everyone, or for me): its files leave this device with it. The file index says which blobs
   * are the message's (a row already blanked by the delete names none), and only a blob stored for this conversation
   * is removed: a member who names another message's blob in a message of their own, then deletes it, removes nothing.
   */
  async forget(rows: readonly MessageRow[]): Promise<void> {
    for (const row of rows) {
      const blobs: string[] = []
      for await (const entry of this.index.list(row.conversation)) if (entry.message === row.id) blobs.push(entry.blob)
      for (const blob of blobs) {
        this.jobs.get(blob)?.abort.abort()
        this.jobs.delete(blob)
        this.placed.delete(blob)
        this.receipts.untrack(blob)
        await this.index.delete(row.conversation, blob)
        if ((await this.store.get(blob))?.conversation === row.conversation) await this.store.remove(blob)
      }
    }
  }

  // -------------------------------------------------------------------------------------------------- bookkeeping

  private place(rt: ConversationRuntime, row: MessageRow, index: number, file: StoredFile): Placed {
    const existing = this.placed.get(file.blob)
    if (existing !== undefined) return existing
    const cert = rt.log.knownDevices.get(row.device)
    const placed: Placed = { conversation: rt.id, message: row.id, index, file, authorPeer: cert?.peerId, sentAt: sentAt(row.hlc), epoch: row.epoch }
    this.placed.set(file.blob, placed)
    return placed
  }

  private async locate(conversation: ConversationId, message: MessageId, index: number): Promise<{ placed: Placed; row: MessageRow }> {
    const rt = this.kernel.runtime(conversation)
    const row = await this.kernel.store.getMessage(conversation, message)
    if (row === undefined || row.hidden || row.withdrawn || row.deleted) throw new HearthError('NOT_FOUND', 'no such message')
    const file = filesOf(row)[index]
    if (file === undefined) throw new HearthError('NOT_FOUND', 'that message has no such file')
    return { placed: this.place(rt, row, index, file), row }
  }

  private async emitProgress(placed: Placed, mine = false): Promise<void> {
    const view = await this.viewOf(placed.conversation, mine, placed.index, placed.file)
    this.kernel.events.emit('file.progress', {
      conversation: placed.conversation,
      message: placed.message,
      index: placed.index,
      state: view.state,
      received: view.received,
      size: placed.file.size,
      ...(view.error === undefined ? {} : { error: view.error }),
      ...(view.receivedBy === undefined ? {} : { receivedBy: view.receivedBy, recipients: view.recipients ?? 0 }),
    })
  }
}
