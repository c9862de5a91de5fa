import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react'
import { MAX_ATTACHMENTS_PER_MESSAGE } from '../../../node/src/api/contract.js'
import type { OutgoingFile } from './useChat.js'
import { fileName, prepareOutgoing, tooLargeText, type PrepareImage } from '../lib/outgoing-file.js'

/** A file waiting in the composer: being prepared (a photo being resized), or ready to go. */
export interface PendingFile {
  id: number
  name: string
  /** Bytes as it will be sent (known once prepared). */
  size: number
  ready: OutgoingFile | null
  /** A small preview of a prepared photo (an object URL, revoked when the file leaves the composer). */
  preview: string | null
}

export interface PendingFiles {
  files: PendingFile[]
  /** True while any photo is still being prepared: sending waits for it. */
  preparing: boolean
  /** Why the last files added were refused (too large, too many), naming them; null when none was. */
  refusal: string | null
  add(files: readonly File[]): void
  remove(id: number): void
  /** Takes the ready files out for sending (the composer empties). */
  take(): OutgoingFile[]
  /** Puts files back after a refused send. */
  restore(files: readonly OutgoingFile[]): void
  clearRefusal(): void
}

let ids = 0

export interface PendingFilesOptions {
  maxFileBytes: number
  prepare?: PrepareImage | undefined
  createUrl?: (blob: Blob) => string
  revokeUrl?: (url: string) => void
}

/** The files of the message being written. */
export function usePendingFiles({ maxFileBytes, prepare, createUrl = defaultCreate, revokeUrl = defaultRevoke }: PendingFilesOptions): PendingFiles {
  const [files, setFiles] = useState<PendingFile[]>([])
  const [refusal, setRefusal] = useState<string | null>(null)
  const current = useRef(files)
  const alive = useRef(true)
  const limit = useRef(maxFileBytes)
  useLayoutEffect(() => {
    current.current = files
    limit.current = maxFileBytes
  })

  useEffect(() => {
    alive.current = true
    return () => {
      alive.current = false
      for (const f of current.current) if (f.preview !== null) revokeUrl(f.preview)
    }
  }, [revokeUrl])

  const ready = useCallback(
    (id: number, out: OutgoingFile) => {
      if (!alive.current) return
      const refused = tooLargeText(out.name, out.blob.size, limit.current)
      if (refused !== null) {
        setRefusal(refused)
        setFiles((list) => list.filter((f) => f.id !== id))
        return
      }
      const preview = out.kind === 'image' ? safeUrl(createUrl, out.blob) : null
      setFiles((list) => {
        if (!list.some((f) => f.id === id)) {
          // Removed while it was being prepared.
          if (preview !== null) revokeUrl(preview)
          return list
        }
        return list.map((f) => (f.id === id ? { ...f, name: out.name, size: out.blob.size, ready: out, preview } : f))
      })
    },
    [createUrl, revokeUrl],
  )

  const add = useCallback(
    (picked: readonly File[]) => {
      const refusals: string[] = []
      const room = MAX_ATTACHMENTS_PER_MESSAGE - current.current.length
      if (picked.length > room) refusals.push(`A message carries at most ${MAX_ATTACHMENTS_PER_MESSAGE} files; send the others in another message.`)
      const accepted: PendingFile[] = []
      for (const file of picked.slice(0, Math.max(0, room))) {
        const name = fileName(file)
        // A photo may shrink below the limit once resized; anything else is sent as it is, so it is judged now.
        const refused = file.type.startsWith('image/') ? null : tooLargeText(name, file.size, limit.current)
        if (refused !== null) {
          refusals.push(refused)
          continue
        }
        const pending: PendingFile = { id: ++ids, name, size: file.size, ready: null, preview: null }
        accepted.push(pending)
        void prepareOutgoing(file, prepare).then((out) => ready(pending.id, out))
      }
      setRefusal(refusals.length === 0 ? null : refusals.join(' '))
      if (accepted.length === 0) return
      // Counted at once: a second drop before the next render sees these too.
      current.current = [...current.current, ...accepted]
      setFiles((list) => [...list, ...accepted])
    },
    [prepare, ready],
  )

  const remove = useCallback(
    (id: number) => {
      const file = current.current.find((f) => f.id === id)
      if (file?.preview != null) revokeUrl(file.preview)
      setFiles((list) => list.filter((f) => f.id !== id))
    },
    [revokeUrl],
  )

  const take = useCallback(() => {
    const out = current.current.flatMap((f) => (f.ready === null ? [] : [f.ready]))
    for (const f of current.current) if (f.preview !== null) revokeUrl(f.preview)
    current.current = []
    setFiles([])
    setRefusal(null)
    return out
  }, [revokeUrl])

  const restore = useCallback(
    (back: readonly OutgoingFile[]) => {
      if (!alive.current || back.length === 0) return
      const entries = back.map((out) => ({
        id: ++ids,
        name: out.name,
        size: out.blob.size,
        ready: out,
        preview: out.kind === 'image' ? safeUrl(createUrl, out.blob) : null,
      }))
      setFiles((list) => [...entries, ...list])
    },
    [createUrl],
  )

  return {
    files,
    preparing: files.some((f) => f.ready === null),
    refusal,
    add,
    remove,
    take,
    restore,
    clearRefusal: useCallback(() => setRefusal(null), []),
  }
}

function defaultCreate(blob: Blob): string {
  return URL.createObjectURL(blob)
}

function defaultRevoke(url: string): void {
  URL.revokeObjectURL(url)
}

function safeUrl(create: (blob: Blob) => string, blob: Blob): string | null {
  try {
    return create(blob)
  } catch {
    return null
  }
}
