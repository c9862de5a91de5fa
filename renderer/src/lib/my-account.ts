import { useEffect, useState } from 'react'
import type { Api } from '../api/client.js'

// One question per connection, shared by every row that needs to know which reactions are mine.
const asked = new WeakMap<Api, Promise<string>>()

/** This identity's account, once the core has said it (null before, or without an API in component tests). */
export function useMyAccount(api: Api | null): string | null {
  const [account, setAccount] = useState<string | null>(null)
  useEffect(() => {
    if (api === null) return
    let alive = true
    let question = asked.get(api)
    if (question === undefined) {
      question = api.call('identity.whoami').then((w) => w.account)
      // A failed answer is asked again by the next row rather than remembered.
      question.catch(() => asked.delete(api))
      asked.set(api, question)
    }
    question.then((a) => alive && setAccount(a), () => {})
    return () => {
      alive = false
    }
  }, [api])
  return account
}
