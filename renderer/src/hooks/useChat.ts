import { useCallback, useEffect, useLayoutEffect, useReducer, useRef } from 'react'
import { isHearthError, type ErrorCode } from '../../../node/common/errors.js'
import type { Params } from '../../../node/src/api/contract.js'
import type { Api } from '../api/client.js'
import { errorText } from '../api/client.js'
import { uploadFile } from '../lib/upload.js'
import { chatReducer, initialChatState, type ChatState } from '../state/messages.js'

export const PAGE_SIZE = 100

/** Refusals about the text or files themselves (too long, a file over the limit): sending the same again gets the same answer. */
const UNSENDABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['TOO_LARGE', 'INVALID_INPUT'])

let localIds = 0

/** What a message may carry besides its text. */
export interface SendOptions {
  /** The message this one answers. */
  replyTo?: string | undefined
  /** Accounts it mentions. */
  mentions?: string[] | undefined
  /** Photos and files, ready to upload (photos already resized); the body is then their caption, perhaps empty. */
  files?: OutgoingFile[] | undefined
}

/** A file as the composer hands it over. */
export interface OutgoingFile {
  blob: Blob
  name: string
  kind: 'image' | 'file'
  width?: number | undefined
  height?: number | undefined
  thumbhash?: string | undefined
}

export interface ChatControls {
  state: ChatState
  loadOlder(): void
  /**
   * Adds an optimistic row at once and sends in the background: typing is never blocked by the network. Resolves with
   * why, when the core refused the text in a way sending it again cannot fix (too long, invalid): the row is gone then,
   * and the caller gives the text back to the person. Any other failure leaves the row with its Retry; resolves null.
   */
  send(body: string, options?: SendOptions): Promise<string | null>
  /** Sends an optimistic row the core refused again. */
  resend(localId: string): void
  discard(localId: string): void
  /** Re-publishes a message the core marked failed; resolves with an error text, or null when it went out. */
  retry(messageId: string): Promise<string | null>
}

