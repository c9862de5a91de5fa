/**
 * Base64 for the file pieces the core API carries (files.append, files.read). `btoa`/`atob` work on "binary strings",
 * so the bytes go through one in slices: a 1 MiB piece never becomes a million-argument call.
 */

const SLICE = 0x8000

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = ''
  for (let i = 0; i < bytes.length; i += SLICE) binary += String.fromCharCode(...bytes.subarray(i, i + SLICE))
  return btoa(binary)
}

/** Throws (DOMException) on text that is not base64: callers treat the core's answer as untrusted like any other. */
export function base64ToBytes(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}
