/**
 * A file the person picked, dropped or pasted, made ready to send: photos resized and stripped of their metadata
 * (image-resize.ts), everything else as it is. The size limit is checked on what will be sent, so a 30 MB photo that
 * becomes 2 MB is fine, and a file above the limit is refused here, before any byte goes to the core.
 */
import type { OutgoingFile } from '../hooks/useChat.js'
import { formatBytes } from './file-size.js'
import { prepareImage, type PreparedImage } from './image-resize.js'

export type PrepareImage = (file: Blob, name: string) => Promise<PreparedImage | null>

/** A name for a file without one (a pasted image is often called "image.png", sometimes nothing at all). */
export function fileName(file: File): string {
  const name = file.name.trim()
  return name.length > 0 ? name.slice(0, 255) : 'pasted file'
}

export async function prepareOutgoing(file: File, prepare: PrepareImage = prepareImage): Promise<OutgoingFile> {
  const name = fileName(file)
  const image = await prepare(file, name)
  if (image === null) return { blob: file, name, kind: 'file' }
  return { blob: image.blob, name: image.name, kind: 'image', width: image.width, height: image.height, thumbhash: image.thumbhash }
}

/** Why a file cannot be sent, in words naming it and its size; null when it can. */
export function tooLargeText(name: string, size: number, maxBytes: number): string | null {
  if (size <= maxBytes) return null
  return `“${name}” is ${formatBytes(size)}; Hearth sends files up to ${formatBytes(maxBytes)}. Nothing was sent.`
}
