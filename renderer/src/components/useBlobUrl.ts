import { useEffect, useState } from 'react'
import { errorText } from '../api/client.js'
import type { BlobUrlCache, FileRef } from '../lib/blob-url.js'
import { fileKey } from '../lib/blob-url.js'

/** The object URL of a complete file while the component shows it (released on unmount); null until it is read. */
export function useBlobUrl(urls: BlobUrlCache | null, ref: FileRef | null, size: number, mime: string): { url: string | null; error: string | null } {
  const key = ref === null ? null : fileKey(ref)
  const [state, setState] = useState<{ key: string | null; url: string | null; error: string | null }>({ key: null, url: null, error: null })
  useEffect(() => {
    if (urls === null || ref === null || key === null) return
    let alive = true
    const held = urls.acquire(ref, size, mime)
    held.url.then(
      (url) => alive && setState({ key, url, error: null }),
      (err: unknown) => alive && setState({ key, url: null, error: errorText(err) }),
    )
    return () => {
      alive = false
      held.release()
    }
    // `ref` is described by `key`: a new object for the same file is the same file.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [urls, key, size, mime])
  return state.key === key && key !== null ? { url: state.url, error: state.error } : { url: null, error: null }
}