/** One conversation's messages: the newest page, older pages on demand, and live events. */
export function useChat(api: Api, conversationId: string): ChatControls {
  const [state, dispatch] = useReducer(chatReducer, initialChatState)
  const stateRef = useRef(state)
  // Before any effect of the list below runs: a list that asks for the next page as soon as one arrived (looking for a
  // quoted message) must not be told a page is still loading.
  useLayoutEffect(() => {
    stateRef.current = state
  })

  useEffect(() => {
    let alive = true
    const offAdded = api.on('message.added', ({ conversation, message }) => {
      if (conversation === conversationId) dispatch({ type: 'upsert', message })
    })
    const offUpdated = api.on('message.updated', ({ conversation, message }) => {
      if (conversation === conversationId) dispatch({ type: 'upsert', message })
    })
    const offProgress = api.on('file.progress', ({ conversation, message, index, state, received, error, receivedBy, recipients }) => {
      if (conversation === conversationId) dispatch({ type: 'fileProgress', progress: { messageId: message, index, state, received, error, receivedBy, recipients } })
    })
    api.call('messages.page', { conversationId, limit: PAGE_SIZE }).then(
      (page) => alive && dispatch({ type: 'page', page, older: false }),
      (err: unknown) => alive && dispatch({ type: 'loadFailed', error: errorText(err) }),
    )
    return () => {
      alive = false
      offAdded()
      offUpdated()
      offProgress()
    }
  }, [api, conversationId])

  const loadOlder = useCallback(() => {
    const { nextBefore, loadingOlder, loaded } = stateRef.current
    if (!loaded || loadingOlder || nextBefore === null) return
    // Mark it at once: scroll events come faster than renders, and one page at a time is enough.
    stateRef.current = { ...stateRef.current, loadingOlder: true }
    dispatch({ type: 'loadingOlder' })
    api.call('messages.page', { conversationId, before: nextBefore, limit: PAGE_SIZE }).then(
      (page) => dispatch({ type: 'page', page, older: true }),
      (err: unknown) => dispatch({ type: 'loadFailed', error: errorText(err) }),
    )
  }, [api, conversationId])

  // What each optimistic row was sent with, so a Retry sends the same reply with the same mentions and files.
  const sentWith = useRef(new Map<string, SendOptions>())
  // The uploads in progress, by row: discarding the row stops its upload.
  const uploads = useRef(new Map<string, AbortController>())
  useEffect(() => {
    const running = uploads.current
    return () => {
      for (const controller of running.values()) controller.abort()
    }
  }, [])
  const deliver = useCallback(
    /** `giveBack`: whether the caller takes the text back when it can never be sent (the composer does). */
    async (localId: string, body: string, options: SendOptions, giveBack: boolean): Promise<string | null> => {
      const controller = new AbortController()
      uploads.current.set(localId, controller)
      try {
        const attachments = await uploadAll(api, conversationId, options.files ?? [], controller.signal, (sent) =>
          dispatch({ type: 'optimisticProgress', localId, sent }),
        )
        const message = await api.call('messages.send', { conversationId, body, ...sendExtras(options), ...(attachments.length > 0 ? { attachments } : {}) })
        sentWith.current.delete(localId)
        dispatch({ type: 'optimisticSent', localId, message })
        return null
      } catch (err) {
        // Discarded while uploading: the row is gone already.
        if (controller.signal.aborted) return null
        if (giveBack && isHearthError(err) && UNSENDABLE.has(err.code)) {
          // A Retry could never work: the text goes back to the composer instead of sitting here.
          sentWith.current.delete(localId)
          dispatch({ type: 'optimisticDiscarded', localId })
          return errorText(err)
        }
        dispatch({ type: 'optimisticFailed', localId, error: errorText(err) })
        return null
      } finally {
        if (uploads.current.get(localId) === controller) uploads.current.delete(localId)
      }
    },
    [api, conversationId],
  )

  const send = useCallback(
    (body: string, options: SendOptions = {}) => {
      const localId = `${Date.now().toString(36)}-${++localIds}`
      sentWith.current.set(localId, options)
      const files = options.files?.map((f) => ({ name: f.name, size: f.blob.size, kind: f.kind }))
      dispatch({ type: 'optimisticAdded', localId, body, at: Date.now(), ...(files === undefined ? {} : { files }) })
      return deliver(localId, body, options, true)
    },
    [deliver],
  )

  const resend = useCallback(
    (localId: string) => {
      const row = stateRef.current.optimistic.find((o) => o.localId === localId)
      if (row === undefined) return
      dispatch({ type: 'optimisticRetried', localId })
      void deliver(localId, row.body, sentWith.current.get(localId) ?? {}, false)
    },
    [deliver],
  )

  const discard = useCallback((localId: string) => {
    uploads.current.get(localId)?.abort()
    uploads.current.delete(localId)
    sentWith.current.delete(localId)
    dispatch({ type: 'optimisticDiscarded', localId })
  }, [])

  const retry = useCallback(
    async (messageId: string) => {
      try {
        dispatch({ type: 'upsert', message: await api.call('messages.retry', { conversationId, messageId }) })
        return null
      } catch (err) {
        return errorText(err)
      }
    },
    [api, conversationId],
  )

  return { state, loadOlder, send, resend, discard, retry }
}

type AttachmentParam = NonNullable<Params<'messages.send'>['attachments']>[number]

/**
 * Uploads the files one after the other (the core stores each as it comes; in parallel they would only compete for
 * the same disk and connection) and reports the bytes of all of them taken so far.
 */
async function uploadAll(api: Api, conversationId: string, files: OutgoingFile[], signal: AbortSignal, onSent: (sent: number) => void): Promise<AttachmentParam[]> {
  const out: AttachmentParam[] = []
  let before = 0
  for (const file of files) {
    const uploadId = await uploadFile(api, conversationId, file.name, file.blob, { signal, onProgress: (sent) => onSent(before + sent) })
    before += file.blob.size
    const param: AttachmentParam = { uploadId, kind: file.kind }
    if (file.width !== undefined) param.width = file.width
    if (file.height !== undefined) param.height = file.height
    if (file.thumbhash !== undefined) param.thumbhash = file.thumbhash
    out.push(param)
  }
  return out
}

/** The optional fields as the contract takes them: absent, never undefined or empty. */
function sendExtras(options: SendOptions): { replyTo?: string; mentions?: string[] } {
  return {
    ...(options.replyTo === undefined ? {} : { replyTo: options.replyTo }),
    ...(options.mentions === undefined || options.mentions.length === 0 ? {} : { mentions: options.mentions }),
  }
}
